// A fixed-size pool of libpqxx connections with prepared statements.
#ifndef CDP_STORAGE_POOL_H_
#define CDP_STORAGE_POOL_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pqxx/connection"
#include "pqxx/transaction"

namespace cdp::storage {

// A named SQL statement, prepared on every connection of a pool. Keep statements as
// named constants beside the code that runs them; never build SQL from input.
struct Statement {
  std::string name;
  std::string sql;
};

struct PoolOptions {
  std::string dsn;                          // libpq connection string
  int size = 4;                             // connections kept open
  absl::Duration acquire_timeout = absl::Seconds(5);
  std::vector<Statement> statements;        // prepared on each connection
  // Set on each connection before preparing, after what every connection sets (session.h):
  // name and value, such as {"plan_cache_mode", "force_generic_plan"}.
  std::vector<std::pair<std::string, std::string>> session_settings;
};

// Thread-safe. Connections are opened by Connect(); a connection found broken, or closed by
// the server while idle (a terminated backend, a restart), is reopened when next taken. Transact() runs a function in one transaction and maps every libpqxx
// exception to a Status (see pg_status.h), so callers never see one.
class Pool {
 public:
  explicit Pool(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Opens every connection and prepares the statements. Unavailable (with libpq's reason:
  // refused, unknown role or database, bad password) if a connection cannot be opened;
  // FailedPrecondition naming a session setting the server refuses; the status of
  // the failing statement if one cannot be prepared. May be called again.
  absl::Status Connect();

  // True once Connect() has succeeded.
  bool connected() const;
  // The connection string the pool connects with (for work on a connection of its own,
  // such as a long binary COPY: storage/binary_copy.h).
  const std::string& dsn() const { return options_.dsn; }

  // Runs `fn` in a read-committed transaction (serializable if `serializable`) and commits
  // if it returns OK; any error status or exception aborts the transaction. Unavailable if
  // not connected or no connection is free within the acquire timeout.
  absl::Status Transact(const std::function<absl::Status(pqxx::work&)>& fn);
  absl::Status TransactSerializable(
      const std::function<absl::Status(pqxx::transaction_base&)>& fn);

  // Runs `fn` outside an explicit transaction: each statement is its own (autocommit), so
  // a single statement costs one round trip instead of three (BEGIN, it, COMMIT). For reads
  // that one statement answers consistently, and writes that one statement makes whole
  // (OK means committed: libpq reports a failed commit as the statement's error).
  absl::Status Autocommit(const std::function<absl::Status(pqxx::transaction_base&)>& fn);

  // Runs `fn` on a connection outside any transaction (for LISTEN, COPY, or statements that
  // cannot run in a transaction).
  absl::Status WithConnection(const std::function<absl::Status(pqxx::connection&)>& fn);

 private:
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Open();
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Take();
  void Give(std::unique_ptr<pqxx::connection> conn);

  const PoolOptions options_;
  mutable absl::Mutex mu_;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdp::storage

#endif  // CDP_STORAGE_POOL_H_
