#include "tests/testing/process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace cdp::testing {

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::string& binary, const std::vector<std::string>& args,
    const std::string& output_file) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // The child tells a failed exec through this pipe (closed by a successful one).
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(report[0]);
    close(report[1]);
    return absl::InternalError(absl::StrCat("cannot start ", binary));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec. The child dies with the thread that started
    // it (a test or benchmark that crashed, exited early or was interrupted leaves no
    // services behind); start children from a thread that lives as long as they should.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent is already gone
    const int out = open(output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0) {
      const int e = errno;
      (void)!write(report[1], &e, sizeof(e));
      _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(binary.c_str(), argv.data(), environ);
    const int e = errno;
    (void)!write(report[1], &e, sizeof(e));
    _exit(127);
  }
  close(report[1]);
  int child_errno = 0;
  const ssize_t n = read(report[0], &child_errno, sizeof(child_errno));
  close(report[0]);
  if (n > 0) {
    waitpid(pid, nullptr, 0);
    return absl::InternalError(absl::StrCat("cannot start ", binary, ": ", strerror(child_errno)));
  }
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return absl::InternalError("pidfd_open failed");
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, pidfd, output_file));
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    (void)WaitForExit(absl::Seconds(10));
  }
  close(pidfd_);
}

void ChildProcess::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

absl::StatusOr<int> ChildProcess::WaitForExit(absl::Duration timeout) {
  if (reaped_) return exit_code_;
  pollfd p{pidfd_, POLLIN, 0};
  int ready = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (ready <= 0) return absl::DeadlineExceededError("process still running");
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

std::string ChildProcess::Output() const { return ReadFileOrDie(output_file_); }

absl::StatusOr<RunResult> RunToCompletion(const std::string& binary,
                                          const std::vector<std::string>& args,
                                          absl::Duration timeout) {
  std::string out = MakeTempDir() + "/output";
  auto child = ChildProcess::Start(binary, args, out);
  if (!child.ok()) return child.status();
  auto code = (*child)->WaitForExit(timeout);
  if (!code.ok()) return code.status();
  return RunResult{*code, (*child)->Output()};
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int ReserveGrpcPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);  // fd stays open: the reservation
}

std::string MakeTempDir() {
  // Under $TMPDIR when set: tests/run.sh points it into its throwaway directory, so that
  // the services' logs and keys of a run go when the run does.
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp", "/cdp-test-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace cdp::testing
