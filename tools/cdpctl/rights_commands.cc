#include "tools/cdpctl/rights_commands.h"

#include <cstdio>
#include <fstream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/strings/str_split.h"
#include "cdp/v1/rights.grpc.pb.h"
#include "consent/receipt.h"
#include "services/common/proto_time.h"
#include "tools/cdpctl/call.h"

ABSL_DECLARE_FLAG(std::string, channel);
ABSL_DECLARE_FLAG(std::string, acting_party);
ABSL_DECLARE_FLAG(std::string, idempotency_key);
ABSL_DECLARE_FLAG(std::string, language);
ABSL_DECLARE_FLAG(std::string, receipt_out);
ABSL_DECLARE_FLAG(std::string, source);
ABSL_FLAG(std::string, out_dir, "", "rights export: directory to write CUSTOMER.html and CUSTOMER.json");
ABSL_FLAG(std::string, purposes, "", "rights restrict: comma-separated purposes (empty: every purpose)");
ABSL_FLAG(bool, lift, false, "rights restrict: lift the restriction instead");
ABSL_FLAG(int64_t, after_seq, 0, "rights watch-erasures: start after this erasure (the last one handled)");
ABSL_FLAG(bool, follow, false, "rights watch-erasures: keep watching for new erasures (else stop when caught up)");

namespace cdp::cdpctl {
namespace {

int Usage(const std::string& why) {
  std::fprintf(stderr, "cdpctl: %s\n%s", why.c_str(), kRightsUsage);
  return 2;
}

bool Party(v1::ActingParty* party) { return ParseActingParty(absl::GetFlag(FLAGS_acting_party), party); }

bool Write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  return static_cast<bool>(out);
}

}  // namespace

int RunRightsCommand(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel) {
  if (args.size() == 2 && args[1] == "watch-erasures") {
    auto stub = v1::RightsService::NewStub(channel);
    grpc::ClientContext ctx;
    v1::WatchErasuresRequest r;
    r.set_after_seq(absl::GetFlag(FLAGS_after_seq));
    r.set_source_system(absl::GetFlag(FLAGS_source));
    auto stream = stub->WatchErasures(&ctx, r);
    v1::ErasureNotice n;
    int64_t shown = 0;
    while (stream->Read(&n)) {
      if (n.seq() == 0) {  // a heartbeat: caught up
        if (!absl::GetFlag(FLAGS_follow)) {
          ctx.TryCancel();
          break;
        }
        continue;
      }
      std::string records;
      for (const auto& ref : n.source_records()) absl::StrAppend(&records, " ", ref.source_system(), "/", ref.record_id());
      std::printf("%lld %s erased %s; delete:%s\n", static_cast<long long>(n.seq()), n.customer_id().c_str(),
                  absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", FromProtoTime(n.erased_at()), absl::UTCTimeZone()).c_str(),
                  records.empty() ? " nothing from this source" : records.c_str());
      std::fflush(stdout);
      ++shown;
    }
    grpc::Status s = stream->Finish();
    if (!s.ok() && s.error_code() != grpc::StatusCode::CANCELLED) return Refused(s);
    std::fprintf(stderr, "%lld erasures\n", static_cast<long long>(shown));
    return 0;
  }
  if (args.size() != 3) return Usage("rights export|restrict|erase CUSTOMER, or rights watch-erasures");
  auto stub = v1::RightsService::NewStub(channel);
  const std::string& customer = args[2];
  if (args[1] == "export") {
    const std::string dir = absl::GetFlag(FLAGS_out_dir);
    if (dir.empty()) return Usage("rights export: --out_dir is required");
    v1::ExportMyDataRequest r;
    r.set_customer_id(customer);
    r.set_language(absl::GetFlag(FLAGS_language));
    if (!Party(r.mutable_acting_party())) return Usage("--acting_party: KIND[:ID]");
    v1::ExportMyDataResponse out;
    auto ctx = CallContext(120);
    grpc::Status s = stub->ExportMyData(ctx.get(), r, &out);
    if (!s.ok()) return Refused(s);
    const std::string base = dir + "/" + customer;
    if (!Write(base + ".html", out.html()) || !Write(base + ".json", out.json())) {
      std::fprintf(stderr, "cdpctl: cannot write into %s\n", dir.c_str());
      return 1;
    }
    std::printf("wrote %s.html and %s.json\n", base.c_str(), base.c_str());
    return 0;
  }
  if (args[1] == "restrict") {
    v1::RestrictProcessingRequest r;
    r.set_customer_id(customer);
    r.set_restrict(!absl::GetFlag(FLAGS_lift));
    for (absl::string_view p : absl::StrSplit(absl::GetFlag(FLAGS_purposes), ',', absl::SkipEmpty())) {
      r.add_purposes(std::string(p));
    }
    v1::Channel channel_kind;
    if (!v1::Channel_Parse(absl::AsciiStrToUpper(absl::GetFlag(FLAGS_channel)), &channel_kind)) {
      return Usage("--channel: portal, phone, chat, email or api");
    }
    r.set_channel(channel_kind);
    if (!Party(r.mutable_acting_party())) return Usage("--acting_party: KIND[:ID]");
    const std::string key = absl::GetFlag(FLAGS_idempotency_key);
    r.set_idempotency_key(key.empty() ? consent::NewUuid() : key);
    v1::RestrictProcessingResponse out;
    auto ctx = CallContext();
    grpc::Status s = stub->RestrictProcessing(ctx.get(), r, &out);
    if (!s.ok()) return Refused(s);
    std::printf("%s for %s (consent version %lld, receipt %s)\n",
                r.restrict() ? "processing restricted" : "restriction lifted",
                r.purposes().empty() ? "every purpose" : absl::GetFlag(FLAGS_purposes).c_str(),
                static_cast<long long>(out.consent_version()), out.receipt().receipt_id().c_str());
    return 0;
  }
  if (args[1] == "erase") {
    v1::EraseCustomerRequest r;
    r.set_customer_id(customer);
    v1::Channel channel_kind;
    if (!v1::Channel_Parse(absl::AsciiStrToUpper(absl::GetFlag(FLAGS_channel)), &channel_kind)) {
      return Usage("--channel: portal, phone, chat, email or api");
    }
    r.set_channel(channel_kind);
    if (!Party(r.mutable_acting_party())) return Usage("--acting_party: KIND[:ID]");
    v1::EraseCustomerResponse out;
    auto ctx = CallContext(120);
    grpc::Status s = stub->EraseCustomer(ctx.get(), r, &out);
    if (!s.ok()) return Refused(s);
    std::printf("%s\n", out.receipt_json().c_str());
    if (const std::string file = absl::GetFlag(FLAGS_receipt_out); !file.empty()) {
      if (!Write(file, out.receipt_signature() + "\n")) {
        std::fprintf(stderr, "cdpctl: cannot write %s\n", file.c_str());
        return 1;
      }
      std::fprintf(stderr, "signed receipt written to %s (key %s)\n", file.c_str(), out.key_id().c_str());
    }
    return 0;
  }
  return Usage("rights: export, restrict, erase or watch-erasures");
}

}  // namespace cdp::cdpctl
