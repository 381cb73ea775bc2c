// Concurrent reads share calls to the log, each gets back exactly its own events, and a
// failed call fails every read in it.
#include "services/profile/batching_log.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace cdp::profile {
namespace {

// Answers on a thread of its own a moment later, as the audit service's answer arrives
// on a gRPC thread.
class SlowLog : public AccessLogWriter {
 public:
  ~SlowLog() override {
    absl::MutexLock lock(&mu_);
    for (auto& t : threads_) t.join();
  }
  void AppendAsync(v1::AppendEventsRequest request, Done<v1::AppendEventsResponse> done) override {
    calls.fetch_add(1);
    if (fail.load()) return std::move(done)(absl::UnavailableError("audit down"));
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([this, request = std::move(request), done = std::move(done)]() mutable {
      // A call takes a moment, as a network call and a commit do, so that reads queue up.
      absl::SleepFor(absl::Milliseconds(2));
      v1::AppendEventsResponse out;
      for (const auto& item : request.events()) {
        auto* e = out.add_events();
        e->set_event_id("ev-" + item.customer_id());
        e->set_position(next.fetch_add(1));
      }
      std::move(done)(std::move(out));
    });
  }
  std::atomic<int> calls{0};
  std::atomic<int64_t> next{0};
  std::atomic<bool> fail{false};

 private:
  absl::Mutex mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

v1::AppendEventsRequest Request(const std::string& customer, int events) {
  v1::AppendEventsRequest r;
  for (int i = 0; i < events; ++i) r.add_events()->set_customer_id(absl::StrCat(customer, "-", i));
  return r;
}

TEST(BatchingAccessLogTest, ConcurrentReadsShareCallsAndGetTheirOwnEventsBack) {
  SlowLog slow;
  BatchingAccessLog log(slow);
  constexpr int kThreads = 16, kEach = 20;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string customer = absl::StrCat("c", t, "-", i);
        auto got = log.Append(Request(customer, 1 + i % 3));
        if (!got.ok() || got->events_size() != 1 + i % 3) {
          ++wrong;
          continue;
        }
        for (int k = 0; k < got->events_size(); ++k) {
          if (got->events(k).event_id() != absl::StrCat("ev-", customer, "-", k)) ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LT(slow.calls.load(), kThreads * kEach);  // shared calls, not one per read
}

TEST(BatchingAccessLogTest, AFailedCallFailsEveryReadInIt) {
  SlowLog slow;
  slow.fail = true;
  BatchingAccessLog log(slow);
  auto got = log.Append(Request("c", 2));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cdp::profile
