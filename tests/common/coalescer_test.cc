// Concurrent calls share combined calls: each caller gets its own answer, no more than
// `senders` combined calls are ever in flight, none is empty, the weight limit holds, and
// a failed combined call fails every request in it.
#include "services/common/coalescer.h"

#include <atomic>
#include <string>
#include <thread>

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

}  // namespace
}  // namespace cdp
