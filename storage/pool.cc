#include "storage/pool.h"

#include <poll.h>

#include "absl/strings/str_cat.h"
#include "pqxx/except"
#include "pqxx/nontransaction"
#include "storage/pg_status.h"
#include "storage/session.h"

namespace cdp::storage {

namespace {

// Whether the server has closed an idle connection, or is closing it: anything to read on
// a connection with no statement running is the server's goodbye (a terminated backend, a
// shutdown) or its end of file. libpq learns of that only on the next statement, which
// would then fail in the caller's hands.
bool ClosedByServer(const pqxx::connection& conn) {
  const int fd = conn.sock();
  if (fd < 0) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

}  // namespace

Pool::Pool(PoolOptions options) : options_(std::move(options)) {}

Pool::~Pool() = default;

absl::StatusOr<std::unique_ptr<pqxx::connection>> Pool::Open() {
  try {
    auto conn = std::make_unique<pqxx::connection>(options_.dsn);
    // Through set_variable, not a SET statement: should libpqxx reconnect on its own (it
    // may, when a transaction cannot begin on a broken connection), it sets them again.
    std::vector<std::pair<std::string, std::string>> settings;
    for (const SessionSetting& s : kSessionSettings) settings.emplace_back(s.name, s.value);
    settings.insert(settings.end(), options_.session_settings.begin(), options_.session_settings.end());
    for (const auto& [name, value] : settings) {
      try {
        conn->set_variable(name, value);
      } catch (const pqxx::sql_error& e) {
        // The platform's own settings (code, not input): retrying will not help.
        return absl::FailedPreconditionError(absl::StrCat("the server refused the session setting ", name, " = ",
                                                          value, " (SQLSTATE ", e.sqlstate(), ")"));
      }
    }
    for (const Statement& s : options_.statements) conn->prepare(s.name, s.sql);
    return conn;
  } catch (const pqxx::broken_connection& e) {
    return ConnectFailed(e.what());
  } catch (...) {
    return CurrentExceptionStatus();
  }
}

absl::Status Pool::Connect() {
  std::vector<std::unique_ptr<pqxx::connection>> opened;
  for (int i = 0; i < options_.size; ++i) {
    auto conn = Open();
    if (!conn.ok()) return conn.status();
    opened.push_back(*std::move(conn));
  }
  absl::MutexLock lock(&mu_);
  idle_ = std::move(opened);
  connected_ = true;
  return absl::OkStatus();
}

bool Pool::connected() const {
  absl::MutexLock lock(&mu_);
  return connected_;
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> Pool::Take() {
  std::unique_ptr<pqxx::connection> conn;
  {
    absl::MutexLock lock(&mu_);
    if (!connected_) return absl::UnavailableError("database not connected yet");
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !idle_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&ready), options_.acquire_timeout)) {
      return absl::UnavailableError("no database connection free within the acquire timeout");
    }
    conn = std::move(idle_.back());
    idle_.pop_back();
  }
  if (conn == nullptr || !conn->is_open() || ClosedByServer(*conn)) {
    // Reopen outside the lock; on failure the slot comes back empty and is retried later.
    auto fresh = Open();
    if (!fresh.ok()) {
      Give(nullptr);
      return fresh.status();
    }
    conn = *std::move(fresh);
  }
  return conn;
}

void Pool::Give(std::unique_ptr<pqxx::connection> conn) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(conn));
}

absl::Status Pool::WithConnection(const std::function<absl::Status(pqxx::connection&)>& fn) {
  auto conn = Take();
  if (!conn.ok()) return conn.status();
  absl::Status status;
  try {
    status = fn(**conn);
  } catch (...) {
    status = CurrentExceptionStatus();
  }
  // A connection that broke is dropped here and reopened by the next Take().
  if (!(*conn)->is_open()) conn->reset();
  Give(*std::move(conn));
  return status;
}

absl::Status Pool::Transact(const std::function<absl::Status(pqxx::work&)>& fn) {
  return WithConnection([&](pqxx::connection& c) -> absl::Status {
    pqxx::work tx(c);
    absl::Status s = fn(tx);
    if (!s.ok()) return s;  // the transaction's destructor rolls back
    tx.commit();
    return absl::OkStatus();
  });
}

absl::Status Pool::Autocommit(const std::function<absl::Status(pqxx::transaction_base&)>& fn) {
  return WithConnection([&](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction tx(c);
    return fn(tx);
  });
}

absl::Status Pool::TransactSerializable(
    const std::function<absl::Status(pqxx::transaction_base&)>& fn) {
  return WithConnection([&](pqxx::connection& c) -> absl::Status {
    pqxx::transaction<pqxx::serializable> tx(c);
    absl::Status s = fn(tx);
    if (!s.ok()) return s;
    tx.commit();
    return absl::OkStatus();
  });
}

}  // namespace cdp::storage
