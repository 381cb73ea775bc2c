#include "services/ingest/record.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace cdp::ingest {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;

resolution::PersonRecord Person(std::map<std::string, std::string> attributes) {
  auto n = NormalizeAttributes(attributes);
  EXPECT_THAT(n.status(), IsOk());
  return n.ok() ? n->person : resolution::PersonRecord();
}

TEST(RecordTest, FullNamesInTheUsualDutchWritings) {
  for (const char* written : {"Jan van der Berg", "Berg, Jan van der", "Jan Berg"}) {
    auto p = Person({{"full_name", written}});
    EXPECT_EQ(p.family, "berg") << written;
  }
  EXPECT_EQ(Person({{"full_name", "Jan van der Berg"}}).given, "jan");
  EXPECT_EQ(Person({{"full_name", "Berg, Jan van der"}}).given, "jan");
  EXPECT_EQ(Person({{"full_name", "J.P. van der Berg"}}).given, "j p");
  EXPECT_EQ(Person({{"full_name", "Anne-Marie de Vries"}}).given, "anne marie");
  EXPECT_EQ(Person({{"given_name", "Jan"}, {"family_name_prefix", "van der"}, {"family_name", "Berg"}}).family, "berg");
}

TEST(RecordTest, NormalisedFormsAndOnlyMobilePhonesForMatching) {
  auto n = NormalizeAttributes({{"phone_home", "020-1234567"}, {"email", " A@B.NL "}, {"customer_number", "k001"}});
  ASSERT_THAT(n.status(), IsOk());
  EXPECT_EQ(n->person.phone, "");  // a landline is the household's
  EXPECT_EQ(n->normal.at("phone_home"), "+31201234567");
  EXPECT_EQ(n->person.email, "a@b.nl");
  EXPECT_EQ(n->person.strong_id, "K001");
  EXPECT_EQ(n->values.at("email"), "A@B.NL");  // the original, trimmed
}

TEST(RecordTest, BadAttributesAreNamedWithoutTheirValue) {
  EXPECT_THAT(NormalizeAttributes({{"birthday", "1980-01-01"}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("attributes.birthday: unknown attribute")));
  auto bad = NormalizeAttributes({{"date_of_birth", "31-02-1980"}});
  EXPECT_THAT(bad.status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("attributes.date_of_birth")));
  EXPECT_THAT(std::string(bad.status().message()), ::testing::Not(HasSubstr("1980")));
  EXPECT_THAT(NormalizeAttributes({{"city", std::string(2000, 'x')}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("longer than 1024 bytes")));
}

}  // namespace
}  // namespace cdp::ingest
