#include "services/portal/mailer.h"

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace cdp::portal {
namespace {

using ::cdp::testing::IsOk;

// Holds every message until released, as a slow mail server would.
class SlowMailer : public Mailer {
 public:
  absl::Status Send(const MailMessage& m) override {
    release.WaitForNotification();
    absl::MutexLock l(&mu);
    sent.push_back(m.to);
    return absl::OkStatus();
  }
  absl::Notification release;
  absl::Mutex mu;
  std::vector<std::string> sent;
};

TEST(QueuedMailerTest, SendingDoesNotWaitForTheServerAndNothingQueuedIsLost) {
  SlowMailer slow;
  {
    QueuedMailer queued(slow);
    for (const char* to : {"a@example.nl", "b@example.nl", "c@example.nl"}) {
      EXPECT_THAT(queued.Send({.to = to, .subject = "s", .text = "t"}), IsOk());  // returns while the server waits
    }
    {
      absl::MutexLock l(&slow.mu);
      EXPECT_TRUE(slow.sent.empty());
    }
    slow.release.Notify();
  }  // the destructor sends what is still queued
  EXPECT_THAT(slow.sent, ::testing::ElementsAre("a@example.nl", "b@example.nl", "c@example.nl"));
}

TEST(QueuedMailerTest, AFullQueueDropsInsteadOfBlocking) {
  SlowMailer slow;
  {
    QueuedMailer queued(slow, 2);
    for (int i = 0; i < 5; ++i) EXPECT_THAT(queued.Send({.to = "x@example.nl", .subject = "s", .text = "t"}), IsOk());
    slow.release.Notify();
  }
  // One may have left the queue before the others arrived; never all five.
  EXPECT_LE(slow.sent.size(), 3u);
  EXPECT_GE(slow.sent.size(), 2u);
}

}  // namespace
}  // namespace cdp::portal
