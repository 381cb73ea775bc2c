#include "services/portal/pg_portal_store.h"

#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"

namespace cdp::portal {
namespace {

constexpr char kAddLink[] = "portal_add_link";
constexpr char kUseLink[] = "portal_use_link";
constexpr char kAddSession[] = "portal_add_session";
constexpr char kFindSession[] = "portal_find_session";
constexpr char kDeleteSession[] = "portal_delete_session";
constexpr char kDeleteCustomerLinks[] = "portal_delete_customer_links";
constexpr char kErasureFeed[] = "portal_erasure_feed";
constexpr char kSetErasureFeed[] = "portal_set_erasure_feed";
constexpr char kDeleteCustomerSessions[] = "portal_delete_customer_sessions";
constexpr char kDeleteExpiredLinks[] = "portal_delete_expired_links";
constexpr char kDeleteExpiredSessions[] = "portal_delete_expired_sessions";
constexpr char kAddAuditor[] = "portal_add_auditor";
constexpr char kFindAuditor[] = "portal_find_auditor";
constexpr char kUseTotpStep[] = "portal_use_totp_step";
constexpr char kAddVerification[] = "portal_add_verification";
constexpr char kLatestVerification[] = "portal_latest_verification";

// Times move as whole microseconds since the epoch.
std::string At(int n) { return absl::StrCat("(timestamptz 'epoch' + $", n, " * interval '1 microsecond')"); }
std::string MicrosOf(const char* column) {
  return absl::StrCat("(extract(epoch FROM ", column, ") * 1000000)::bigint");
}
int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time TimeOf(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }
std::string BytesOf(const pqxx::field& f) {
  pqxx::binarystring b(f);
  return b.str();
}

}  // namespace

std::vector<storage::Statement> PgPortalStore::Statements() {
  return {
      {kAddLink, absl::StrCat("INSERT INTO portal.sign_in_links (token_sha256, customer_id, created_at, expires_at) "
                              "VALUES ($1, $2, ", At(3), ", ", At(4), ")")},
      {kUseLink, absl::StrCat("UPDATE portal.sign_in_links SET used_at = ", At(2),
                              " WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > ", At(2),
                              " RETURNING customer_id")},
      {kAddSession, absl::StrCat("INSERT INTO portal.sessions (id_sha256, kind, subject, csrf_token, created_at, "
                                 "expires_at) VALUES ($1, $2, $3, $4, ", At(5), ", ", At(6), ")")},
      {kFindSession, absl::StrCat("SELECT kind, subject, csrf_token, ", MicrosOf("created_at"), ", ",
                                  MicrosOf("expires_at"), " FROM portal.sessions WHERE id_sha256 = $1 AND expires_at > ",
                                  At(2))},
      {kDeleteSession, "DELETE FROM portal.sessions WHERE id_sha256 = $1"},
      {kDeleteCustomerLinks, "DELETE FROM portal.sign_in_links WHERE customer_id = $1"},
      {kErasureFeed, "SELECT position FROM portal.erasure_feed"},
      {kSetErasureFeed, "UPDATE portal.erasure_feed SET position = GREATEST(position, $1)"},
      {kDeleteCustomerSessions, "DELETE FROM portal.sessions WHERE kind = 'customer' AND subject = $1"},
      {kDeleteExpiredLinks, absl::StrCat("DELETE FROM portal.sign_in_links WHERE expires_at < ", At(1))},
      {kDeleteExpiredSessions, absl::StrCat("DELETE FROM portal.sessions WHERE expires_at < ", At(1))},
      {kAddAuditor, absl::StrCat("INSERT INTO portal.auditors (name, display_name, password_argon2id, totp_secret, "
                                 "created_at) VALUES ($1, $2, $3, $4, ", At(5), ")")},
      {kFindAuditor, "SELECT display_name, password_argon2id, totp_secret, disabled FROM portal.auditors "
                     "WHERE name = $1"},
      {kUseTotpStep, "UPDATE portal.auditors SET totp_last_step = $2 WHERE name = $1 "
                     "AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING 1"},
      {kAddVerification, absl::StrCat("INSERT INTO portal.log_verifications (auditor, verified_at, ok, events_checked, "
                                      "first_bad_position, problem) VALUES ($1, ", At(2), ", $3, $4, $5, $6)")},
      {kLatestVerification, absl::StrCat("SELECT auditor, ", MicrosOf("verified_at"), ", ok, events_checked, "
                                         "first_bad_position, problem FROM portal.log_verifications "
                                         "ORDER BY id DESC LIMIT 1")},
  };
}

absl::Status PgPortalStore::AddSignInLink(const std::string& token_sha256, const std::string& customer_id,
                                          absl::Time now, absl::Time expires_at) {
  return pool_.Autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_prepared(kAddLink, pqxx::binarystring(token_sha256), customer_id, Micros(now), Micros(expires_at));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<std::string>> PgPortalStore::UseSignInLink(const std::string& token_sha256,
                                                                        absl::Time now) {
  std::optional<std::string> customer;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) {
    pqxx::result r = tx.exec_prepared(kUseLink, pqxx::binarystring(token_sha256), Micros(now));
    if (!r.empty()) customer = r[0][0].as<std::string>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return customer;
}

absl::Status PgPortalStore::AddSession(const Session& session) {
  return pool_.Autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_prepared(kAddSession, pqxx::binarystring(session.id_sha256), session.kind, session.subject,
                     session.csrf_token, Micros(session.created_at), Micros(session.expires_at));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<Session>> PgPortalStore::FindSession(const std::string& id_sha256, absl::Time now) {
  std::optional<Session> found;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) {
    pqxx::result r = tx.exec_prepared(kFindSession, pqxx::binarystring(id_sha256), Micros(now));
    if (r.empty()) return absl::OkStatus();
    Session session;
    session.id_sha256 = id_sha256;
    session.kind = r[0][0].as<std::string>();
    session.subject = r[0][1].as<std::string>();
    session.csrf_token = r[0][2].as<std::string>();
    session.created_at = TimeOf(r[0][3]);
    session.expires_at = TimeOf(r[0][4]);
    found = std::move(session);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return found;
}

absl::Status PgPortalStore::DeleteSession(const std::string& id_sha256) {
  return pool_.Autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_prepared(kDeleteSession, pqxx::binarystring(id_sha256));
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> PgPortalStore::DeleteCustomer(const std::string& customer_id) {
  int64_t removed = 0;
  absl::Status s = pool_.Transact([&](pqxx::work& tx) {
    removed = tx.exec_prepared(kDeleteCustomerLinks, customer_id).affected_rows() +
              tx.exec_prepared(kDeleteCustomerSessions, customer_id).affected_rows();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return removed;
}

absl::StatusOr<int64_t> PgPortalStore::ErasureFeedPosition() {
  int64_t position = 0;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) {
    position = tx.exec_prepared1(kErasureFeed)[0].as<int64_t>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return position;
}

absl::Status PgPortalStore::SetErasureFeedPosition(int64_t position) {
  return pool_.Autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_prepared(kSetErasureFeed, position);
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> PgPortalStore::DeleteExpired(absl::Time now) {
  int64_t removed = 0;
  absl::Status s = pool_.Transact([&](pqxx::work& tx) {
    removed = tx.exec_prepared(kDeleteExpiredLinks, Micros(now)).affected_rows() +
              tx.exec_prepared(kDeleteExpiredSessions, Micros(now)).affected_rows();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return removed;
}

absl::Status PgPortalStore::AddAuditor(const Auditor& auditor, absl::Time now) {
  return pool_.Autocommit([&](pqxx::transaction_base& tx) {
    if (auditor.totp_secret.empty()) {
      tx.exec_prepared(kAddAuditor, auditor.name, auditor.display_name, auditor.password_argon2id, nullptr,
                       Micros(now));
    } else {
      tx.exec_prepared(kAddAuditor, auditor.name, auditor.display_name, auditor.password_argon2id,
                       pqxx::binarystring(auditor.totp_secret), Micros(now));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<Auditor>> PgPortalStore::FindAuditor(const std::string& name) {
  std::optional<Auditor> found;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) {
    pqxx::result r = tx.exec_prepared(kFindAuditor, name);
    if (r.empty()) return absl::OkStatus();
    Auditor a;
    a.name = name;
    a.display_name = r[0][0].as<std::string>();
    a.password_argon2id = r[0][1].as<std::string>();
    if (!r[0][2].is_null()) a.totp_secret = BytesOf(r[0][2]);
    a.disabled = r[0][3].as<bool>();
    found = std::move(a);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return found;
}

absl::StatusOr<bool> PgPortalStore::UseTotpStep(const std::string& name, int64_t step) {
  bool fresh = false;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) {
    fresh = !tx.exec_prepared(kUseTotpStep, name, step).empty();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return fresh;
}

absl::Status PgPortalStore::AddVerification(const Verification& v) {
  return pool_.Autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_prepared(kAddVerification, v.auditor, Micros(v.verified_at), v.ok, v.events_checked,
                     v.first_bad_position, v.problem);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<Verification>> PgPortalStore::LatestVerification() {
  std::optional<Verification> found;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) {
    pqxx::result r = tx.exec_prepared(kLatestVerification);
    if (r.empty()) return absl::OkStatus();
    Verification v;
    v.auditor = r[0][0].as<std::string>();
    v.verified_at = TimeOf(r[0][1]);
    v.ok = r[0][2].as<bool>();
    v.events_checked = r[0][3].as<int64_t>();
    v.first_bad_position = r[0][4].as<int64_t>();
    v.problem = r[0][5].as<std::string>();
    found = std::move(v);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return found;
}

}  // namespace cdp::portal
