// Child processes for end-to-end tests: start a binary with its output in a file, signal
// it, and wait for its exit without polling (pidfd + poll).
#ifndef CDP_TESTS_TESTING_PROCESS_H_
#define CDP_TESTS_TESTING_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cdp::testing {

class ChildProcess {
 public:
  // Starts `binary` with `args`; stdout and stderr go to `output_file`. The child is killed
  // when the thread that started it ends (so when a test or benchmark dies, its services
  // die with it): start children from a thread that outlives them.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::string& binary,
                                                             const std::vector<std::string>& args,
                                                             const std::string& output_file);
  ~ChildProcess();  // kills (SIGKILL) and reaps the child if it still runs

  void Signal(int sig);
  // The exit code, or 128 + signal number if it was killed. DeadlineExceeded on timeout.
  absl::StatusOr<int> WaitForExit(absl::Duration timeout);
  // Everything the child wrote so far.
  std::string Output() const;
  pid_t pid() const { return pid_; }

 private:
  ChildProcess(pid_t pid, int pidfd, std::string output_file)
      : pid_(pid), pidfd_(pidfd), output_file_(std::move(output_file)) {}
  pid_t pid_;
  int pidfd_;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::string output_file_;
};

// Runs `binary` to completion (at most `timeout`) and returns {exit code, output}.
struct RunResult {
  int exit_code;
  std::string output;
};
absl::StatusOr<RunResult> RunToCompletion(const std::string& binary,
                                          const std::vector<std::string>& args,
                                          absl::Duration timeout);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// A TCP port on 127.0.0.1 for a gRPC server, held for the rest of this process by a
// socket bound to it with SO_REUSEPORT (never listening, so it takes no connections).
// FreePort's number is free only until someone else binds it: tests running side by side
// could be handed the same one, and gRPC servers, which bind with SO_REUSEPORT, would then
// share it without an error, each taking some of the other's connections. While the port
// is held, the kernel hands it to no one else; a gRPC server binds it alongside.
int ReserveGrpcPort();

// A fresh temporary directory under $TMPDIR, else /tmp. Removed by nobody: tests/run.sh
// and bench/run.sh point TMPDIR into directories of their own.
std::string MakeTempDir();

std::string ReadFileOrDie(const std::string& path);

}  // namespace cdp::testing

#endif  // CDP_TESTS_TESTING_PROCESS_H_
