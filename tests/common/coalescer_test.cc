// Concurrent calls share combined calls: each caller gets its own answer, no more than
// `senders` combined calls are ever in flight, none is empty, the weight limit holds, and
// a failed combined call fails every request in it; the same for AsyncCoalescer, whose
// callers do not wait.
#include "services/common/coalescer.h"

#include <atomic>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace cdp {
namespace {

struct Neighbour {
  std::atomic<int> calls{0}, in_flight{0}, most_in_flight{0}, empty_calls{0}, heaviest{0};
  std::atomic<bool> fail{false};

  absl::StatusOr<std::vector<std::string>> Send(const std::vector<const std::vector<int>*>& requests) {
    ++calls;
    const int now = ++in_flight;
    for (int seen = most_in_flight.load(); now > seen && !most_in_flight.compare_exchange_weak(seen, now);) {
    }
    if (requests.empty()) ++empty_calls;
    int weight = 0;
    for (const auto* r : requests) weight += static_cast<int>(r->size());
    for (int seen = heaviest.load(); weight > seen && !heaviest.compare_exchange_weak(seen, weight);) {
    }
    // A call takes a moment, as a round trip does, so that requests queue up meanwhile.
    absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(1));
    --in_flight;
    if (fail) return absl::UnavailableError("neighbour down");
    std::vector<std::string> out;
    for (const auto* r : requests) {
      std::string answer;
      for (int v : *r) answer += std::to_string(v * 2) + ",";
      out.push_back(answer);
    }
    return out;
  }
};

Coalescer<std::vector<int>, std::string>::Options Opts(int senders, int max_weight) {
  return {.senders = senders,
          .max_weight = max_weight,
          .weight = [](const std::vector<int>& r) { return static_cast<int>(r.size()); }};
}

TEST(CoalescerTest, ConcurrentCallsShareCombinedCallsAndGetTheirOwnAnswers) {
  for (int senders : {1, 2}) {
    Neighbour n;
    Coalescer<std::vector<int>, std::string> c(
        [&](const auto& requests) { return n.Send(requests); }, Opts(senders, 10));
    constexpr int kThreads = 16, kEach = 30;
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          std::vector<int> request(1 + i % 3, t * 1000 + i);
          std::string expected;
          for (int v : request) expected += std::to_string(v * 2) + ",";
          auto got = c.Call(request);
          if (!got.ok() || *got != expected) ++wrong;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong.load(), 0) << senders;
    EXPECT_LT(n.calls.load(), kThreads * kEach) << senders;  // shared, not one call per request
    EXPECT_LE(n.most_in_flight.load(), senders);
    EXPECT_EQ(n.empty_calls.load(), 0);
    EXPECT_LE(n.heaviest.load(), 10);
  }
}

TEST(CoalescerTest, ARequestHeavierThanTheLimitGoesAlone) {
  Neighbour n;
  Coalescer<std::vector<int>, std::string> c([&](const auto& requests) { return n.Send(requests); }, Opts(1, 2));
  auto got = c.Call({1, 2, 3, 4});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "2,4,6,8,");
}

TEST(CoalescerTest, AFailedCombinedCallFailsEveryRequestInIt) {
  Neighbour n;
  n.fail = true;
  Coalescer<std::vector<int>, std::string> c([&](const auto& requests) { return n.Send(requests); }, Opts(1, 100));
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      if (c.Call({1}).status().code() == absl::StatusCode::kUnavailable) ++failed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 8);
}

TEST(CoalescerTest, AnAnswerForTheWrongNumberOfRequestsIsAnError) {
  Coalescer<std::vector<int>, std::string> c(
      [](const auto&) -> absl::StatusOr<std::vector<std::string>> { return std::vector<std::string>{}; },
      Opts(1, 100));
  EXPECT_EQ(c.Call({1}).status().code(), absl::StatusCode::kInternal);
}

// The asynchronous coalescer over a neighbour that answers on a thread of its own a
// moment later, as an asynchronous gRPC call does.
class AsyncNeighbour {
 public:
  using C = AsyncCoalescer<std::vector<int>, std::string>;
  ~AsyncNeighbour() {
    for (;;) {
      std::thread t;
      {
        absl::MutexLock lock(&mu_);
        if (threads_.empty()) return;
        t = std::move(threads_.back());
        threads_.pop_back();
      }
      t.join();
    }
  }
  void Send(std::vector<std::vector<int>> requests, C::Answer answer) {
    ++calls;
    const int now = ++in_flight;
    for (int seen = most_in_flight.load(); now > seen && !most_in_flight.compare_exchange_weak(seen, now);) {
    }
    if (requests.empty()) ++empty_calls;
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([this, requests = std::move(requests), answer = std::move(answer)]() mutable {
      absl::Notification().WaitForNotificationWithTimeout(absl::Milliseconds(1));
      --in_flight;
      if (fail) return std::move(answer)(absl::UnavailableError("neighbour down"));
      std::vector<std::string> out;
      for (const auto& r : requests) {
        std::string a;
        for (int v : r) a += std::to_string(v * 2) + ",";
        out.push_back(a);
      }
      if (short_answer) out.pop_back();
      std::move(answer)(std::move(out));
    });
  }
  std::atomic<int> calls{0}, in_flight{0}, most_in_flight{0}, empty_calls{0};
  std::atomic<bool> fail{false}, short_answer{false};

 private:
  absl::Mutex mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

// Every caller's answer, waited for outside the coalescer.
struct Answers {
  void Expect(int n) {
    absl::MutexLock lock(&mu);
    expected += n;
  }
  Done<std::string> For(std::string want) {
    return [this, want = std::move(want)](absl::StatusOr<std::string> got) {
      absl::MutexLock lock(&mu);
      if (!got.ok()) {
        codes.push_back(got.status().code());
      } else if (*got != want) {
        ++wrong;
      }
      ++answered;
    };
  }
  void WaitForAll() {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](Answers* a) ABSL_NO_THREAD_SAFETY_ANALYSIS { return a->answered == a->expected; }, this));
  }
  absl::Mutex mu;
  int expected ABSL_GUARDED_BY(mu) = 0;
  int answered ABSL_GUARDED_BY(mu) = 0;
  int wrong ABSL_GUARDED_BY(mu) = 0;
  std::vector<absl::StatusCode> codes ABSL_GUARDED_BY(mu);
};

TEST(AsyncCoalescerTest, CallsReturnAtOnceShareCombinedCallsAndGetTheirOwnAnswers) {
  for (int senders : {1, 2}) {
    Answers answers;
    {
      AsyncNeighbour n;
      AsyncNeighbour::C c([&](auto requests, auto answer) { n.Send(std::move(requests), std::move(answer)); },
                          Opts(senders, 10));
      constexpr int kThreads = 8, kEach = 50;
      answers.Expect(kThreads * kEach);
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < kEach; ++i) {
            std::vector<int> request(1 + i % 3, t * 1000 + i);
            std::string expected;
            for (int v : request) expected += std::to_string(v * 2) + ",";
            c.Call(std::move(request), answers.For(expected));  // does not wait for the answer
          }
        });
      }
      for (auto& t : threads) t.join();
      answers.WaitForAll();
      EXPECT_LT(n.calls.load(), kThreads * kEach) << senders;  // shared, not one call per request
      EXPECT_LE(n.most_in_flight.load(), senders);
      EXPECT_EQ(n.empty_calls.load(), 0);
    }
    absl::MutexLock lock(&answers.mu);
    EXPECT_EQ(answers.wrong, 0) << senders;
    EXPECT_TRUE(answers.codes.empty()) << senders;
  }
}

TEST(AsyncCoalescerTest, AFailedOrMiscountedCombinedCallFailsEveryRequestInIt) {
  for (bool short_answer : {false, true}) {
    Answers answers;
    {
      AsyncNeighbour n;
      n.fail = !short_answer;
      n.short_answer = short_answer;
      AsyncNeighbour::C c([&](auto requests, auto answer) { n.Send(std::move(requests), std::move(answer)); },
                          Opts(1, 100));
      answers.Expect(20);
      for (int i = 0; i < 20; ++i) c.Call({i}, answers.For(""));
      answers.WaitForAll();
    }
    absl::MutexLock lock(&answers.mu);
    ASSERT_EQ(answers.codes.size(), 20u);
    for (absl::StatusCode code : answers.codes) {
      EXPECT_EQ(code, short_answer ? absl::StatusCode::kInternal : absl::StatusCode::kUnavailable);
    }
  }
}

TEST(AsyncCoalescerTest, ASendThatAnswersBeforeItReturnsNeitherRecursesNorStalls) {
  // The first combined call is answered later, so that a long queue builds behind it;
  // every later one is answered before the send returns. Pump recursing once per call
  // would overflow the answering thread's stack here.
  constexpr int kQueued = 200000;
  Answers answers;
  absl::Notification release;
  std::thread first_answer;
  std::atomic<int> calls{0};
  {
    AsyncCoalescer<std::vector<int>, std::string> c(
        [&](std::vector<std::vector<int>> requests, AsyncCoalescer<std::vector<int>, std::string>::Answer answer) {
          std::vector<std::string> out(requests.size(), "x");
          if (calls++ == 0) {
            first_answer = std::thread([&release, out = std::move(out), answer = std::move(answer)]() mutable {
              release.WaitForNotification();
              std::move(answer)(std::move(out));
            });
            return;
          }
          std::move(answer)(std::move(out));
        },
        Opts(1, 1));
    answers.Expect(kQueued + 1);
    for (int i = 0; i <= kQueued; ++i) c.Call({i}, answers.For("x"));
    release.Notify();
    answers.WaitForAll();
    first_answer.join();
  }
  EXPECT_EQ(calls.load(), kQueued + 1);  // one request per combined call: weight limit 1
  absl::MutexLock lock(&answers.mu);
  EXPECT_EQ(answers.wrong, 0);
  EXPECT_TRUE(answers.codes.empty());
}

}  // namespace
}  // namespace cdp
