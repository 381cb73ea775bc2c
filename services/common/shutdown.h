// Waits for SIGTERM or SIGINT without a signal handler: the signals are blocked in every
// thread and taken synchronously by a watcher thread, which then notifies.
#ifndef CDP_SERVICES_COMMON_SHUTDOWN_H_
#define CDP_SERVICES_COMMON_SHUTDOWN_H_

#include <thread>

#include "absl/synchronization/notification.h"

namespace cdp::server {

class ShutdownSignal {
 public:
  // Blocks SIGTERM and SIGINT for the calling thread and every thread it creates later:
  // construct it first thing in main(), before any other thread exists.
  ShutdownSignal();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Notified when a signal arrived (or Trigger was called).
  const absl::Notification& notification() const { return done_; }
  bool requested() const { return done_.HasBeenNotified(); }
  void Wait() const { done_.WaitForNotification(); }
  // Requests shutdown from inside the process.
  void Trigger();

 private:
  absl::Notification done_;
  std::thread watcher_;
};

}  // namespace cdp::server

#endif  // CDP_SERVICES_COMMON_SHUTDOWN_H_
