#include "tools/cdpctl/consent_commands.h"

#include <optional>

#include <cstdio>
#include <fstream>

#include "absl/flags/flag.h"
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "consent/receipt.h"
#include "services/common/proto_time.h"
#include "services/common/file_util.h"
#include "tools/cdpctl/call.h"

ABSL_FLAG(std::string, channel, "api",
          "consent set: how the customer's instruction arrived: portal, phone, chat, email, api");
ABSL_FLAG(std::string, acting_party, "human_agent:cdpctl",
          "consent set: who records it, KIND[:ID]; KIND is data_subject, human_agent, bot or "
          "automated_system");
ABSL_FLAG(std::string, idempotency_key, "",
          "consent set: retry-safe key (default: a new random one per run)");
ABSL_FLAG(int64_t, expected_version, 0,
          "consent set: refuse unless the customer's consent is at this version (0: any)");
ABSL_FLAG(std::string, expires_at, "",
          "consent set: the choices lapse at this UTC date (YYYY-MM-DD, the start of that day) or "
          "RFC 3339 time; unlike --expires_in the same command gives the same request again");
ABSL_FLAG(absl::Duration, expires_in, absl::ZeroDuration(),
          "consent set: the choices lapse after this long (e.g. 8760h); 0: never");
ABSL_FLAG(std::string, language, "nl", "consent set: language of the receipt, nl or en");
ABSL_FLAG(std::string, receipt_out, "", "consent set, rights erase: also write the signed receipt (JWS) here");
ABSL_FLAG(std::string, public_key, "",
          "verify-receipt: PEM public key to check against (default: ask the consent service)");
ABSL_FLAG(int, page_size, 50, "consent history: entries per page");
ABSL_FLAG(bool, all_cells, false, "consent show: also list cells outside each purpose's scope");

namespace cdp::cdpctl {

const char kConsentUsage[] =
    "  consent register ID...      make consent records for customers (idempotent)\n"
    "  consent show ID             the customer's effective matrix: per purpose and field,\n"
    "                              allowed or not and why\n"
    "  consent set ID CHOICE...    record the customer's choices atomically; CHOICE is\n"
    "                              PURPOSE/FIELD=allow|deny or PURPOSE/category:NAME=allow|deny,\n"
    "                              e.g. direct-marketing/email=deny (see --channel,\n"
    "                              --acting_party, --expires_in or --expires_at, --receipt_out)\n"
    "  consent history ID          the customer's changes, newest first (--page_size)\n"
    "  verify-receipt FILE         check a consent receipt (JWS) against the service's key\n"
    "                              or --public_key, and print what it says\n";

namespace {

constexpr int kFailed = 1;
constexpr int kUsage = 2;

int Usage(const std::string& message) {
  std::fprintf(stderr, "cdpctl: %s\n", message.c_str());
  return kUsage;
}

std::string Time(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", FromProtoTime(t), absl::UTCTimeZone());
}

std::string Lower(const std::string& s) { return absl::AsciiStrToLower(s); }

bool ParseChoice(const std::string& text, v1::ConsentChoice* choice, std::string* error) {
  std::vector<std::string> kv = absl::StrSplit(text, absl::MaxSplits('=', 1));
  std::vector<std::string> target =
      kv.empty() ? std::vector<std::string>{} : absl::StrSplit(kv[0], absl::MaxSplits('/', 1));
  if (kv.size() != 2 || target.size() != 2 || (kv[1] != "allow" && kv[1] != "deny")) {
    *error = absl::StrCat("choice '", text, "': write PURPOSE/FIELD=allow|deny or PURPOSE/category:NAME=allow|deny");
    return false;
  }
  choice->set_purpose(target[0]);
  if (absl::StartsWith(target[1], "category:")) {
    choice->set_category(target[1].substr(9));
  } else {
    choice->set_field(target[1]);
  }
  choice->set_allow(kv[1] == "allow");
  return true;
}

int Register(v1::ConsentService::Stub& stub, const std::vector<std::string>& ids) {
  v1::RegisterCustomersRequest r;
  for (const auto& id : ids) r.add_customer_ids(id);
  v1::RegisterCustomersResponse response;
  grpc::Status s = stub.RegisterCustomers(CallContext().get(), r, &response);
  if (!s.ok()) return Refused(s);
  std::printf("registered %d new of %zu\n", response.registered(), ids.size());
  return 0;
}

int Show(v1::ConsentService::Stub& stub, const std::string& id) {
  v1::GetConsentRequest r;
  r.set_customer_id(id);
  v1::ConsentState state;
  grpc::Status s = stub.GetConsent(CallContext().get(), r, &state);
  if (!s.ok()) return Refused(s);
  std::printf("customer %s: consent version %lld, catalog %s\n", state.customer_id().c_str(),
              static_cast<long long>(state.version()), state.catalog_version().c_str());
  // Group by purpose for reading: the cells come field-major.
  std::vector<std::string> purposes;
  for (const auto& cell : state.cells()) {
    if (std::find(purposes.begin(), purposes.end(), cell.purpose()) == purposes.end()) {
      purposes.push_back(cell.purpose());
    }
  }
  for (const std::string& p : purposes) {
    bool header = false;
    for (const v1::ConsentCell& cell : state.cells()) {
      if (cell.purpose() != p) continue;
      if (cell.rule() == "outside_purpose_scope" && !absl::GetFlag(FLAGS_all_cells)) continue;
      if (!header) {
        std::printf("\n%s (%s)\n", p.c_str(), Lower(v1::LegalBasis_Name(cell.legal_basis())).c_str());
        header = true;
      }
      std::string why = cell.rule();
      if (cell.has_choice()) {
        absl::StrAppend(&why, ", ", Lower(v1::Channel_Name(cell.choice().channel())), " ",
                        Time(cell.choice().given_at()));
        if (cell.choice().has_expires_at()) absl::StrAppend(&why, ", until ", Time(cell.choice().expires_at()));
      }
      std::printf("  %-24s %-5s %s\n", cell.field().c_str(), cell.allow() ? "allow" : "deny",
                  why.c_str());
    }
  }
  return 0;
}

int Set(v1::ConsentService::Stub& stub, const std::string& id,
        const std::vector<std::string>& choices) {
  v1::UpdateConsentRequest r;
  r.set_customer_id(id);
  std::optional<absl::Time> expires;
  if (absl::Duration d = absl::GetFlag(FLAGS_expires_in); d > absl::ZeroDuration()) expires = absl::Now() + d;
  if (const std::string at = absl::GetFlag(FLAGS_expires_at); !at.empty()) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime("%Y-%m-%d", at, absl::UTCTimeZone(), &t, &err) &&
        !absl::ParseTime(absl::RFC3339_full, at, &t, &err)) {
      return Usage("--expires_at: a date (2026-12-31) or an RFC 3339 time");
    }
    if (expires) return Usage("--expires_at and --expires_in: one of them");
    expires = t;
  }
  for (const std::string& text : choices) {
    std::string error;
    if (!ParseChoice(text, r.add_choices(), &error)) return Usage(error);
    if (expires) *r.mutable_choices(r.choices_size() - 1)->mutable_expires_at() = ToProtoTime(*expires);
  }
  v1::Channel channel;
  if (!v1::Channel_Parse(absl::AsciiStrToUpper(absl::GetFlag(FLAGS_channel)), &channel)) {
    return Usage("--channel: portal, phone, chat, email or api");
  }
  r.set_channel(channel);
  if (!ParseActingParty(absl::GetFlag(FLAGS_acting_party), r.mutable_acting_party())) {
    return Usage("--acting_party: KIND[:ID] with KIND data_subject, human_agent, bot or automated_system");
  }
  std::string key = absl::GetFlag(FLAGS_idempotency_key);
  r.set_idempotency_key(key.empty() ? consent::NewUuid() : key);
  r.set_expected_version(absl::GetFlag(FLAGS_expected_version));
  r.set_language(absl::GetFlag(FLAGS_language));
  v1::UpdateConsentResponse response;
  grpc::Status s = stub.UpdateConsent(CallContext().get(), r, &response);
  if (!s.ok()) return Refused(s);
  std::printf("customer %s: consent version %lld, receipt %s\n", id.c_str(),
              static_cast<long long>(response.version()), response.receipt().receipt_id().c_str());
  if (std::string out = absl::GetFlag(FLAGS_receipt_out); !out.empty()) {
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    f << response.receipt().jws() << "\n";
    if (!f) return Usage(absl::StrCat("--receipt_out ", out, ": cannot write"));
  }
  return 0;
}

int History(v1::ConsentService::Stub& stub, const std::string& id) {
  v1::ListConsentHistoryRequest r;
  r.set_customer_id(id);
  r.mutable_page()->set_page_size(absl::GetFlag(FLAGS_page_size));
  while (true) {
    v1::ListConsentHistoryResponse page;
    grpc::Status s = stub.ListConsentHistory(CallContext().get(), r, &page);
    if (!s.ok()) return Refused(s);
    for (const v1::ConsentChange& c : page.changes()) {
      std::printf("v%-4lld %s  %-6s %s%s%s  (%s)\n", static_cast<long long>(c.version()),
                  Time(c.changed_at()).c_str(), Lower(v1::Channel_Name(c.channel())).c_str(),
                  Lower(v1::ActingParty::Kind_Name(c.acting_party().kind())).c_str(),
                  c.acting_party().id().empty() ? "" : ":", c.acting_party().id().c_str(),
                  c.caller().c_str());
      if (c.version() == 0) std::printf("       registered\n");
      for (const v1::ConsentChoice& choice : c.choices()) {
        std::printf("       %s/%s%s = %s\n", choice.purpose().c_str(),
                    choice.field().empty() ? "category:" : "",
                    choice.field().empty() ? choice.category().c_str() : choice.field().c_str(),
                    choice.allow() ? "allow" : "deny");
      }
    }
    if (page.next_page_token().empty()) return 0;
    r.mutable_page()->set_page_token(page.next_page_token());
  }
}

int VerifyReceipt(const std::shared_ptr<grpc::Channel>& channel, const std::string& file) {
  absl::StatusOr<std::string> text = ReadWholeFile(file);
  if (!text.ok()) return Usage(std::string(text.status().message()));
  std::string jws(absl::StripAsciiWhitespace(*text));
  std::string pem;
  if (std::string key_file = absl::GetFlag(FLAGS_public_key); !key_file.empty()) {
    absl::StatusOr<std::string> key = ReadWholeFile(key_file);
    if (!key.ok()) return Usage(absl::StrCat("--public_key ", key.status().message()));
    pem = *key;
  } else {
    if (channel == nullptr) return Usage("give --public_key or the service's --tls_* flags");
    auto stub = v1::ConsentService::NewStub(channel);
    v1::ReceiptKey key;
    grpc::Status s = stub->GetReceiptKey(CallContext().get(), v1::GetReceiptKeyRequest(), &key);
    if (!s.ok()) return Refused(s);
    pem = key.public_key_pem();
  }
  auto payload = consent::VerifyJws(jws, pem);
  if (!payload.ok()) {
    std::fprintf(stderr, "cdpctl: %s: NOT VALID: %s\n", file.c_str(),
                 std::string(payload.status().message()).c_str());
    return kFailed;
  }
  std::printf("%s: valid signature\n%s\n", file.c_str(), payload->c_str());
  return 0;
}

}  // namespace

int RunConsentCommand(const std::vector<std::string>& args,
                      const std::shared_ptr<grpc::Channel>& channel) {
  if (args[0] == "verify-receipt") {
    if (args.size() != 2) return Usage("verify-receipt needs exactly one FILE");
    return VerifyReceipt(channel, args[1]);
  }
  if (args.size() < 3) return Usage("consent needs a subcommand and a customer id; see --help");
  const std::string& sub = args[1];
  auto stub = v1::ConsentService::NewStub(channel);
  if (sub == "register") return Register(*stub, {args.begin() + 2, args.end()});
  if (args.size() > 3 && sub != "set") return Usage(absl::StrCat("consent ", sub, " takes one customer id"));
  if (sub == "show") return Show(*stub, args[2]);
  if (sub == "history") return History(*stub, args[2]);
  if (sub == "set") {
    if (args.size() < 4) return Usage("consent set needs a customer id and at least one CHOICE");
    return Set(*stub, args[2], {args.begin() + 3, args.end()});
  }
  return Usage(absl::StrCat("unknown consent subcommand '", sub, "' (register, show, set, history)"));
}

}  // namespace cdp::cdpctl
