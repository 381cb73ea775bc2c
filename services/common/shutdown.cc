#include "services/common/shutdown.h"

#include <pthread.h>
#include <signal.h>

#include "services/common/log.h"

namespace cdp::server {
namespace {

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR2);  // internal wake-up used by Trigger and the destructor
  return set;
}

}  // namespace

ShutdownSignal::ShutdownSignal() {
  sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  watcher_ = std::thread([this] {
    sigset_t set = ShutdownSignals();
    int sig = 0;
    sigwait(&set, &sig);
    if (sig != SIGUSR2) log::Info("shutdown_requested", {{"signal", sig}});
    if (!done_.HasBeenNotified()) done_.Notify();
  });
}

ShutdownSignal::~ShutdownSignal() {
  if (!done_.HasBeenNotified()) pthread_kill(watcher_.native_handle(), SIGUSR2);
  watcher_.join();
}

void ShutdownSignal::Trigger() {
  if (!done_.HasBeenNotified()) pthread_kill(watcher_.native_handle(), SIGUSR2);
}

}  // namespace cdp::server
