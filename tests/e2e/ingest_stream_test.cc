// WriteRecords over mTLS against the real cdp-ingest: a client may send batches ahead of
// their acks (the service prepares the next batch while it stores one), acks come back in
// order, and an error in any batch reaches the client as the call's status.
#include "absl/strings/str_cat.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "services/common/client.h"
#include "services/common/proto_time.h"
#include "tests/testing/platform.h"
#include "tests/testing/status_matchers.h"

namespace cdp {
namespace {

using ::cdp::testing::IsOk;
using ::testing::HasSubstr;

class IngestStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    pki_ = std::make_unique<testing::TestPki>(
        std::vector<std::string>{"service/ingest", "operator/cdpctl", "service/chatbot"});
    db_ = std::make_unique<testing::TestDatabase>();
    auto ingest = testing::StartServing("ingest", *pki_, *db_);
    ASSERT_THAT(ingest.status(), IsOk());
    ingest_ = *std::move(ingest);
  }
  std::unique_ptr<v1::IngestService::Stub> Stub(const std::string& identity = "operator/cdpctl") {
    return v1::IngestService::NewStub(pki_->Channel(ingest_.port, identity));
  }
  // Batch `b` of `n` people, each a CRM record of their own ("c<b>-<i>").
  static v1::WriteRecordsRequest Batch(int b, int n) {
    v1::WriteRecordsRequest req;
    for (int i = 0; i < n; ++i) {
      v1::SourceRecord* r = req.add_records();
      r->set_source_system("crm");
      r->set_record_id(absl::StrCat("c", b, "-", i));
      *r->mutable_changed_at() = ToProtoTime(absl::FromUnixSeconds(1700000000 + b));
      (*r->mutable_attributes())["customer_number"] = absl::StrCat("K", 1000000 + b * 1000 + i);
      (*r->mutable_attributes())["given_name"] = absl::StrCat("Anna", b * 1000 + i);
      (*r->mutable_attributes())["family_name"] = "Jansen";
    }
    return req;
  }

  std::unique_ptr<testing::TestPki> pki_;
  std::unique_ptr<testing::TestDatabase> db_;
  testing::RunningService ingest_;
};

TEST_F(IngestStreamTest, BatchesSentAheadAreAnsweredInOrder) {
  auto stub = Stub();
  grpc::ClientContext ctx;
  auto stream = stub->WriteRecords(&ctx);
  constexpr int kBatches = 6;
  // Everything first, then the answers: the service must read ahead, not wait for us.
  for (int b = 0; b < kBatches; ++b) ASSERT_TRUE(stream->Write(Batch(b, 70)));
  ASSERT_TRUE(stream->WritesDone());
  for (int b = 0; b < kBatches; ++b) {
    v1::WriteRecordsResponse resp;
    ASSERT_TRUE(stream->Read(&resp)) << "batch " << b;
    ASSERT_EQ(resp.acks_size(), 70);
    for (int i = 0; i < 70; ++i) {
      EXPECT_EQ(resp.acks(i).record_id(), absl::StrCat("c", b, "-", i));
      EXPECT_EQ(resp.acks(i).outcome(), v1::RecordAck::ACCEPTED) << resp.acks(i).reason();
    }
  }
  v1::WriteRecordsResponse extra;
  EXPECT_FALSE(stream->Read(&extra));
  EXPECT_TRUE(stream->Finish().ok());

  // Stored: the same batches again are duplicates.
  grpc::ClientContext again_ctx;
  auto again = stub->WriteRecords(&again_ctx);
  ASSERT_TRUE(again->Write(Batch(3, 70)));
  v1::WriteRecordsResponse resp;
  ASSERT_TRUE(again->Read(&resp));
  ASSERT_EQ(resp.acks_size(), 70);
  EXPECT_EQ(resp.acks(69).outcome(), v1::RecordAck::DUPLICATE);
  again->WritesDone();
  EXPECT_TRUE(again->Finish().ok());
}

TEST_F(IngestStreamTest, ABadBatchBehindGoodOnesEndsTheCallWithItsError) {
  auto stub = Stub();
  grpc::ClientContext ctx;
  auto stream = stub->WriteRecords(&ctx);
  ASSERT_TRUE(stream->Write(Batch(0, 10)));
  ASSERT_TRUE(stream->Write(Batch(1, 1001)));  // over the limit of 1000
  ASSERT_TRUE(stream->Write(Batch(2, 10)));    // never looked at
  v1::WriteRecordsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.acks_size(), 10);
  EXPECT_FALSE(stream->Read(&resp));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("records: at most 1000"));

  // Nothing after the bad batch was stored: batch 2 is new on a fresh stream.
  grpc::ClientContext again_ctx;
  auto again = stub->WriteRecords(&again_ctx);
  ASSERT_TRUE(again->Write(Batch(2, 10)));
  ASSERT_TRUE(again->Read(&resp));
  ASSERT_EQ(resp.acks_size(), 10);
  EXPECT_EQ(resp.acks(0).outcome(), v1::RecordAck::ACCEPTED);
  again->WritesDone();
  EXPECT_TRUE(again->Finish().ok());
}

TEST_F(IngestStreamTest, ABatchTheDatabaseRefusesEndsTheCallAfterTheBatchesBeforeIt) {
  // The database refuses batch 2's first record when it is stored, after batch 2 passed
  // every check and was resolved, with batches 3 and 4 sent behind it.
  pqxx::connection admin(db_->AdminDsn());
  pqxx::nontransaction(admin).exec(
      "CREATE FUNCTION ingest.refuse_c2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "RAISE EXCEPTION 'refused for the test' USING ERRCODE = 'check_violation'; END $$; "
      "CREATE TRIGGER refuse_c2 BEFORE INSERT ON ingest.records FOR EACH ROW "
      "WHEN (NEW.record_id = 'c2-0') EXECUTE FUNCTION ingest.refuse_c2()");
  auto stub = Stub();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub->WriteRecords(&ctx);
  for (int b = 0; b < 5; ++b) ASSERT_TRUE(stream->Write(Batch(b, 50)));
  stream->WritesDone();
  v1::WriteRecordsResponse resp;
  for (int b = 0; b < 2; ++b) {
    ASSERT_TRUE(stream->Read(&resp)) << "batch " << b;
    EXPECT_EQ(resp.acks(0).record_id(), absl::StrCat("c", b, "-0"));
  }
  EXPECT_FALSE(stream->Read(&resp));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();

  // A client that sends one batch and waits for its acks before sending more (cdpctl
  // import --strict) hears of the failure at once, with the stream still open.
  {
    grpc::ClientContext one_ctx;
    one_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto one = stub->WriteRecords(&one_ctx);
    ASSERT_TRUE(one->Write(Batch(2, 50)));
    EXPECT_FALSE(one->Read(&resp));
    status = one->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  }

  // Batches 0 and 1 are stored; nothing of 2, 3 and 4, which are new on a fresh stream
  // (also to the service's matching index, which took batches 3 and 4 in provisionally
  // if it resolved them before batch 2 failed).
  pqxx::nontransaction(admin).exec("DROP TRIGGER refuse_c2 ON ingest.records");
  EXPECT_EQ(pqxx::nontransaction(admin).exec1("SELECT count(*) FROM ingest.records")[0].as<int64_t>(), 100);
  grpc::ClientContext again_ctx;  // a batch left neither stored nor abandoned would hang it
  again_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto again = stub->WriteRecords(&again_ctx);
  for (int b = 2; b < 5; ++b) ASSERT_TRUE(again->Write(Batch(b, 50)));
  again->WritesDone();
  for (int b = 2; b < 5; ++b) {
    ASSERT_TRUE(again->Read(&resp)) << "batch " << b;
    ASSERT_EQ(resp.acks_size(), 50);
    for (const v1::RecordAck& ack : resp.acks()) {
      EXPECT_EQ(ack.outcome(), v1::RecordAck::ACCEPTED) << ack.record_id() << ": " << ack.reason();
    }
  }
  EXPECT_TRUE(again->Finish().ok());
  EXPECT_EQ(pqxx::nontransaction(admin).exec1("SELECT count(*) FROM ingest.records")[0].as<int64_t>(), 250);
}

TEST_F(IngestStreamTest, ACallerWithoutThePermissionIsRefusedWithoutAnAck) {
  auto stub = Stub("service/chatbot");
  grpc::ClientContext ctx;
  auto stream = stub->WriteRecords(&ctx);
  stream->Write(Batch(0, 5));
  v1::WriteRecordsResponse resp;
  EXPECT_FALSE(stream->Read(&resp));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IngestStreamTest, AClientThatGoesAwayMidStreamLeavesTheServiceServing) {
  auto stub = Stub();
  {
    grpc::ClientContext ctx;
    auto stream = stub->WriteRecords(&ctx);
    for (int b = 0; b < 4; ++b) stream->Write(Batch(b, 200));
    ctx.TryCancel();
    stream->Finish().IgnoreError();
  }
  // The service goes on: a new stream is answered (a cancelled batch may or may not have
  // been stored, so the new records are others).
  grpc::ClientContext ctx;
  auto stream = stub->WriteRecords(&ctx);
  ASSERT_TRUE(stream->Write(Batch(9, 5)));
  v1::WriteRecordsResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.acks_size(), 5);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(ingest_.process->WaitForExit(absl::ZeroDuration()).status().code(), absl::StatusCode::kDeadlineExceeded)
      << "cdp-ingest exited";
}

}  // namespace
}  // namespace cdp
