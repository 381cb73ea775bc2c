#include "services/audit/audit_api.h"

#include <limits>

#include <map>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/audit/explain.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/status_macros.h"

namespace cdp::audit {
namespace {


// A page of events, newest first: its size (default 50) and the position to start below.
struct Page {
  int size = 50;
  int64_t before = std::numeric_limits<int64_t>::max();
};

absl::StatusOr<Page> PageOf(const v1::PageRequest& request) {
  Page page;
  if (request.page_size() < 0 || request.page_size() > 1000) {
    return absl::InvalidArgumentError("page.page_size: 0 (50) to 1000");
  }
  if (request.page_size() > 0) page.size = request.page_size();
  if (!request.page_token().empty()) {
    std::string raw;
    if (!absl::WebSafeBase64Unescape(request.page_token(), &raw) || !absl::SimpleAtoi(raw, &page.before)) {
      return absl::InvalidArgumentError("page.page_token: not a token from this listing");
    }
  }
  return page;
}

}  // namespace

AuditApi::AuditApi(std::shared_ptr<const consent::Catalog> catalog, AccessLog& log, EventStore& store,
                   const consent::ReceiptSigner& signer)
    : catalog_(std::move(catalog)), log_(log), store_(store), signer_(signer) {
  if (!absl::LoadTimeZone("Europe/Amsterdam", &zone_)) zone_ = absl::UTCTimeZone();
}

absl::Status AuditApi::Authorize(const std::string& caller, v1::Permission permission) const {
  return catalog_->Authorize(caller, permission).status();
}

absl::StatusOr<v1::ForgetCustomerResponse> AuditApi::ForgetCustomer(const std::string& caller,
                                                                    const v1::ForgetCustomerRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::ERASE_CUSTOMERS));
  if (request.customer_id().empty() || request.customer_id().size() > 64) {
    return absl::InvalidArgumentError("customer_id: required, at most 64 characters");
  }
  ASSIGN_OR_RETURN(bool forgotten, store_.ForgetSubject(request.customer_id()));
  {
    absl::MutexLock lock(&mu_);
    pseudonyms_.erase(request.customer_id());
  }
  log::Info("customer_forgotten", {{"customer_id", request.customer_id()}, {"forgotten", forgotten}, {"caller", caller}});
  v1::ForgetCustomerResponse response;
  response.set_forgotten(forgotten);
  return response;
}

absl::StatusOr<std::vector<std::string>> AuditApi::Pseudonyms(const std::vector<std::string>& customer_ids) {
  std::vector<std::string> out(customer_ids.size()), missing;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < customer_ids.size(); ++i) {
      auto it = pseudonyms_.find(customer_ids[i]);
      if (it != pseudonyms_.end()) out[i] = it->second;
      else missing.push_back(customer_ids[i]);
    }
  }
  if (missing.empty()) return out;
  ASSIGN_OR_RETURN(std::vector<std::string> made, store_.Pseudonyms(missing));
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < missing.size(); ++i) pseudonyms_[missing[i]] = made[i];
  for (size_t i = 0; i < customer_ids.size(); ++i) {
    if (out[i].empty()) out[i] = pseudonyms_[customer_ids[i]];
  }
  return out;
}

absl::StatusOr<v1::AppendEventsResponse> AuditApi::AppendEvents(const std::string& caller,
                                                                const v1::AppendEventsRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::APPEND_ACCESS_EVENTS));
  if (request.events_size() == 0) return absl::InvalidArgumentError("events: at least one");
  if (request.events_size() > 1000) return absl::InvalidArgumentError("events: at most 1000 per call");
  std::vector<std::string> customers;
  std::vector<v1::AccessEvent> events;
  for (int i = 0; i < request.events_size(); ++i) {
    const auto& item = request.events(i);
    const v1::AccessEvent& e = item.event();
    const std::string at = absl::StrCat("events[", i, "].");
    if (item.customer_id().empty()) return absl::InvalidArgumentError(at + "customer_id: required");
    if (e.caller().empty()) return absl::InvalidArgumentError(at + "event.caller: required");
    if (e.purpose().empty()) return absl::InvalidArgumentError(at + "event.purpose: required");
    if (e.acting_party().kind() == v1::ActingParty::KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(at + "event.acting_party.kind: required");
    }
    if (e.justification().code() == v1::Justification::CODE_UNSPECIFIED) {
      return absl::InvalidArgumentError(at + "event.justification.code: required");
    }
    RETURN_IF_ERROR(CheckFieldNames(e, at + "event."));
    customers.push_back(item.customer_id());
    events.push_back(e);
  }
  ASSIGN_OR_RETURN(std::vector<std::string> pseudonyms, Pseudonyms(customers));
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].set_subject_pseudonym(pseudonyms[i]);
    events[i].set_recorded_by(caller);
  }
  ASSIGN_OR_RETURN(std::vector<AccessLog::Appended> appended, log_.Append(std::move(events)));
  v1::AppendEventsResponse response;
  for (const auto& a : appended) {
    auto* out = response.add_events();
    out->set_event_id(a.event_id);
    out->set_position(a.position);
    *out->mutable_time() = ToProtoTime(a.time);
  }
  return response;
}

absl::StatusOr<v1::SignedTreeHead> AuditApi::GetSignedTreeHead(const std::string& caller) {
  RETURN_IF_ERROR(Authorize(caller, v1::PERMISSION_UNSPECIFIED));
  ASSIGN_OR_RETURN(TreeHead head, log_.LatestTreeHead());
  v1::SignedTreeHead out;
  out.set_tree_size(head.tree_size);
  out.set_root_hash(HashBytes(head.root_hash));
  *out.mutable_timestamp() = ToProtoTime(head.signed_at);
  out.set_signature(head.signature);
  out.set_key_id(head.key_id);
  out.set_public_key_pem(signer_.public_key_pem());
  return out;
}

absl::StatusOr<v1::InclusionProof> AuditApi::GetInclusionProof(const std::string& caller,
                                                               const v1::GetInclusionProofRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::PERMISSION_UNSPECIFIED));
  ASSIGN_OR_RETURN(std::vector<Hash> proof, log_.InclusionProof(request.position(), request.tree_size()));
  ASSIGN_OR_RETURN(Hash leaf, log_.LeafAt(request.position()));
  v1::InclusionProof out;
  out.set_position(request.position());
  out.set_tree_size(request.tree_size());
  out.set_leaf_hash(HashBytes(leaf));
  for (const Hash& h : proof) out.add_hashes(HashBytes(h));
  return out;
}

absl::StatusOr<v1::ConsistencyProof> AuditApi::GetConsistencyProof(const std::string& caller,
                                                                   const v1::GetConsistencyProofRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::PERMISSION_UNSPECIFIED));
  ASSIGN_OR_RETURN(std::vector<Hash> proof, log_.ConsistencyProof(request.first_size(), request.second_size()));
  v1::ConsistencyProof out;
  for (const Hash& h : proof) out.add_hashes(HashBytes(h));
  return out;
}

absl::StatusOr<v1::VerifyLogResponse> AuditApi::VerifyLog(const std::string& caller) {
  RETURN_IF_ERROR(Authorize(caller, v1::READ_ACCESS_LOG));
  const absl::Time started = absl::Now();
  ASSIGN_OR_RETURN(AccessLog::Verification v, log_.Verify());
  log::Info("log_verified", {{"ok", v.ok},
                             {"events", v.events_checked},
                             {"first_bad_position", v.first_bad_position},
                             {"ms", absl::ToDoubleMilliseconds(absl::Now() - started)},
                             {"caller", caller}});
  v1::VerifyLogResponse out;
  out.set_ok(v.ok);
  out.set_events_checked(v.events_checked);
  out.set_first_bad_position(v.first_bad_position);
  out.set_problem(v.problem);
  return out;
}

absl::StatusOr<v1::ListAccessEventsResponse> AuditApi::ListAccessEvents(const std::string& caller,
                                                                        const v1::ListAccessEventsRequest& request) {
  // Auditors search with QueryAccessEvents, which asks why and logs their look.
  RETURN_IF_ERROR(Authorize(caller, v1::READ_CUSTOMER_ACCESS_EVENTS));
  if (request.customer_id().empty()) return absl::InvalidArgumentError("customer_id: required");
  if (!request.language().empty() && request.language() != "nl" && request.language() != "en") {
    return absl::InvalidArgumentError("language: nl or en");
  }
  ASSIGN_OR_RETURN(Page page, PageOf(request.page()));
  v1::ListAccessEventsResponse out;
  ASSIGN_OR_RETURN(std::optional<std::string> pseudonym, store_.FindPseudonym(request.customer_id()));
  if (!pseudonym) return out;
  // The portal names the customer's own looks "self" (services/portal).
  ASSIGN_OR_RETURN(std::vector<StoredEvent> events,
                   store_.EventsOf(*pseudonym, page.before, page.size + 1,
                                   request.hide_own_views() ? consent::kDataSubjectAccessPurpose : "",
                                   request.hide_own_views() ? "self" : ""));
  RETURN_IF_ERROR(Explained(events, page.size, request.language(), &out));
  return out;
}

absl::Status AuditApi::Explained(const std::vector<StoredEvent>& events, int size, const std::string& language,
                                 v1::ListAccessEventsResponse* out) const {
  for (int i = 0; i < static_cast<int>(events.size()) && i < size; ++i) {
    v1::AccessEvent* e = out->add_events();
    if (!e->ParseFromString(events[static_cast<size_t>(i)].entry)) {
      return absl::DataLossError(absl::StrCat("event at position ", events[static_cast<size_t>(i)].position,
                                              " does not parse; run VerifyLog"));
    }
    e->set_explanation(Explain(*catalog_, *e, language, zone_));
  }
  if (static_cast<int>(events.size()) > size) {
    absl::WebSafeBase64Escape(absl::StrCat(events[static_cast<size_t>(size - 1)].position), out->mutable_next_page_token());
  }
  return absl::OkStatus();
}

absl::StatusOr<EventStore::Filter> AuditApi::FilterOf(const v1::QueryAccessEventsRequest& r, bool* none) {
  *none = false;
  if (!r.outcome().empty() && r.outcome() != "released" && r.outcome() != "denied") {
    return absl::InvalidArgumentError("outcome: released or denied");
  }
  if (!r.field().empty() && !catalog_->FindField(r.field())) {
    return absl::InvalidArgumentError(absl::StrCat("field: ", r.field(), " is not a field of the catalog"));
  }
  if (!r.language().empty() && r.language() != "nl" && r.language() != "en") {
    return absl::InvalidArgumentError("language: nl or en");
  }
  EventStore::Filter f{r.caller(), r.acting_party_id(), r.purpose(), r.field(), r.outcome(), ""};
  if (r.has_from()) f.from = FromProtoTime(r.from());
  if (r.has_to()) f.to = FromProtoTime(r.to());
  if (f.to <= f.from) return absl::InvalidArgumentError("to: must be after from");
  if (!r.customer_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<std::string> pseudonym, store_.FindPseudonym(r.customer_id()));
    if (!pseudonym) *none = true;
    else f.subject_pseudonym = *pseudonym;
  }
  return f;
}

absl::Status AuditApi::LogAuditorLook(const std::string& caller, const v1::Justification& justification,
                                      const v1::ActingParty& party, const std::string& customer_id,
                                      const std::string& what) {
  if (justification.code() == v1::Justification::CODE_UNSPECIFIED) {
    return absl::InvalidArgumentError("justification.code: required (why do you look?)");
  }
  const bool has_party = party.kind() != v1::ActingParty::KIND_UNSPECIFIED || !party.id().empty();
  if (has_party && (party.kind() != v1::ActingParty::HUMAN_AGENT || party.id().empty() || party.id().size() > 128)) {
    return absl::InvalidArgumentError("acting_party: a human agent with an id of at most 128 bytes, or none");
  }
  if (has_party && !catalog_->Authorize(caller, v1::ACT_FOR_AUDITORS).ok()) {
    return absl::PermissionDeniedError(
        "acting_party: only an auditor console (ACT_FOR_AUDITORS) may name the person it looks for");
  }
  // In the same log as everyone else's reads: about the customer searched for, or about
  // the log itself.
  // A customer the log has seen is named by their pseudonym; looking for any other id
  // makes none (the look is then about the log itself).
  std::string subject = "access-log";
  if (!customer_id.empty()) {
    ASSIGN_OR_RETURN(std::optional<std::string> p, store_.FindPseudonym(customer_id));
    if (p) subject = *p;
  }
  v1::AccessEvent e;
  e.set_caller(caller);
  e.set_recorded_by(caller);
  e.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  e.mutable_acting_party()->set_id(has_party ? party.id() : caller);
  e.set_subject_pseudonym(subject);
  e.set_purpose(kAccessLogReview);
  e.set_legal_basis("legal_obligation");
  *e.mutable_justification() = justification;
  e.add_fields_released(what);
  auto appended = log_.Append({e});
  if (!appended.ok()) {
    return absl::UnavailableError("the access log cannot record this look at it; nothing is shown");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ListAccessEventsResponse> AuditApi::QueryAccessEvents(const std::string& caller,
                                                                         const v1::QueryAccessEventsRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::READ_ACCESS_LOG));
  ASSIGN_OR_RETURN(Page page, PageOf(request.page()));
  bool none = false;
  ASSIGN_OR_RETURN(EventStore::Filter filter, FilterOf(request, &none));
  RETURN_IF_ERROR(LogAuditorLook(caller, request.justification(), request.acting_party(), request.customer_id(),
                                "access_events"));
  v1::ListAccessEventsResponse out;
  if (none) return out;
  if (request.has_position()) {
    // One event: the page that starts just above it, if it is the one found there.
    if (request.position() < 0 || request.position() == std::numeric_limits<int64_t>::max()) {
      return absl::InvalidArgumentError("position: from 0");
    }
    ASSIGN_OR_RETURN(std::vector<StoredEvent> found, store_.Query(filter, request.position() + 1, 1));
    if (!found.empty() && found[0].position != request.position()) found.clear();
    RETURN_IF_ERROR(Explained(found, 1, request.language(), &out));
    return out;
  }
  ASSIGN_OR_RETURN(std::vector<StoredEvent> events, store_.Query(filter, page.before, page.size + 1));
  RETURN_IF_ERROR(Explained(events, page.size, request.language(), &out));
  return out;
}

namespace {

std::string CsvCell(const std::string& raw) {
  // A cell a spreadsheet would run as a formula is marked as text (OWASP CSV injection):
  // acting-party ids, references and request ids come from callers.
  const std::string v = !raw.empty() && std::string("=+-@\t\r").find(raw[0]) != std::string::npos ? "'" + raw : raw;
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string CsvLine(const v1::AccessEvent& e) {
  std::vector<std::string> withheld;
  for (const auto& [f, why] : std::map<std::string, std::string>(e.fields_withheld().begin(), e.fields_withheld().end())) {
    withheld.push_back(absl::StrCat(f, ":", why));
  }
  const std::vector<std::string> cells = {
      absl::StrCat(e.position()), e.event_id(),
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", FromProtoTime(e.time()), absl::UTCTimeZone()), e.caller(),
      absl::AsciiStrToLower(v1::ActingParty::Kind_Name(e.acting_party().kind())), e.acting_party().id(),
      e.subject_pseudonym(), e.purpose(), e.legal_basis(),
      absl::AsciiStrToLower(v1::Justification::Code_Name(e.justification().code())), e.justification().reference(),
      absl::StrJoin(e.fields_released(), " "), absl::StrJoin(withheld, " "), absl::StrCat(e.consent_version()),
      e.request_id(), e.recorded_by()};
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) absl::StrAppend(&line, i ? "," : "", CsvCell(cells[i]));
  return line + "\n";
}

}  // namespace

absl::Status AuditApi::ExportAccessEvents(const std::string& caller, const v1::QueryAccessEventsRequest& request,
                                          const std::function<bool(const std::string&)>& write) {
  RETURN_IF_ERROR(Authorize(caller, v1::READ_ACCESS_LOG));
  const std::string format = request.format().empty() ? "csv" : request.format();
  if (format != "csv" && format != "jsonl") return absl::InvalidArgumentError("format: csv or jsonl");
  bool none = false;
  ASSIGN_OR_RETURN(EventStore::Filter filter, FilterOf(request, &none));
  RETURN_IF_ERROR(LogAuditorLook(caller, request.justification(), request.acting_party(), request.customer_id(),
                                "access_events_export"));
  std::string chunk;
  if (format == "csv") {
    chunk = "position,event_id,time,caller,acting_party_kind,acting_party_id,subject_pseudonym,purpose,legal_basis,"
            "justification,reference,fields_released,fields_withheld,consent_version,request_id,recorded_by\n";
  }
  if (none) return write(chunk) ? absl::OkStatus() : absl::CancelledError("the client went away");
  int64_t before = std::numeric_limits<int64_t>::max();
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<StoredEvent> events, store_.Query(filter, before, 1000));
    for (const StoredEvent& stored : events) {
      v1::AccessEvent e;
      if (!e.ParseFromString(stored.entry)) {
        return absl::DataLossError(absl::StrCat("event at position ", stored.position, " does not parse; run VerifyLog"));
      }
      if (format == "csv") {
        absl::StrAppend(&chunk, CsvLine(e));
      } else {
        std::string json;
        google::protobuf::util::JsonPrintOptions options;
        options.preserve_proto_field_names = true;
        if (!google::protobuf::util::MessageToJsonString(e, &json, options).ok()) {
          return absl::InternalError("an event does not print as JSON");
        }
        absl::StrAppend(&chunk, json, "\n");
      }
      if (chunk.size() > 256 * 1024) {
        if (!write(chunk)) return absl::CancelledError("the client went away");
        chunk.clear();
      }
      before = stored.position;
    }
    if (events.size() < 1000) break;
  }
  if (!chunk.empty() && !write(chunk)) return absl::CancelledError("the client went away");
  return absl::OkStatus();
}

absl::StatusOr<v1::UnusualAccessReport> AuditApi::UnusualAccess(const std::string& caller,
                                                                const v1::UnusualAccessRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::READ_ACCESS_LOG));
  if (request.window_seconds() < 0 || request.window_seconds() > 30 * 86400) {
    return absl::InvalidArgumentError("window_seconds: 0 (3600) to 30 days");
  }
  if (request.baseline_windows() < 0 || request.baseline_windows() > 1000) {
    return absl::InvalidArgumentError("baseline_windows: 0 (24) to 1000");
  }
  if (request.factor() < 0 || request.min_customers() < 0) {
    return absl::InvalidArgumentError("factor, min_customers: not negative");
  }
  const absl::Duration window = absl::Seconds(request.window_seconds() == 0 ? 3600 : request.window_seconds());
  const int baseline = request.baseline_windows() == 0 ? 24 : request.baseline_windows();
  const double factor = request.factor() == 0 ? 3 : request.factor();
  const int64_t min_customers = request.min_customers() == 0 ? 20 : request.min_customers();
  RETURN_IF_ERROR(LogAuditorLook(caller, request.justification(), request.acting_party(), "", "unusual_access_report"));
  const absl::Time now = absl::Now();
  ASSIGN_OR_RETURN(std::vector<EventStore::CallerActivity> activity, store_.ActivityByCaller(now, window, baseline));
  v1::UnusualAccessReport out;
  *out.mutable_window_start() = ToProtoTime(now - window);
  for (const auto& a : activity) {
    if (a.customers < min_customers || static_cast<double>(a.customers) <= factor * std::max(a.usual, 1.0)) continue;
    auto* c = out.add_callers();
    c->set_caller(a.caller);
    c->set_customers(a.customers);
    c->set_usual(a.usual);
  }
  return out;
}

}  // namespace cdp::audit
