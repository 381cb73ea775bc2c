// The one mapping from libpqxx exceptions to absl::Status. libpqxx throws; nothing outside
// storage/ sees an exception.
#ifndef CDP_STORAGE_PG_STATUS_H_
#define CDP_STORAGE_PG_STATUS_H_

#include <exception>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cdp::storage {

// Maps the exception held by `e`:
//   unique_violation                          -> AlreadyExists
//   serialization_failure, deadlock_detected  -> Aborted (retry the transaction)
//   insufficient_privilege                    -> PermissionDenied
//   other integrity constraint violations     -> FailedPrecondition
//   broken_connection, admin shutdown,
//   cannot connect, commit outcome unknown    -> Unavailable
//   data exceptions (bad input syntax)        -> InvalidArgument
//   anything else                             -> Internal
// Messages carry the SQLSTATE and a fixed description, never PostgreSQL's message text,
// which can quote the offending values (personal data).
absl::Status StatusFromException(std::exception_ptr e);

// The same mapping for an SQLSTATE libpq reported directly (storage/binary_copy.cc).
absl::Status StatusFromSqlState(const std::string& sqlstate);

// Unavailable for a connection that could not be opened, with the first line of libpq's
// reason: it names host, port and role (no personal data) and is what an operator needs
// to fix a DSN.
absl::Status ConnectFailed(std::string_view libpq_message);

// Convenience for `catch (...) { return CurrentExceptionStatus(); }`.
inline absl::Status CurrentExceptionStatus() {
  return StatusFromException(std::current_exception());
}

}  // namespace cdp::storage

#endif  // CDP_STORAGE_PG_STATUS_H_
