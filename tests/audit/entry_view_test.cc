// ReadEntry against the protobuf parser it stands in for: on entries the log writes, on
// encodings the log never writes but the parser accepts, and on damaged bytes.
#include "services/audit/entry_view.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "proto/cdp/v1/audit.pb.h"
#include "services/audit/access_log.h"
#include "services/common/proto_time.h"

namespace cdp::audit {
namespace {

using ::testing::ElementsAre;

// What ReadEntry must find, from the parsed message.
struct Expected {
  int64_t position;
  std::string event_id, caller, subject_pseudonym, purpose, acting_party_id;
  absl::Time time;
  std::vector<std::string> fields;
  std::string_view outcome;
};

Expected FromParsed(const v1::AccessEvent& e) {
  std::set<std::string> fields(e.fields_released().begin(), e.fields_released().end());
  for (const auto& [field, reason] : e.fields_withheld()) fields.insert(field);
  return {e.position(), e.event_id(), e.caller(), e.subject_pseudonym(), e.purpose(), e.acting_party().id(),
          FromProtoTime(e.time()), std::vector<std::string>(fields.begin(), fields.end()),
          OutcomeFor(static_cast<size_t>(e.fields_released_size()), e.fields_withheld().size())};
}

void ExpectSame(const EntryView& view, const Expected& want, const std::string& context) {
  SCOPED_TRACE(context);
  EXPECT_EQ(view.position, want.position);
  EXPECT_EQ(view.event_id, want.event_id);
  EXPECT_EQ(view.caller, want.caller);
  EXPECT_EQ(view.subject_pseudonym, want.subject_pseudonym);
  EXPECT_EQ(view.purpose, want.purpose);
  EXPECT_EQ(view.acting_party_id, want.acting_party_id);
  EXPECT_EQ(view.time, want.time);
  EXPECT_EQ(std::vector<std::string>(view.fields.begin(), view.fields.end()), want.fields);
  EXPECT_EQ(OutcomeFor(view.released, view.withheld), want.outcome);
}

v1::AccessEvent RandomEvent(std::mt19937& rng) {
  auto word = [&](int max_length) {
    std::string s(std::uniform_int_distribution<int>(0, max_length)(rng), 'a');
    for (char& c : s) c = static_cast<char>('a' + rng() % 26);
    return s;
  };
  // With a name that begins another and one past ASCII (bytes above 0x7f sort last).
  const char* kFields[] = {"given_name", "family_name", "email", "phone", "address", "date_of_birth",
                           "email_verified", "\xc3\xa9tat_civil"};
  v1::AccessEvent e;
  e.set_event_id(word(36));
  e.set_position(static_cast<int64_t>(rng() % 4 == 0 ? rng() : rng() % 1000));
  e.set_caller(absl::StrCat("spiffe://cdp.local/service/", word(12)));
  if (rng() % 4 != 0) e.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  if (rng() % 4 != 0) e.mutable_acting_party()->set_id(word(10));
  e.set_subject_pseudonym(word(40));
  e.set_purpose(word(20));
  e.set_legal_basis(word(10));
  e.mutable_justification()->set_reference(word(30));
  for (int k = static_cast<int>(rng() % 5); k > 0; --k) e.add_fields_released(kFields[rng() % 8]);
  for (int k = static_cast<int>(rng() % 4); k > 0; --k) (*e.mutable_fields_withheld())[kFields[rng() % 8]] = word(20);
  e.set_consent_version(static_cast<int64_t>(rng() % 100));
  e.set_request_id(word(20));
  if (rng() % 5 != 0) {
    *e.mutable_time() = ToProtoTime(absl::FromUnixMicros(1790000000000000 + static_cast<int64_t>(rng())));
  }
  e.set_recorded_by(word(30));
  return e;
}

TEST(ReadEntryTest, ReadsWhatTheParserReadsFromTheLogsOwnEntries) {
  std::mt19937 rng(20261204);
  EntryView view;
  for (int i = 0; i < 2000; ++i) {
    const v1::AccessEvent e = RandomEvent(rng);
    const std::string entry = EntryOf(e);
    ASSERT_TRUE(ReadEntry(entry, &view)) << i;
    v1::AccessEvent parsed;
    ASSERT_TRUE(parsed.ParseFromString(entry));
    ExpectSame(view, FromParsed(parsed), absl::StrCat("event ", i));
  }
}

TEST(ReadEntryTest, FollowsTheParsersRulesOnEncodingsTheLogNeverWrites) {
  v1::AccessEvent first, second;
  first.set_caller("first");
  first.mutable_acting_party()->set_id("agent-1");
  first.mutable_time()->set_seconds(100);
  first.add_fields_released("email");
  second.set_caller("second");                              // a repeated singular field: the last wins
  second.mutable_acting_party()->set_kind(v1::ActingParty::BOT);  // sub-messages merge: id kept
  second.mutable_time()->set_nanos(5);                      // seconds kept, nanos added
  (*second.mutable_fields_withheld())["phone"] = "no consent";
  // Unknown fields of every wire type, and a known field with the wrong wire type.
  const std::string unknown = std::string("\xa0\x06\x07", 3) +        // field 100, varint
                              std::string("\xa9\x06", 2) + std::string(8, 'x') +  // fixed64
                              std::string("\xad\x06", 2) + std::string(4, 'y') +  // fixed32
                              std::string("\xab\x06\x08\x01\xac\x06", 6) +      // group with a varint inside
                              std::string("\x19", 1) + std::string(8, 'z');      // field 3 (caller) as fixed64
  const std::string entry = first.SerializeAsString() + unknown + second.SerializeAsString();
  v1::AccessEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(entry));
  EntryView view;
  ASSERT_TRUE(ReadEntry(entry, &view));
  ExpectSame(view, FromParsed(parsed), "merged");
  EXPECT_EQ(view.caller, "second");
  EXPECT_EQ(view.acting_party_id, "agent-1");
  EXPECT_EQ(view.time, absl::FromUnixSeconds(100) + absl::Nanoseconds(5));
  EXPECT_THAT(view.fields, ElementsAre("email", "phone"));
  EXPECT_EQ(OutcomeFor(view.released, view.withheld), "released");
}

TEST(ReadEntryTest, RefusesWhatTheParserRefusesAndAgreesOnWhatItAccepts) {
  std::mt19937 rng(7);
  const google::protobuf::LogSilencer quiet;  // the parser's complaints about damaged strings
  EntryView view;
  int refused = 0, accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string entry = EntryOf(RandomEvent(rng));
    switch (rng() % 3) {
      case 0: entry.resize(rng() % entry.size()); break;                          // cut short
      case 1: entry[rng() % entry.size()] = static_cast<char>(rng()); break;      // a byte changed
      default: entry.insert(rng() % entry.size(), 1, static_cast<char>(rng()));  // a byte inserted
    }
    v1::AccessEvent parsed;
    // The parser also refuses strings that are not UTF-8, which ReadEntry does not look
    // at (a changed entry fails its hash anyway): so only one direction each way.
    const bool parser_ok = parsed.ParseFromString(entry);
    const bool read_ok = ReadEntry(entry, &view);
    if (parser_ok) {
      ASSERT_TRUE(read_ok) << "case " << i;
      ExpectSame(view, FromParsed(parsed), absl::StrCat("case ", i));
      ++accepted;
    }
    if (!read_ok) {
      EXPECT_FALSE(parser_ok) << "case " << i;
      ++refused;
    }
  }
  // Both kinds occur, so the comparison above was tested both ways.
  EXPECT_GT(refused, 1000);
  EXPECT_GT(accepted, 1000);
}

TEST(FieldsColumnTest, IsFieldsColumnAcceptsExactlyWhatFieldsColumnMakes) {
  const std::vector<std::vector<std::string_view>> lists = {
      {}, {"email"}, {"date_of_birth", "email"}, {"email", "email_verified", "given_name"}};
  for (const auto& fields : lists) {
    const std::string column = FieldsColumn(fields);
    EXPECT_TRUE(IsFieldsColumn(column, fields)) << column;
    for (const std::string& other :
         {column + " ", " " + column, column + "x", absl::StrCat(column, " email"), column.substr(0, column.size() / 2),
          std::string("email  email_verified given_name"), std::string("email_verified")}) {
      if (other != column) EXPECT_FALSE(IsFieldsColumn(other, fields)) << "'" << other << "' for '" << column << "'";
    }
  }
  EXPECT_EQ(FieldsColumn({"date_of_birth", "email"}), "date_of_birth email");
  EXPECT_TRUE(ValidFieldName("date_of_birth"));
  EXPECT_FALSE(ValidFieldName(""));
  EXPECT_FALSE(ValidFieldName("date of_birth"));
}

}  // namespace
}  // namespace cdp::audit
