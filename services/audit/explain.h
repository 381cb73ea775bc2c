// Plain-language explanations of access events for the customer they are about, in Dutch
// or English, rendered from the event and the catalog (never stored: the entry is the
// fact, the sentence is how we tell it).
//
//   "Op 12 november om 14:03 heeft een medewerker van de klantenservice (een mens) uw
//    e-mailadres bekeken. Doel: Klantenservice door een medewerker, op uw verzoek
//    (ticket-123). Grondslag: Overeenkomst. Niet getoond: uw geboortedatum (u heeft dit
//    uitgezet)."
#ifndef CDP_SERVICES_AUDIT_EXPLAIN_H_
#define CDP_SERVICES_AUDIT_EXPLAIN_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "cdp/v1/audit.pb.h"
#include "consent/catalog.h"

namespace cdp::audit {

// `language` "nl" (the default for anything else) or "en"; times in `zone`.
std::string Explain(const consent::Catalog& catalog, const v1::AccessEvent& event, std::string_view language,
                    absl::TimeZone zone);

}  // namespace cdp::audit

#endif  // CDP_SERVICES_AUDIT_EXPLAIN_H_
