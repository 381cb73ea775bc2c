// Early-return helpers for absl::Status / absl::StatusOr<T>, which Debian's abseil
// (20220623) does not ship.
//
//   RETURN_IF_ERROR(DoThing());                 // returns the status if not OK
//   ASSIGN_OR_RETURN(auto conn, pool.Acquire()); // declares `conn` or returns the status
#ifndef CDP_SERVICES_COMMON_STATUS_MACROS_H_
#define CDP_SERVICES_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CDP_STATUS_CONCAT_INNER_(a, b) a##b
#define CDP_STATUS_CONCAT_(a, b) CDP_STATUS_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                                  \
  do {                                                         \
    ::absl::Status cdp_status_ = (expr);                       \
    if (!cdp_status_.ok()) return cdp_status_;                 \
  } while (false)

#define ASSIGN_OR_RETURN(lhs, expr) \
  CDP_ASSIGN_OR_RETURN_IMPL_(CDP_STATUS_CONCAT_(cdp_statusor_, __LINE__), lhs, expr)

#define CDP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // CDP_SERVICES_COMMON_STATUS_MACROS_H_
