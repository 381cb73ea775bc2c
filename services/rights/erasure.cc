#include "services/rights/erasure.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "consent/state.h"
#include "pqxx/pqxx"
#include "services/common/escape.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/status_macros.h"

namespace cdp::rights {
namespace {

constexpr char kGet[] = "rights_erasure_get";
constexpr char kInsert[] = "rights_erasure_insert";
constexpr char kSetStep[] = "rights_erasure_set_step";
constexpr char kSetIngestAnswer[] = "rights_erasure_set_ingest_answer";
constexpr char kFailed[] = "rights_erasure_failed";
constexpr char kDone[] = "rights_erasure_done";
constexpr char kPending[] = "rights_erasure_pending";
constexpr char kFeed[] = "rights_erasure_feed";
constexpr char kRetentionRun[] = "rights_retention_run";
constexpr char kFeedLock[] = "rights_feed_lock";

std::string Time(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

std::string EnumName(const std::string& name) { return absl::AsciiStrToLower(name); }

void Key(std::string& out, const char* key) {
  if (out.back() != '{') out += ',';
  AppendJsonString(out, key);
  out += ':';
}

// The erasure receipt: what went, what a legal obligation keeps (field names, never
// values) and until when, and how source systems learn of it.
std::string ReceiptJson(const consent::Catalog& catalog, const std::string& customer_id, absl::Time requested,
                        absl::Time completed, v1::Channel channel, v1::ActingParty::Kind acting,
                        const v1::EraseProfileResponse& ingest, const std::string& key_id) {
  std::string out = "{";
  Key(out, "receiptType");
  AppendJsonString(out, "erasure (GDPR Art. 17)");
  Key(out, "receiptId");
  AppendJsonString(out, consent::NewUuid());
  Key(out, "controller");
  AppendJsonString(out, catalog.proto().controller().name());
  Key(out, "customerId");
  AppendJsonString(out, customer_id);
  Key(out, "requestedAt");
  AppendJsonString(out, Time(requested));
  Key(out, "completedAt");
  AppendJsonString(out, Time(completed));
  Key(out, "channel");
  AppendJsonString(out, EnumName(v1::Channel_Name(channel)));
  Key(out, "requestedBy");
  AppendJsonString(out, EnumName(v1::ActingParty::Kind_Name(acting)));
  Key(out, "erased");
  out += '{';
  Key(out, "profiles");
  absl::StrAppend(&out, ingest.erased_profile_ids_size());
  Key(out, "sourceRecords");
  absl::StrAppend(&out, ingest.source_records_size());
  std::set<std::string> sources;
  for (const v1::SourceRecordRef& r : ingest.source_records()) sources.insert(r.source_system());
  Key(out, "sourceSystems");
  out += '[';
  for (const std::string& s : sources) {
    if (out.back() != '[') out += ',';
    AppendJsonString(out, s);
  }
  out += ']';
  Key(out, "dataKeysDestroyed");
  absl::StrAppend(&out, ingest.destroyed_keys());
  Key(out, "consentChoicesAndHistory");
  out += "true";
  Key(out, "accessLogLinkToYou");
  out += "true";
  out += '}';
  Key(out, "kept");
  out += '[';
  for (const v1::RetainedFields& kept : ingest.retained()) {
    if (out.back() != '[') out += ',';
    out += '{';
    Key(out, "purpose");
    AppendJsonString(out, kept.purpose());
    const v1::PurposeDef* def = nullptr;
    for (const v1::PurposeDef& p : catalog.proto().purposes()) {
      if (p.name() == kept.purpose()) def = &p;
    }
    if (def != nullptr) {
      Key(out, "legalBasis");
      AppendJsonString(out, EnumName(v1::LegalBasis_Name(def->legal_basis())));
      Key(out, "why");
      out += '{';
      Key(out, "nl");
      AppendJsonString(out, def->description().nl());
      Key(out, "en");
      AppendJsonString(out, def->description().en());
      out += '}';
    }
    Key(out, "fields");
    out += '[';
    for (const std::string& f : kept.fields()) {
      if (out.back() != '[') out += ',';
      AppendJsonString(out, f);
    }
    out += ']';
    Key(out, "keptUntil");
    AppendJsonString(out, Time(FromProtoTime(kept.keep_until())));
    Key(out, "thenErased");
    out += "true";
    out += '}';
  }
  out += ']';
  Key(out, "accessLog");
  AppendJsonString(out,
                   "the record of who looked at your data stays, so that it can still be checked, "
                   "but no longer leads to you");
  Key(out, "sourceSystemsNotified");
  out += "true";
  Key(out, "keyId");
  AppendJsonString(out, key_id);
  out += '}';
  return out;
}

v1::EraseCustomerResponse Answer(const pqxx::row& r) {
  v1::EraseCustomerResponse out;
  out.set_receipt_json(r[2].as<std::string>());
  out.set_receipt_signature(r[3].as<std::string>());
  out.set_key_id(r[4].as<std::string>());
  return out;
}

}  // namespace

Erasures::Erasures(std::shared_ptr<const consent::Catalog> catalog, storage::Pool& pool,
                   const consent::ReceiptSigner& signer, ErasureServices& services,
                   std::function<absl::Time()> clock)
    : catalog_(std::move(catalog)), pool_(pool), signer_(signer), services_(services), clock_(std::move(clock)) {}

std::vector<storage::Statement> Erasures::Statements() {
  constexpr char kMicros[] = "(extract(epoch FROM %s) * 1000000)::bigint";
  return {
      {kGet, absl::StrCat("SELECT step, ingest_answer, receipt_json, receipt_jws, receipt_key_id, ",
                          absl::StrFormat(kMicros, "requested_at"),
                          ", channel, acting_kind FROM rights.erasures WHERE customer_id = $1")},
      {kInsert,
       "INSERT INTO rights.erasures (customer_id, requested_at, caller, channel, acting_kind, step) "
       "VALUES ($1, TIMESTAMPTZ 'epoch' + $2 * INTERVAL '1 microsecond', $3, $4, $5, 'requested') "
       "ON CONFLICT (customer_id) DO NOTHING"},
      {kSetStep, "UPDATE rights.erasures SET step = $2, last_error = NULL WHERE customer_id = $1 AND step <> 'done'"},
      {kSetIngestAnswer,
       "UPDATE rights.erasures SET step = 'profile_erased', ingest_answer = $2, last_error = NULL "
       "WHERE customer_id = $1 AND step = 'requested'"},
      {kFailed, "UPDATE rights.erasures SET attempts = attempts + 1, last_error = $2 WHERE customer_id = $1"},
      // Held from a feed position's assignment to its commit, so positions commit in order:
      // a reader that has seen position n can never later find a smaller one appear. (This
      // relies on the sequence handing out numbers one at a time: no CACHE above 1.)
      {kFeedLock, "SELECT pg_advisory_xact_lock(hashtext('rights.erasure_feed'))"},
      {kDone,
       "UPDATE rights.erasures SET step = 'done', receipt_json = $2, receipt_jws = $3, receipt_key_id = $4, "
       "completed_at = TIMESTAMPTZ 'epoch' + $5 * INTERVAL '1 microsecond', seq = nextval('rights.erasure_feed'), "
       "last_error = NULL WHERE customer_id = $1 AND step <> 'done'"},
      {kPending, "SELECT customer_id FROM rights.erasures WHERE step <> 'done' ORDER BY requested_at LIMIT 100"},
      {kFeed, absl::StrCat("SELECT seq, customer_id, ", absl::StrFormat(kMicros, "completed_at"),
                           ", ingest_answer FROM rights.erasures WHERE seq > $1 ORDER BY seq LIMIT $2")},
      {kRetentionRun,
       "INSERT INTO rights.retention_runs (ran_at, purged, erased, ok, problem) VALUES (now(), $1, $2, $3, $4)"},
  };
}

std::vector<v1::RetentionRule> Erasures::RetentionRules() const {
  std::vector<v1::RetentionRule> out;
  for (const v1::PurposeDef& p : catalog_->proto().purposes()) {
    if (p.legal_basis() != v1::LEGAL_OBLIGATION || p.retention_days() <= 0 || p.retention_sources_size() == 0) continue;
    v1::RetentionRule rule;
    rule.set_purpose(p.name());
    // Every field of the purpose's scope: its categories' fields and the ones it lists.
    std::set<std::string> fields(p.fields().begin(), p.fields().end());
    for (const v1::FieldDef& f : catalog_->proto().fields()) {
      for (int c : p.categories()) {
        if (f.category() == c) fields.insert(f.name());
      }
    }
    for (const std::string& f : fields) rule.add_fields(f);
    rule.set_retention_days(p.retention_days());
    *rule.mutable_sources() = p.retention_sources();
    out.push_back(std::move(rule));
  }
  return out;
}

absl::StatusOr<v1::EraseCustomerResponse> Erasures::Erase(const std::string& caller,
                                                          const v1::EraseCustomerRequest& request) {
  RETURN_IF_ERROR(catalog_->Authorize(caller, v1::EXERCISE_RIGHTS).status());
  RETURN_IF_ERROR(consent::ValidateCustomerId(request.customer_id()));
  if (!v1::ActingParty::Kind_IsValid(request.acting_party().kind()) ||
      request.acting_party().kind() == v1::ActingParty::KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("acting_party.kind: required (the customer, or the agent acting for them)");
  }
  if (!v1::Channel_IsValid(request.channel()) || request.channel() == v1::CHANNEL_UNSPECIFIED) {
    return absl::InvalidArgumentError("channel: required (portal, phone, chat, email or api)");
  }
  bool known = false;
  RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
    known = !tx.exec_prepared(kGet, request.customer_id()).empty();
    return absl::OkStatus();
  }));
  if (!known) {
    // A new job, for a customer the platform knows.
    if (absl::Status s = services_.CustomerKnown(request.customer_id()); !s.ok()) {
      if (absl::IsNotFound(s)) return absl::NotFoundError("customer_id: no such customer");
      return absl::UnavailableError("the consent service cannot say whether the customer exists; nothing was erased");
    }
    RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
      tx.exec_prepared(kInsert, request.customer_id(), absl::ToUnixMicros(clock_()), caller,
                       static_cast<int>(request.channel()), static_cast<int>(request.acting_party().kind()));
      return absl::OkStatus();
    }));
    log::Info("erasure_requested", {{"customer_id", request.customer_id()}, {"caller", caller}});
  }
  return Run(request.customer_id());
}

absl::StatusOr<v1::EraseCustomerResponse> Erasures::Run(const std::string& customer_id) {
  auto row = [&]() -> absl::StatusOr<pqxx::result> {
    pqxx::result r;
    RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
      r = tx.exec_prepared(kGet, customer_id);
      return absl::OkStatus();
    }));
    if (r.empty()) return absl::InternalError("erasure job vanished");
    return r;
  };
  auto step_to = [&](const char* step) {
    return pool_.Autocommit([&](pqxx::transaction_base& tx) {
      tx.exec_prepared(kSetStep, customer_id, step);
      return absl::OkStatus();
    });
  };
  auto failed = [&](const char* step, const absl::Status& s) {
    (void)pool_.Autocommit([&](pqxx::transaction_base& tx) {
      tx.exec_prepared(kFailed, customer_id, absl::StrCat(step, ": ", absl::StatusCodeToString(s.code())));
      return absl::OkStatus();
    });
    log::Warning("erasure_step_failed", {{"customer_id", customer_id}, {"step", step},
                                         {"code", absl::StatusCodeToString(s.code())}});
    return absl::UnavailableError(absl::StrCat(
        "the erasure has started and will be completed automatically; a service it needs did not answer (",
        step, "). Ask again later for the receipt"));
  };

  ASSIGN_OR_RETURN(pqxx::result r, row());
  std::string step = r[0][0].as<std::string>();
  if (step == "done") return Answer(r[0]);

  if (step == "requested") {
    v1::EraseProfileRequest erase;
    erase.set_profile_id(customer_id);
    for (v1::RetentionRule& rule : RetentionRules()) *erase.add_retain() = std::move(rule);
    absl::StatusOr<v1::EraseProfileResponse> erased = services_.EraseProfile(erase);
    if (absl::IsNotFound(erased.status())) {
      // Consent knew them, the profile store never had records of theirs: nothing to erase there.
      erased = v1::EraseProfileResponse();
      erased->set_profile_id(customer_id);
    }
    if (!erased.ok()) return failed("profile", erased.status());
    RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
      tx.exec_prepared(kSetIngestAnswer, customer_id, pqxx::binarystring(erased->SerializeAsString()));
      return absl::OkStatus();
    }));
    step = "profile_erased";
  }
  // A customer made of merged profiles has a consent record and a pseudonym per profile:
  // every one of them goes.
  std::set<std::string> ids = {customer_id};
  if (step != "log_unlinked") {
    ASSIGN_OR_RETURN(r, row());
    v1::EraseProfileResponse erased;
    if (!r[0][1].is_null() && !erased.ParseFromString(pqxx::binarystring(r[0][1]).str())) {
      return absl::DataLossError("stored ingest answer does not parse");
    }
    ids.insert(erased.erased_profile_ids().begin(), erased.erased_profile_ids().end());
  }
  if (step == "profile_erased") {
    for (const std::string& id : ids) {
      absl::Status s = services_.EraseConsent(id);
      if (!s.ok() && !absl::IsNotFound(s)) return failed("consent", s);
    }
    RETURN_IF_ERROR(step_to("consent_erased"));
    step = "consent_erased";
  }
  if (step == "consent_erased") {
    for (const std::string& id : ids) {
      absl::Status s = services_.ForgetInLog(id);
      if (!s.ok()) return failed("access log", s);
    }
    RETURN_IF_ERROR(step_to("log_unlinked"));
    step = "log_unlinked";
  }
  // log_unlinked: the receipt.
  ASSIGN_OR_RETURN(r, row());
  v1::EraseProfileResponse ingest;
  if (!r[0][1].is_null() && !ingest.ParseFromString(pqxx::binarystring(r[0][1]).str())) {
    return absl::DataLossError("stored ingest answer does not parse");
  }
  const absl::Time completed = clock_();
  const std::string json =
      ReceiptJson(*catalog_, customer_id, absl::FromUnixMicros(r[0][5].as<int64_t>()), completed,
                  static_cast<v1::Channel>(r[0][6].as<int>()),
                  static_cast<v1::ActingParty::Kind>(r[0][7].as<int>()), ingest, signer_.key_id());
  const std::string jws = signer_.Sign(json);  // before the feed's lock, which is kept short
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) {
    tx.exec_prepared(kFeedLock);
    tx.exec_prepared(kDone, customer_id, json, jws, signer_.key_id(), absl::ToUnixMicros(completed));
    return absl::OkStatus();
  }));
  ASSIGN_OR_RETURN(r, row());  // the receipt stored: ours, or a concurrent run's
  log::Info("customer_erased", {{"customer_id", customer_id},
                                {"profiles", ingest.erased_profile_ids_size()},
                                {"source_records", ingest.source_records_size()},
                                {"retained_purposes", ingest.retained_size()}});
  return Answer(r[0]);
}

absl::Status Erasures::ResumePending() {
  std::vector<std::string> pending;
  RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
    for (const pqxx::row& r : tx.exec_prepared(kPending)) pending.push_back(r[0].as<std::string>());
    return absl::OkStatus();
  }));
  absl::Status first;
  for (const std::string& id : pending) {
    absl::Status s = Run(id).status();
    if (s.ok()) log::Info("erasure_resumed", {{"customer_id", id}});
    first.Update(s);
  }
  return first;
}

int Erasures::CustomerRetentionDays() const {
  int days = 0;
  for (const v1::PurposeDef& p : catalog_->proto().purposes()) {
    if (p.legal_basis() != v1::LEGAL_OBLIGATION) days = std::max(days, p.retention_days());
  }
  return days;
}

absl::StatusOr<Erasures::RetentionRun> Erasures::RunRetention() {
  RetentionRun run;
  absl::Status problem;
  absl::StatusOr<v1::PurgeExpiredRetentionResponse> purged = services_.PurgeExpiredRetention();
  if (purged.ok()) {
    run.purged = purged->profile_ids_size();
  } else {
    problem = purged.status();
  }
  if (const int days = CustomerRetentionDays(); days > 0) {
    const absl::Time before = clock_() - absl::Hours(24) * days;
    absl::StatusOr<std::vector<std::string>> inactive = services_.InactiveCustomers(before, 100);
    if (!inactive.ok()) problem.Update(inactive.status());
    for (const std::string& id : inactive.ok() ? *inactive : std::vector<std::string>()) {
      RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
        tx.exec_prepared(kInsert, id, absl::ToUnixMicros(clock_()), "retention", static_cast<int>(v1::API),
                         static_cast<int>(v1::ActingParty::AUTOMATED_SYSTEM));
        return absl::OkStatus();
      }));
      absl::Status s = Run(id).status();
      problem.Update(s);
      if (s.ok()) ++run.erased;
    }
  }
  RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_prepared(kRetentionRun, run.purged, run.erased, problem.ok(),
                     problem.ok() ? std::string() : std::string(absl::StatusCodeToString(problem.code())));
    return absl::OkStatus();
  }));
  log::Info("retention_run", {{"kept_fields_destroyed", run.purged}, {"inactive_customers_erased", run.erased},
                              {"ok", problem.ok()}});
  if (!problem.ok()) return problem;
  return run;
}

absl::Status Erasures::Watch(const std::string& caller, const v1::WatchErasuresRequest& request,
                             const std::function<bool(const v1::ErasureNotice&)>& write,
                             const std::function<bool()>& stopping, absl::Duration poll,
                             absl::Duration heartbeat) {
  RETURN_IF_ERROR(catalog_->Authorize(caller, v1::WATCH_ERASURES).status());
  if (request.after_seq() < 0) return absl::InvalidArgumentError("after_seq: must not be negative");
  int64_t after = request.after_seq();
  absl::Time last_sent = absl::Now();
  bool caught_up = false;  // the first heartbeat says the backlog has been sent
  while (!stopping()) {
    std::vector<v1::ErasureNotice> page;
    RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
      page.clear();
      for (const pqxx::row& r : tx.exec_prepared(kFeed, after, 100)) {
        v1::ErasureNotice n;
        n.set_seq(r[0].as<int64_t>());
        n.set_customer_id(r[1].as<std::string>());
        *n.mutable_erased_at() = ToProtoTime(absl::FromUnixMicros(r[2].as<int64_t>()));
        v1::EraseProfileResponse ingest;
        if (!r[3].is_null() && !ingest.ParseFromString(pqxx::binarystring(r[3]).str())) {
          return absl::DataLossError("stored ingest answer does not parse");
        }
        for (const v1::SourceRecordRef& ref : ingest.source_records()) {
          if (request.source_system().empty() || ref.source_system() == request.source_system()) {
            *n.add_source_records() = ref;
          }
        }
        page.push_back(std::move(n));
      }
      return absl::OkStatus();
    }));
    for (const v1::ErasureNotice& n : page) {
      if (!write(n)) return absl::OkStatus();
      after = n.seq();
      last_sent = absl::Now();
    }
    if (page.size() == 100) continue;
    if (!caught_up || absl::Now() - last_sent >= heartbeat) {
      caught_up = true;
      if (!write(v1::ErasureNotice())) return absl::OkStatus();
      last_sent = absl::Now();
    }
    absl::Notification().WaitForNotificationWithTimeout(poll);
  }
  return absl::OkStatus();
}

}  // namespace cdp::rights
