// cdpctl rights ...: a customer's requests under the GDPR, through the rights service.
#ifndef CDP_TOOLS_CDPCTL_RIGHTS_COMMANDS_H_
#define CDP_TOOLS_CDPCTL_RIGHTS_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"

namespace cdp::cdpctl {

inline constexpr char kRightsUsage[] =
    "  rights export CUSTOMER --out_dir=DIR [--language=en]\n"
    "             the answer to an access request: DIR/CUSTOMER.html and DIR/CUSTOMER.json\n"
    "  rights restrict CUSTOMER [--purposes=a,b] [--lift] [--channel=phone] [--acting_party=...]\n"
    "             restrict processing for every purpose or the named ones, or lift it\n"
    "  rights erase CUSTOMER [--channel=phone] [--acting_party=...] [--receipt_out=FILE]\n"
    "             erase the customer everywhere (Art. 17); prints what went and what the law keeps,\n"
    "             writes the signed receipt (JWS) to FILE. Asked again: the same receipt\n"
    "  rights watch-erasures [--after_seq=N] [--source=crm] [--follow]\n"
    "             completed erasures, one line each with the source records to delete\n";

// `rights <sub> ...` (args[0] == "rights"). Exit code: 0 done, 1 refused, 2 bad usage.
int RunRightsCommand(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel);

}  // namespace cdp::cdpctl

#endif  // CDP_TOOLS_CDPCTL_RIGHTS_COMMANDS_H_
