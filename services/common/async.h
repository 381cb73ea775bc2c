// Asynchronous calls in one shape: a function that takes its arguments and a `Done<T>`,
// and calls it exactly once with the result, before returning or later on any thread.
// `Await` turns such a call back into a blocking one.
//
// Used where a thread must not wait on a neighbour: the read path's callback handler
// (services/profile/profile_service.h) and what it calls.
#ifndef CDP_SERVICES_COMMON_ASYNC_H_
#define CDP_SERVICES_COMMON_ASYNC_H_

#include <optional>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"

namespace cdp {

template <typename T>
using Done = absl::AnyInvocable<void(absl::StatusOr<T>) &&>;

// Calls `start(done)` and waits until `done` has been called; returns what it was given.
// Blocks the calling thread: only for threads that may wait (sync handlers, tools,
// tests), never on one that delivers asynchronous answers, which could wait on itself.
template <typename T, typename Start>
absl::StatusOr<T> Await(Start&& start) {
  absl::Notification finished;
  std::optional<absl::StatusOr<T>> result;
  std::forward<Start>(start)(Done<T>([&](absl::StatusOr<T> r) {
    result.emplace(std::move(r));
    finished.Notify();
  }));
  finished.WaitForNotification();
  return *std::move(result);
}

}  // namespace cdp

#endif  // CDP_SERVICES_COMMON_ASYNC_H_
