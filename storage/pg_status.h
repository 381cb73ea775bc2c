// The one mapping from libpqxx exceptions to absl::Status. libpqxx throws; nothing outside
// storage/ sees an exception.
#ifndef CDP_STORAGE_PG_STATUS_H_
#define CDP_STORAGE_PG_STATUS_H_

#include <exception>

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

// Convenience for `catch (...) { return CurrentExceptionStatus(); }`.
inline absl::Status CurrentExceptionStatus() {
  return StatusFromException(std::current_exception());
}

}  // namespace cdp::storage

#endif  // CDP_STORAGE_PG_STATUS_H_
