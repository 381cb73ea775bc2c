#include "services/ingest/record.h"

#include <algorithm>
#include <utility>
#include <vector>

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

// A record as it came in (a protobuf map, in no particular order) is normalised as the same
// attributes in a std::map are, and of several bad attributes the first by name is named.
TEST(RecordTest, AProtobufMapNormalisesAsTheSameAttributesInAStdMap) {
  const std::map<std::string, std::string> good = {
      {"full_name", "Berg, Jan van der"}, {"email", " JP@Example.NL "}, {"phone_mobile", "06-12345678"},
      {"postcode", "1234 ab"}, {"house_number", "12 a"}, {"date_of_birth", "09-04-1980"}};
  google::protobuf::Map<std::string, std::string> as_sent(good.begin(), good.end());
  auto from_std = NormalizeAttributes(good);
  auto from_proto = NormalizeAttributes(as_sent);
  ASSERT_THAT(from_std.status(), IsOk());
  ASSERT_THAT(from_proto.status(), IsOk());
  EXPECT_EQ(from_proto->values, from_std->values);
  EXPECT_EQ(from_proto->normal, from_std->normal);
  EXPECT_EQ(from_proto->person.family, "berg");
  EXPECT_EQ(from_proto->person.phone, "+31612345678");

  // Many bad names, filled in every rotation of their order: a map handing out whichever
  // comes first cannot name the first by name each time.
  std::vector<std::pair<std::string, std::string>> bad_ones = {
      {"zodiac", "x"}, {"birthday", "x"}, {"shoe_size", "x"}, {"aa_unknown", "x"},
      {"nickname", "x"}, {"pet", "x"}, {"city", std::string(2000, 'x')}};
  for (size_t turn = 0; turn < bad_ones.size(); ++turn) {
    std::rotate(bad_ones.begin(), bad_ones.begin() + 1, bad_ones.end());
    google::protobuf::Map<std::string, std::string> bad;
    for (const auto& [name, value] : bad_ones) bad[name] = value;
    bad.insert(good.begin(), good.end());
    EXPECT_THAT(NormalizeAttributes(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("attributes.aa_unknown: unknown attribute")))
        << "turn " << turn;
    bad.erase("aa_unknown");
    bad.erase("birthday");
    EXPECT_THAT(NormalizeAttributes(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("attributes.city: longer than 1024 bytes")))
        << "turn " << turn;
  }
}

}  // namespace
}  // namespace cdp::ingest
