#include "tools/cdpctl/log_commands.h"

#include <cstdio>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cdp/v1/audit.grpc.pb.h"
#include "cdp/v1/profile.grpc.pb.h"
#include "services/audit/access_log.h"
#include "services/audit/merkle.h"
#include "services/common/file_util.h"
#include "services/common/proto_time.h"
#include "tools/cdpctl/call.h"

ABSL_DECLARE_FLAG(std::string, acting_party);
ABSL_DECLARE_FLAG(std::string, language);
ABSL_DECLARE_FLAG(std::string, public_key);
ABSL_FLAG(std::string, purpose, "", "read: the purpose of the read (required)");
ABSL_FLAG(std::string, fields, "", "read: comma-separated fields (empty: every field)");
ABSL_FLAG(std::string, justification, "customer_request",
          "read: CODE[:REFERENCE], e.g. customer_request:ticket-123 or order_fulfilment:order-9");
ABSL_FLAG(bool, lineage, false, "read: also show where each released value came from");
ABSL_FLAG(std::string, customer, "", "log prove: the customer the event is about, to check its content too");

namespace cdp::cdpctl {

const char kLogUsage[] =
    "  read PROFILE_ID --purpose=P [--fields=a,b] [--acting_party=KIND:ID] [--justification=CODE:REF]\n"
    "       [--lineage]\n"
    "                               a consent-enforced read as the service in --tls_cert\n"
    "                               (--target of the profile service, 127.0.0.1:7103 locally)\n"
    "  log head                     the access log's latest signed tree head\n"
    "  log events CUSTOMER          the customer's accesses, newest first, explained (--language);\n"
    "                               an auditor's query: give --justification=CODE:REF (it is logged)\n"
    "  log verify                   recompute the whole log and check every signed head (auditors)\n"
    "  log prove POSITION [--customer=ID] [--public_key=FILE]\n"
    "                               check here that the event is in the signed log; with\n"
    "                               --customer also that the event is the one listed for them\n"
    "  log consistent SIZE ROOT_HEX [--public_key=FILE]\n"
    "                               check that the current signed log extends an earlier head\n"
    "                               (--target of the audit service, 127.0.0.1:7104 locally)\n";

namespace {

using audit::HashFromBytes;

std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }


std::vector<audit::Hash> ToHashes(const google::protobuf::RepeatedPtrField<std::string>& list) {
  std::vector<audit::Hash> out;
  for (const std::string& h : list) out.push_back(HashFromBytes(h));
  return out;
}

// The latest head, its signature checked against --public_key (or, without it, against the
// key the log sends, said so).
bool TrustedHead(v1::AuditService::Stub& stub, v1::SignedTreeHead* head) {
  auto ctx = CallContext();
  grpc::Status s = stub.GetSignedTreeHead(ctx.get(), v1::GetSignedTreeHeadRequest(), head);
  if (!s.ok()) return Refused(s) == 0;
  std::string key = head->public_key_pem();
  if (const std::string file = absl::GetFlag(FLAGS_public_key); !file.empty()) {
    auto pem = ReadWholeFile(file);
    if (!pem.ok()) {
      std::fprintf(stderr, "cdpctl: --public_key: %s\n", std::string(pem.status().message()).c_str());
      return false;
    }
    key = *pem;
  } else {
    std::fprintf(stderr, "cdpctl: note: checking the head with the key the log sent; give --public_key to "
                         "check it against a key you trust\n");
  }
  if (!audit::TreeHeadSigned(head->signature(), head->tree_size(), HashFromBytes(head->root_hash()),
                             FromProtoTime(head->timestamp()), key)) {
    std::fprintf(stderr, "NOT VERIFIED: the tree head's signature does not check out\n");
    return false;
  }
  return true;
}

int Read(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel) {
  if (args.size() != 2 || absl::GetFlag(FLAGS_purpose).empty()) {
    std::fprintf(stderr, "cdpctl: read PROFILE_ID --purpose=P [--fields=a,b]\n");
    return 2;
  }
  v1::GetProfileRequest req;
  req.set_profile_id(args[1]);
  auto* ctx = req.mutable_context();
  ctx->set_purpose(absl::GetFlag(FLAGS_purpose));
  for (absl::string_view f : absl::StrSplit(absl::GetFlag(FLAGS_fields), ',', absl::SkipEmpty())) {
    ctx->mutable_read_mask()->add_paths(std::string(f));
  }
  std::vector<std::string> party = absl::StrSplit(absl::GetFlag(FLAGS_acting_party), absl::MaxSplits(':', 1));
  v1::ActingParty::Kind kind;
  if (party.empty() || !v1::ActingParty::Kind_Parse(absl::AsciiStrToUpper(party[0]), &kind)) {
    std::fprintf(stderr, "cdpctl: --acting_party: human_agent, bot or automated_system, then :ID\n");
    return 2;
  }
  ctx->mutable_acting_party()->set_kind(kind);
  ctx->mutable_acting_party()->set_id(party.size() == 2 ? party[1] : "cdpctl");
  std::vector<std::string> why = absl::StrSplit(absl::GetFlag(FLAGS_justification), absl::MaxSplits(':', 1));
  v1::Justification::Code code;
  if (why.empty() || !v1::Justification::Code_Parse(absl::AsciiStrToUpper(why[0]), &code)) {
    std::fprintf(stderr, "cdpctl: --justification: customer_request, order_fulfilment, billing_run, fraud_alert, "
                         "legal_request, scheduled_processing or service_improvement, then :REFERENCE\n");
    return 2;
  }
  ctx->mutable_justification()->set_code(code);
  if (why.size() == 2) ctx->mutable_justification()->set_reference(why[1]);
  ctx->set_include_lineage(absl::GetFlag(FLAGS_lineage));
  auto call = CallContext();
  v1::ProfileView view;
  grpc::Status s = v1::ProfileService::NewStub(channel)->GetProfile(call.get(), req, &view);
  if (!s.ok()) return Refused(s);
  std::printf("profile %s  (consent version %lld, access event %s at position %lld)\n", view.profile_id().c_str(),
              static_cast<long long>(view.consent_version()), view.access_event_id().c_str(),
              static_cast<long long>(view.access_event_position()));
  std::map<std::string, std::string> fields(view.fields().begin(), view.fields().end());
  for (const auto& [k, v] : fields) {
    std::printf("  %-24s %s", k.c_str(), v.c_str());
    if (auto l = view.lineage().find(k); l != view.lineage().end()) {
      std::printf("   [%s %s, %s]", l->second.source_system().c_str(), l->second.record_id().c_str(),
                  l->second.rule().c_str());
    }
    std::printf("\n");
  }
  for (const auto& w : view.withheld()) std::printf("  %-24s (withheld: %s)\n", w.field().c_str(), w.reason().c_str());
  return 0;
}

// An auditor's query for one customer's events, with the reason from --justification (the
// look is logged).
bool CustomerQuery(const std::string& customer, v1::QueryAccessEventsRequest* req) {
  req->set_customer_id(customer);
  req->set_language(absl::GetFlag(FLAGS_language));
  std::vector<std::string> why = absl::StrSplit(absl::GetFlag(FLAGS_justification), absl::MaxSplits(':', 1));
  v1::Justification::Code code;
  if (why.empty() || !v1::Justification::Code_Parse(absl::AsciiStrToUpper(why[0]), &code)) {
    std::fprintf(stderr, "cdpctl: --justification: why you look, CODE[:REFERENCE] (e.g. legal_request:case-1)\n");
    return false;
  }
  req->mutable_justification()->set_code(code);
  if (why.size() == 2) req->mutable_justification()->set_reference(why[1]);
  return true;
}

int Events(v1::AuditService::Stub& stub, const std::string& customer) {
  v1::QueryAccessEventsRequest req;
  if (!CustomerQuery(customer, &req)) return 2;
  int shown = 0;
  do {
    auto ctx = CallContext();
    v1::ListAccessEventsResponse page;
    grpc::Status s = stub.QueryAccessEvents(ctx.get(), req, &page);
    if (!s.ok()) return Refused(s);
    for (const auto& e : page.events()) {
      std::printf("#%lld  %s\n", static_cast<long long>(e.position()), e.explanation().c_str());
      ++shown;
    }
    req.mutable_page()->set_page_token(page.next_page_token());
  } while (!req.page().page_token().empty());
  if (shown == 0) std::printf("no accesses logged for %s\n", customer.c_str());
  return 0;
}

int Prove(v1::AuditService::Stub& stub, const std::string& position_text) {
  int64_t position = 0;
  if (!absl::SimpleAtoi(position_text, &position) || position < 0) {
    std::fprintf(stderr, "cdpctl: log prove POSITION: a position is a number from 0\n");
    return 2;
  }
  v1::SignedTreeHead head;
  if (!TrustedHead(stub, &head)) return 1;
  auto ctx = CallContext();
  v1::GetInclusionProofRequest req;
  req.set_position(position);
  req.set_tree_size(head.tree_size());
  v1::InclusionProof proof;
  grpc::Status s = stub.GetInclusionProof(ctx.get(), req, &proof);
  if (!s.ok()) return Refused(s);
  audit::Hash leaf = HashFromBytes(proof.leaf_hash());
  if (const std::string customer = absl::GetFlag(FLAGS_customer); !customer.empty()) {
    // The event as listed for the customer: its own hash, not the one the log sent.
    v1::QueryAccessEventsRequest list;
    if (!CustomerQuery(customer, &list)) return 2;
    bool found = false;
    do {
      auto c = CallContext();
      v1::ListAccessEventsResponse page;
      grpc::Status ls = stub.QueryAccessEvents(c.get(), list, &page);
      if (!ls.ok()) return Refused(ls);
      for (const auto& e : page.events()) {
        if (e.position() == position) {
          leaf = audit::LeafHash(audit::EntryOf(e));
          found = true;
        }
      }
      list.mutable_page()->set_page_token(found ? "" : page.next_page_token());
    } while (!list.page().page_token().empty());
    if (!found) {
      std::fprintf(stderr, "NOT VERIFIED: no event at position %lld for %s\n", static_cast<long long>(position),
                   customer.c_str());
      return 1;
    }
  }
  if (!audit::VerifyInclusion(leaf, position, head.tree_size(), ToHashes(proof.hashes()), HashFromBytes(head.root_hash()))) {
    std::fprintf(stderr, "NOT VERIFIED: event %lld is not in the signed log of size %lld\n",
                 static_cast<long long>(position), static_cast<long long>(head.tree_size()));
    return 1;
  }
  std::printf("VERIFIED: event %lld is in the log of %lld events signed at %s (root %s, key %s)\n",
              static_cast<long long>(position), static_cast<long long>(head.tree_size()),
              absl::FormatTime(absl::RFC3339_sec, FromProtoTime(head.timestamp()), absl::UTCTimeZone()).c_str(),
              Hex(head.root_hash()).c_str(), head.key_id().c_str());
  return 0;
}

int Consistent(v1::AuditService::Stub& stub, const std::string& size_text, const std::string& root_hex) {
  int64_t first = 0;
  std::string root_bytes = absl::HexStringToBytes(root_hex);
  if (!absl::SimpleAtoi(size_text, &first) || first <= 0 || root_bytes.size() != 32) {
    std::fprintf(stderr, "cdpctl: log consistent SIZE ROOT_HEX: an earlier head's size and its 64-hex-digit root\n");
    return 2;
  }
  v1::SignedTreeHead head;
  if (!TrustedHead(stub, &head)) return 1;
  auto ctx = CallContext();
  v1::GetConsistencyProofRequest req;
  req.set_first_size(first);
  req.set_second_size(head.tree_size());
  v1::ConsistencyProof proof;
  grpc::Status s = stub.GetConsistencyProof(ctx.get(), req, &proof);
  if (!s.ok()) return Refused(s);
  if (!audit::VerifyConsistency(first, head.tree_size(), HashFromBytes(root_bytes), HashFromBytes(head.root_hash()),
                                ToHashes(proof.hashes()))) {
    std::fprintf(stderr, "NOT VERIFIED: the log of %lld events does not extend the earlier head of %lld\n",
                 static_cast<long long>(head.tree_size()), static_cast<long long>(first));
    return 1;
  }
  std::printf("VERIFIED: the signed log of %lld events extends the head of %lld events (nothing changed or removed)\n",
              static_cast<long long>(head.tree_size()), static_cast<long long>(first));
  return 0;
}

}  // namespace

int RunReadCommand(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel) {
  return Read(args, channel);
}

int RunLogCommand(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::AuditService::NewStub(channel);
  const std::string sub = args.size() >= 2 ? args[1] : "";
  if (sub == "head" && args.size() == 2) {
    v1::SignedTreeHead head;
    if (!TrustedHead(*stub, &head)) return 1;
    std::printf("tree_size %lld\nroot_hash %s\nsigned_at %s\nkey_id    %s\n", static_cast<long long>(head.tree_size()),
                Hex(head.root_hash()).c_str(),
                absl::FormatTime(absl::RFC3339_full, FromProtoTime(head.timestamp()), absl::UTCTimeZone()).c_str(),
                head.key_id().c_str());
    return 0;
  }
  if (sub == "events" && args.size() == 3) return Events(*stub, args[2]);
  if (sub == "prove" && args.size() == 3) return Prove(*stub, args[2]);
  if (sub == "consistent" && args.size() == 4) return Consistent(*stub, args[2], args[3]);
  if (sub == "verify" && args.size() == 2) {
    auto ctx = CallContext(600);
    v1::VerifyLogResponse v;
    grpc::Status s = stub->VerifyLog(ctx.get(), v1::VerifyLogRequest(), &v);
    if (!s.ok()) return Refused(s);
    if (!v.ok()) {
      std::printf("NOT INTACT after %lld events: event %lld: %s\n", static_cast<long long>(v.events_checked()),
                  static_cast<long long>(v.first_bad_position()), v.problem().c_str());
      return 1;
    }
    std::printf("INTACT: %lld events, every signed tree head matches\n", static_cast<long long>(v.events_checked()));
    return 0;
  }
  std::fprintf(stderr, "cdpctl: log head | events CUSTOMER | verify | prove POSITION | consistent SIZE ROOT_HEX\n");
  return 2;
}

}  // namespace cdp::cdpctl
