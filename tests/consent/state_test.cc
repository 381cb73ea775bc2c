#include "consent/state.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/proto_time.h"
#include "tests/testing/status_matchers.h"

namespace cdp::consent {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kCatalog = std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto";

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Catalog::FromFile(kCatalog);
    ASSERT_THAT(c.status(), IsOk());
    catalog_ = *c;
  }
  static v1::ConsentChoice Choice(const std::string& field, const std::string& category,
                                  const std::string& purpose, bool allow) {
    v1::ConsentChoice c;
    c.set_field(field);
    c.set_category(category);
    c.set_purpose(purpose);
    c.set_allow(allow);
    return c;
  }
  absl::Status Validate(std::vector<v1::ConsentChoice> choices) {
    google::protobuf::RepeatedPtrField<v1::ConsentChoice> field(choices.begin(), choices.end());
    return ValidateChoices(*catalog_, field, now_);
  }
  std::shared_ptr<const Catalog> catalog_;
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
};

TEST_F(StateTest, CustomerIdsAreOpaqueButBounded) {
  EXPECT_THAT(ValidateCustomerId("c-1001"), IsOk());
  EXPECT_THAT(ValidateCustomerId("urn:cdp:x.y_z"), IsOk());
  EXPECT_THAT(ValidateCustomerId(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("customer_id")));
  EXPECT_THAT(ValidateCustomerId(std::string(65, 'a')), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateCustomerId("jan@example.nl", "ids[3]"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ids[3]")));
}

TEST_F(StateTest, CategoryNamesAreLowerCase) {
  EXPECT_EQ(Catalog::ParseCategory("contact"), v1::CONTACT);
  EXPECT_EQ(Catalog::CategoryName(v1::INTERACTIONS), "interactions");
  EXPECT_EQ(Catalog::ParseCategory("CONTACT"), std::nullopt);
  EXPECT_EQ(Catalog::ParseCategory("category_unspecified"), std::nullopt);
  EXPECT_EQ(Catalog::ParseCategory(""), std::nullopt);
}

TEST_F(StateTest, ValidationNamesEachKindOfMistake) {
  EXPECT_THAT(Validate({}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("choices: must not be empty")));
  EXPECT_THAT(Validate({Choice("email", "contact", "direct-marketing", true)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("choices[0]: set exactly one")));
  EXPECT_THAT(Validate({Choice("", "", "direct-marketing", true)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("choices[0]: set exactly one")));
  EXPECT_THAT(Validate({Choice("email", "", "direct-marketing", true), Choice("email", "", "direct-marketing", false)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("choices[1]: a second choice")));
  EXPECT_THAT(Validate({Choice("date_of_birth", "", "direct-marketing", true)}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("choices[0].field: purpose \"direct-marketing\" never uses field \"date_of_birth\"")));
  EXPECT_THAT(Validate({Choice("", "location", "direct-marketing", true)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("never uses category \"location\"")));
  auto expired = Choice("email", "", "direct-marketing", true);
  *expired.mutable_expires_at() = ToProtoTime(now_);
  EXPECT_THAT(Validate({expired}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("choices[0].expires_at")));
  *expired.mutable_expires_at() = ToProtoTime(now_ + absl::Seconds(1));
  EXPECT_THAT(Validate({expired}), IsOk());
  // Objecting to a legitimate interest is a choice like any other.
  EXPECT_THAT(Validate({Choice("", "interactions", "service-analytics", false)}), IsOk());
}

TEST_F(StateTest, RestrictionsAddLiftAndRefuseWhatCannotBeDone) {
  auto change = [](bool restrict, std::vector<std::string> purposes) {
    v1::RestrictionChange c;
    c.set_restrict(restrict);
    for (auto& p : purposes) c.add_purposes(p);
    return c;
  };
  EXPECT_THAT(ValidateRestriction(*catalog_, change(true, {"legal-retention"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("restriction.purposes[0]")));
  EXPECT_THAT(ValidateRestriction(*catalog_, change(true, {"billing", "nope"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown purpose \"nope\"")));
  EXPECT_THAT(ValidateRestriction(*catalog_, change(true, {"billing", "billing"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("named twice")));
  EXPECT_THAT(ValidateRestriction(*catalog_, change(true, {})), IsOk());

  auto some = MergeRestriction({}, change(true, {"direct-marketing", "billing"}));
  ASSERT_THAT(some.status(), IsOk());
  EXPECT_FALSE(some->all());
  EXPECT_THAT(some->purposes(), ::testing::ElementsAre("billing", "direct-marketing"));
  auto fewer = MergeRestriction(*some, change(false, {"billing"}));
  ASSERT_THAT(fewer.status(), IsOk());
  EXPECT_THAT(fewer->purposes(), ::testing::ElementsAre("direct-marketing"));
  auto all = MergeRestriction(*fewer, change(true, {}));
  ASSERT_THAT(all.status(), IsOk());
  EXPECT_TRUE(all->all());
  EXPECT_THAT(MergeRestriction(*all, change(false, {"billing"})).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto lifted = MergeRestriction(*all, change(false, {}));
  ASSERT_THAT(lifted.status(), IsOk());
  EXPECT_FALSE(lifted->all());
  EXPECT_EQ(lifted->purposes_size(), 0);
}

TEST_F(StateTest, MergeReplacesTheSameTargetAndKeepsOrder) {
  google::protobuf::RepeatedPtrField<v1::ConsentChoice> current;
  *current.Add() = Choice("email", "", "direct-marketing", true);
  *current.Add() = Choice("", "contact", "direct-marketing", false);
  auto merged = MergeChoices(current, {Choice("email", "", "direct-marketing", false),
                                       Choice("email", "", "personalised-offers", true)});
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].field(), "email");
  EXPECT_FALSE(merged[0].allow());
  EXPECT_EQ(merged[1].category(), "contact");
  EXPECT_EQ(merged[2].purpose(), "personalised-offers");
}

TEST_F(StateTest, MatrixExplainsEveryCellAndExpiredChoicesLapse) {
  v1::CustomerConsent state;
  state.set_customer_id("c-1");
  state.set_version(3);
  auto lapsed = Choice("email", "", "direct-marketing", true);
  *lapsed.mutable_expires_at() = ToProtoTime(now_ - absl::Seconds(1));
  *state.add_choices() = lapsed;
  auto given = Choice("", "contact", "personalised-offers", true);
  given.set_channel(v1::PHONE);
  *state.add_choices() = given;
  v1::ConsentState matrix = EffectiveMatrix(*catalog_, state, now_);
  EXPECT_EQ(matrix.version(), 3);
  EXPECT_EQ(matrix.cells_size(), catalog_->field_count() * catalog_->purpose_count());
  EXPECT_EQ(matrix.choices_size(), 2);
  for (const auto& cell : matrix.cells()) {
    if (cell.field() == "email" && cell.purpose() == "direct-marketing") {
      EXPECT_FALSE(cell.allow());
      EXPECT_EQ(cell.rule(), "consent_default_off");
      EXPECT_FALSE(cell.has_choice());
    }
  }
}

}  // namespace
}  // namespace cdp::consent
