// IngestApi against the real PostgreSQL of tests/run.sh: resolution on arrival, idempotency,
// bad input, golden record with lineage, merge and unmerge, encryption at rest.
#include "services/ingest/ingest_api.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pqxx/pqxx"
#include "services/common/proto_time.h"
#include "services/ingest/record.h"
#include "services/ingest/resolution/resolver.h"
#include "storage/migrate.h"
#include "storage/migrations.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_database.h"
#include "tools/datagen/generator.h"

namespace cdp::ingest {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kCatalog = std::string(CDP_SOURCE_DIR) + "/consent/catalog/default.textproto";
const std::string kOperator = "spiffe://cdp.local/operator/cdpctl";
const std::string kProfile = "spiffe://cdp.local/service/profile";

v1::SourceRecord Record(const std::string& source, const std::string& id, int64_t at,
                        std::map<std::string, std::string> attributes) {
  v1::SourceRecord r;
  r.set_source_system(source);
  r.set_record_id(id);
  *r.mutable_changed_at() = ToProtoTime(absl::FromUnixSeconds(at));
  r.mutable_attributes()->insert(attributes.begin(), attributes.end());
  return r;
}

const std::map<std::string, std::string> kJan = {
    {"customer_number", "K0000001"}, {"given_name", "Jan Pieter"}, {"family_name_prefix", "van der"},
    {"family_name", "Berg"}, {"date_of_birth", "09-04-1980"}, {"email", "jp.vanderberg@example.nl"},
    {"phone_mobile", "06-12345678"}, {"street", "Kerkstraat"}, {"house_number", "12a"},
    {"postcode", "1011 AB"}, {"city", "Amsterdam"}};

class IngestApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CDP_REQUIRE_PG();
    db_ = std::make_unique<testing::TestDatabase>();
    ASSERT_THAT(storage::ApplyMigrations(db_->AdminDsn(), storage::migrations::ingest()).status(), IsOk());
    pool_ = std::make_unique<storage::Pool>(storage::PoolOptions{
        .dsn = db_->DsnAs("cdp_ingest"), .size = 4, .statements = IngestApi::Statements()});
    ASSERT_THAT(pool_->Connect(), IsOk());
    // The key store in a database of its own, as in production.
    key_db_ = std::make_unique<testing::TestDatabase>();
    ASSERT_THAT(storage::ApplyMigrations(key_db_->AdminDsn(), storage::migrations::keys()).status(), IsOk());
    key_pool_ = std::make_unique<storage::Pool>(storage::KeyStore::Options(key_db_->DsnAs("cdp_ingest"), 2));
    ASSERT_THAT(key_pool_->Connect(), IsOk());
    keys_ = std::make_unique<storage::KeyStore>(*key_pool_);
    auto catalog = consent::Catalog::FromFile(kCatalog);
    ASSERT_THAT(catalog.status(), IsOk());
    catalog_ = *catalog;
    auto key = storage::MasterKey::FromText(storage::MasterKey::GenerateText());
    ASSERT_THAT(key.status(), IsOk());
    key_ = std::make_unique<storage::MasterKey>(*key);
    UseOptions(IngestApi::Options{});
  }
  // The API on the same databases with other options.
  void UseOptions(IngestApi::Options options) {
    api_ = std::make_unique<IngestApi>(catalog_, *pool_, *key_, *keys_, std::move(options));
  }
  v1::WriteRecordsResponse Write(std::vector<v1::SourceRecord> records, bool dry_run = false) {
    v1::WriteRecordsRequest req;
    for (auto& r : records) *req.add_records() = std::move(r);
    req.set_dry_run(dry_run);
    auto res = api_->WriteBatch(kOperator, req);
    EXPECT_THAT(res.status(), IsOk());
    return res.ok() ? *res : v1::WriteRecordsResponse();
  }
  // Jan's CRM account, and a second one of his with another customer number, e-mail
  // address and birth date: two profiles, never joined automatically.
  std::pair<std::string, std::string> JanTwice() {
    auto a = Write({Record("crm", "c1", 1000, kJan)});
    auto other = kJan;
    other["customer_number"] = "K0000002";
    other["email"] = "jan.berg@werk.nl";
    other["date_of_birth"] = "1980-04-10";
    auto b = Write({Record("crm", "c2", 1000, other)});
    return {a.acks(0).profile_id(), b.acks(0).profile_id()};
  }
  int64_t Count(const std::string& sql) {
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    return tx.exec1(sql)[0].as<int64_t>();
  }
  // Runs and commits `sql` as the database's administrator, behind the service's back.
  void AdminExec(const std::string& sql) {
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    tx.exec0(sql);
    tx.commit();
  }
  std::map<std::string, v1::FieldValue> Fields(const std::string& profile) {
    v1::GetUnifiedProfileRequest r;
    r.set_profile_id(profile);
    auto p = api_->GetUnifiedProfile(kProfile, r);
    EXPECT_THAT(p.status(), IsOk());
    std::map<std::string, v1::FieldValue> out;
    if (p.ok()) for (const auto& f : p->fields()) out[f.field()] = f;
    return out;
  }
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<testing::TestDatabase> key_db_;
  std::unique_ptr<storage::Pool> pool_;
  std::unique_ptr<storage::Pool> key_pool_;
  std::unique_ptr<storage::KeyStore> keys_;
  std::unique_ptr<storage::MasterKey> key_;
  std::shared_ptr<const consent::Catalog> catalog_;
  std::unique_ptr<IngestApi> api_;
};

TEST_F(IngestApiTest, NewProfileIdsSortByWhenTheyWereMade) {
  const auto [first, second] = JanTwice();
  ASSERT_EQ(first.size(), 2 + 11 + 12) << first;  // "p-", milliseconds, 48 random bits
  ASSERT_NE(first, second);
  // The time part (milliseconds, zero-padded hex) never goes down from one batch to the next.
  EXPECT_LE(first.substr(0, 13), second.substr(0, 13));
  const absl::Time made = absl::FromUnixMillis(std::stoll(first.substr(2, 11), nullptr, 16));
  EXPECT_LT(absl::AbsDuration(absl::Now() - made), absl::Minutes(1));
}

TEST_F(IngestApiTest, OnePersonFromFourSourcesBecomesOneProfileWithLineage) {
  auto acks = Write({
      Record("crm", "c1", 1000, kJan),
      Record("webshop", "w1", 2000, {{"full_name", "Jan van der Berg"}, {"email", "JP.vanderberg@Example.nl"},
                                     {"phone_mobile", "+31 6 1234 5678"}, {"date_of_birth", "1980-04-09"},
                                     {"street", "Kerkstraat"}, {"house_number", "12-A"}, {"postcode", "1011AB"},
                                     {"city", "Amsterdam"}}),
      Record("billing", "b1", 1500, {{"full_name", "J.P. van der Berg"}, {"customer_number", "K0000001"},
                                     {"street", "Kerkstraat"}, {"house_number", "12 A"}, {"postcode", "1011 AB"},
                                     {"city", "Amsterdam"}}),
      Record("contact-centre", "cc1", 3000, {{"full_name", "Berg, Jan van der"}, {"phone_mobile", "0031612345678"}}),
  });
  ASSERT_EQ(acks.acks_size(), 4);
  for (const auto& a : acks.acks()) EXPECT_EQ(a.outcome(), v1::RecordAck::ACCEPTED) << a.record_id() << " " << a.reason();
  EXPECT_TRUE(acks.acks(0).new_profile());
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(acks.acks(i).profile_id(), acks.acks(0).profile_id())
        << acks.acks(i).record_id() << " " << acks.acks(i).reason();
    EXPECT_FALSE(acks.acks(i).new_profile());
  }
  auto fields = Fields(acks.acks(0).profile_id());
  EXPECT_EQ(fields["given_name"].value(), "Jan Pieter");
  EXPECT_EQ(fields["given_name"].lineage().source_system(), "crm");
  EXPECT_EQ(fields["given_name"].lineage().rule(), "source_trust");
  EXPECT_EQ(fields["date_of_birth"].value(), "1980-04-09");
  EXPECT_EQ(fields["email"].value(), "jp.vanderberg@example.nl");
  EXPECT_EQ(fields["phone_mobile"].value(), "+31612345678");
  EXPECT_EQ(fields["postal_address"].value(), "Kerkstraat 12a, 1011AB Amsterdam");
  EXPECT_EQ(fields["customer_number"].lineage().record_id(), "c1");
  EXPECT_EQ(fields["phone_mobile"].lineage().rule(), "source_trust");
  EXPECT_EQ(fields["phone_mobile"].lineage().source_system(), "crm");
}

TEST_F(IngestApiTest, ProfilesAreFoundByEmailPhoneOrCustomerNumberThroughKeyedHashes) {
  const std::string p = Write({Record("crm", "c1", 1000, kJan)}).acks(0).profile_id();
  auto find = [&](v1::FindProfilesRequest r) {
    auto found = api_->FindProfiles(kProfile, r);
    EXPECT_THAT(found.status(), IsOk());
    return found.ok() ? std::vector<std::string>(found->profile_ids().begin(), found->profile_ids().end())
                      : std::vector<std::string>{};
  };
  v1::FindProfilesRequest r;
  r.set_email("  JP.vanderBerg@Example.NL ");  // found as it is normalised on the way in
  EXPECT_EQ(find(r), std::vector<std::string>{p});
  r.set_phone("+31 6 1234 5678");
  EXPECT_EQ(find(r), std::vector<std::string>{p});
  r.set_customer_number("k0000001");
  EXPECT_EQ(find(r), std::vector<std::string>{p});
  r.set_email("someone.else@example.nl");
  EXPECT_TRUE(find(r).empty());
  r.set_email("not an address");
  EXPECT_THAT(api_->FindProfiles(kProfile, r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::StartsWith("email: ")));
  r.set_phone("12");
  EXPECT_THAT(api_->FindProfiles(kProfile, r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::StartsWith("phone: ")));
  r.set_customer_number("");
  EXPECT_THAT(api_->FindProfiles(kProfile, r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::StartsWith("customer_number: ")));
  r.set_customer_number(std::string(2000, 'K'));  // over the limit records have
  EXPECT_THAT(api_->FindProfiles(kProfile, r).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::StartsWith("customer_number: ")));
  EXPECT_THAT(api_->FindProfiles(kProfile, v1::FindProfilesRequest()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(api_->FindProfiles("spiffe://cdp.local/service/marketing", r).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Nothing stored says what was looked up.
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records, unnest(lookup_hashes) h "
                  "WHERE position(convert_to('vanderberg', 'UTF8') IN h) > 0"),
            0);
}

// Lookup keys as older versions stored them are found after migration 0010 moves them
// into records.lookup_hashes: rows of record_keys under whole 32-byte hashes for versions
// stored before migration 0006 (0006 keeps their first 16 bytes, 0007 leaves the versions'
// hashes NULL), and hashes concatenated in the version's row since 0007. An erased
// version keeps none, and hashes that are not whole stop the migration.
TEST_F(IngestApiTest, LookupKeysStoredByOlderVersionsAreFoundAfterTheMigrations) {
  // The hashes this master key gives the lookup keys (e-mail, phone, customer number) of
  // Jan's record in two versions, with two e-mail addresses, and of Piet's.
  auto jan_moved = kJan;
  jan_moved["email"] = "jan@berg.nl";
  auto piet_record = kJan;
  piet_record["customer_number"] = "K0000002";
  piet_record["full_name"] = "Piet de Vries";
  piet_record["email"] = "piet@devries.nl";
  piet_record["phone_mobile"] = "06-87654321";
  piet_record["date_of_birth"] = "1975-01-01";
  Write({Record("crm", "c1", 1000, kJan), Record("crm", "c2", 1000, piet_record)});
  Write({Record("crm", "c1", 2000, jan_moved)});
  auto hex_hashes = [&](const std::string& id, int64_t at_seconds) {
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    std::vector<std::string> out;
    for (const pqxx::row& r :
         tx.exec(absl::StrCat("SELECT encode(h, 'hex') FROM ingest.records, unnest(lookup_hashes) h "
                              "WHERE record_id = '", id, "' AND changed_at_us = ", at_seconds * 1000000))) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  };
  const std::vector<std::string> jan = hex_hashes("c1", 1000), jan_later = hex_hashes("c1", 2000),
                                 piet = hex_hashes("c2", 1000);
  ASSERT_EQ(jan.size(), 3u);
  ASSERT_EQ(jan_later.size(), 3u);
  ASSERT_EQ(piet.size(), 3u);
  std::vector<std::string> jan_new;  // what the later version added: its e-mail address's
  for (const std::string& h : jan_later) {
    if (std::find(jan.begin(), jan.end(), h) == jan.end()) jan_new.push_back(h);
  }
  ASSERT_EQ(jan_new.size(), 1u);

  auto up_to = [](const std::string& first_left_out) {
    storage::MigrationSet set = storage::migrations::ingest();
    auto it = std::find_if(set.files.begin(), set.files.end(),
                           [&](const storage::Migration& m) { return m.name == first_left_out; });
    EXPECT_NE(it, set.files.end()) << first_left_out;
    set.files.erase(it, set.files.end());
    return set;
  };
  auto exec = [](const testing::TestDatabase& db, const std::string& sql) {
    pqxx::connection c(db.AdminDsn());
    pqxx::work tx(c);
    tx.exec0(sql);
    tx.commit();
  };
  auto concatenated = [](const std::vector<std::string>& hashes) {
    std::string out;
    for (const std::string& h : hashes) out += h;
    return "decode('" + out + "', 'hex')";
  };

  // The same records in a database older versions wrote.
  testing::TestDatabase old;
  ASSERT_THAT(storage::ApplyMigrations(old.AdminDsn(), up_to("0006_shorter_lookup_hashes.sql")).status(), IsOk());
  exec(old, "INSERT INTO ingest.profiles (profile_id) VALUES ('p-jan'), ('p-piet'), ('p-gone')");
  // Before 0006: whole hashes in record_keys (16 more bytes of the same hash), none in
  // the record's row. Jan's first version, and a record of an erased customer whose key
  // row was left behind.
  exec(old, "INSERT INTO ingest.records (source_system, record_id, changed_at_us, profile_id, sealed) "
            "VALUES ('crm', 'c1', 1000, 'p-jan', '\\x00'), ('crm', 'c9', 1000, 'p-gone', '')");
  for (const std::string& h : jan) {
    exec(old, "INSERT INTO ingest.record_keys VALUES (decode('" + h + "' || repeat('ab', 16), 'hex'), 'crm', 'c1')");
  }
  exec(old, "INSERT INTO ingest.record_keys VALUES (decode(repeat('cd', 32), 'hex'), 'crm', 'c9')");
  exec(old, "UPDATE ingest.profiles SET erased_at = now() WHERE profile_id = 'p-gone'");
  ASSERT_THAT(storage::ApplyMigrations(old.AdminDsn(), up_to("0010_lookups_in_a_gin_index.sql")).status(), IsOk());
  // Between 0007 and 0010: each version's row keeps its hashes one after the other, and
  // record_keys takes the keys it did not have yet (Jan's new e-mail address).
  exec(old, "INSERT INTO ingest.records (source_system, record_id, changed_at_us, profile_id, sealed, lookup_hashes, seq) "
            "VALUES ('crm', 'c1', 2000, 'p-jan', '\\x00', " + concatenated(jan_later) + ", 2), "
            "('crm', 'c2', 1000, 'p-piet', '\\x00', " + concatenated(piet) + ", 2)");
  exec(old, "INSERT INTO ingest.record_keys VALUES (decode('" + jan_new[0] + "', 'hex'), 'crm', 'c1')");
  for (const std::string& h : piet) exec(old, "INSERT INTO ingest.record_keys VALUES (decode('" + h + "', 'hex'), 'crm', 'c2')");
  ASSERT_THAT(storage::ApplyMigrations(old.AdminDsn(), storage::migrations::ingest()).status(), IsOk());

  {
    pqxx::connection c(old.AdminDsn());
    pqxx::work tx(c);
    auto hashes = [&](const std::string& id, int64_t at) {
      return tx.exec1(absl::StrCat("SELECT cardinality(lookup_hashes) FROM ingest.records WHERE record_id = '", id,
                                   "' AND changed_at_us = ", at))[0].as<int>();
    };
    EXPECT_EQ(hashes("c1", 1000), 4);  // what record_keys held for the record: both versions' keys
    EXPECT_EQ(hashes("c1", 2000), 3);
    EXPECT_EQ(hashes("c2", 1000), 3);
    EXPECT_EQ(hashes("c9", 1000), 0);
    EXPECT_EQ(tx.exec1("SELECT to_regclass('ingest.record_keys') IS NULL")[0].as<bool>(), true);
  }
  storage::Pool pool(storage::PoolOptions{
      .dsn = old.DsnAs("cdp_ingest"), .size = 1, .statements = IngestApi::Statements()});
  ASSERT_THAT(pool.Connect(), IsOk());
  IngestApi api(catalog_, pool, *key_, *keys_, IngestApi::Options{});
  auto found = [&](v1::FindProfilesRequest r) -> std::vector<std::string> {
    auto f = api.FindProfiles(kProfile, r);
    EXPECT_THAT(f.status(), IsOk());
    return f.ok() ? std::vector<std::string>(f->profile_ids().begin(), f->profile_ids().end())
                  : std::vector<std::string>{};
  };
  v1::FindProfilesRequest by_email, by_later_email, by_phone, by_number;
  by_email.set_email("jp.vanderberg@example.nl");
  by_later_email.set_email("jan@berg.nl");
  by_phone.set_phone("06-87654321");
  by_number.set_customer_number("K0000002");
  EXPECT_EQ(found(by_email), std::vector<std::string>{"p-jan"});
  EXPECT_EQ(found(by_later_email), std::vector<std::string>{"p-jan"});
  EXPECT_EQ(found(by_phone), std::vector<std::string>{"p-piet"});
  EXPECT_EQ(found(by_number), std::vector<std::string>{"p-piet"});

  // A row whose hashes are not whole: the migration stops (naming the file and the error
  // code, not the row), and changes nothing.
  testing::TestDatabase broken;
  ASSERT_THAT(storage::ApplyMigrations(broken.AdminDsn(), up_to("0010_lookups_in_a_gin_index.sql")).status(), IsOk());
  exec(broken, "INSERT INTO ingest.profiles (profile_id, changed_seq) VALUES ('p-jan', 1)");
  exec(broken, "INSERT INTO ingest.records (source_system, record_id, changed_at_us, profile_id, sealed, lookup_hashes, seq) "
               "VALUES ('crm', 'c1', 1000, 'p-jan', '\\x00', decode(repeat('ab', 20), 'hex'), 2)");
  const absl::Status refused = storage::ApplyMigrations(broken.AdminDsn(), storage::migrations::ingest()).status();
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.message()), HasSubstr("SQLSTATE XX001"));  // data_corrupted
  pqxx::connection c(broken.AdminDsn());
  pqxx::work tx(c);
  EXPECT_EQ(tx.exec1("SELECT to_regclass('ingest.record_keys') IS NOT NULL")[0].as<bool>(), true);
}

TEST_F(IngestApiTest, SourceTrustAndPhoneRegionComeFromConfiguration) {
  auto catalog = consent::Catalog::FromFile(kCatalog);
  ASSERT_THAT(catalog.status(), IsOk());
  IngestApi::Options options;
  options.source_trust = {"webshop", "crm"};
  options.normalize.default_region = "BE";
  IngestApi webshop_first(*catalog, *pool_, *key_, *keys_, options);
  v1::WriteRecordsRequest req;
  *req.add_records() = Record("crm", "c1", 2000, kJan);
  *req.add_records() = Record("webshop", "w1", 1000, {{"full_name", "Jan van der Berg"},
                                                     {"email", "jp.vanderberg@example.nl"},
                                                     {"phone_mobile", "0470 12 34 56"},
                                                     {"date_of_birth", "1980-04-09"}});
  auto acks = webshop_first.WriteBatch(kOperator, req);
  ASSERT_THAT(acks.status(), IsOk());
  ASSERT_EQ(acks->acks(1).profile_id(), acks->acks(0).profile_id()) << acks->acks(1).reason();
  v1::GetUnifiedProfileRequest get;
  get.set_profile_id(acks->acks(0).profile_id());
  auto profile = webshop_first.GetUnifiedProfile(kProfile, get);
  ASSERT_THAT(profile.status(), IsOk());
  std::map<std::string, v1::FieldValue> fields;
  for (const auto& f : profile->fields()) fields[f.field()] = f;
  // The webshop is trusted first, though the CRM's record is newer.
  EXPECT_EQ(fields["email"].lineage().source_system(), "webshop");
  EXPECT_EQ(fields["email"].lineage().rule(), "source_trust");
  // A number without a country code is read as Belgian.
  EXPECT_EQ(fields["phone_mobile"].value(), "+32470123456");
}

TEST_F(IngestApiTest, InitialsAtAHomeJoinTheOnePersonTheyFitAndOtherwiseGoToReview) {
  const std::map<std::string, std::string> home = {
      {"street", "Dorpsstraat"}, {"house_number", "173"}, {"postcode", "6766 ER"}, {"city", "Ede"}};
  auto with = [&](std::map<std::string, std::string> a) {
    a.insert(home.begin(), home.end());
    return a;
  };
  auto first = Write({Record("crm", "c1", 1000, with({{"given_name", "Marloes Lieke"}, {"family_name", "Bruin"},
                                                     {"date_of_birth", "1957-11-27"}}))});
  // Billing knows two initials and the home: only Marloes Lieke fits.
  auto billing = Write({Record("billing", "b1", 2000, with({{"full_name", "M.L. Bruin"}}))});
  EXPECT_EQ(billing.acks(0).profile_id(), first.acks(0).profile_id()) << billing.acks(0).reason();
  // One initial could be anyone of the household written so: a person decides.
  auto one = Write({Record("billing", "b2", 2000, with({{"full_name", "M. Bruin"}}))});
  EXPECT_NE(one.acks(0).profile_id(), first.acks(0).profile_id());
  EXPECT_TRUE(one.acks(0).review());
  EXPECT_THAT(one.acks(0).reason(), HasSubstr("household"));
}

TEST_F(IngestApiTest, EvidenceAboveTheThresholdJoinsAndBetweenTheThresholdsGoesToReview) {
  // Jan's CRM record, and webshop accounts with his name and birth date only.
  const std::map<std::string, std::string> webshop = {
      {"given_name", "Jan Pieter"}, {"family_name", "van der Berg"}, {"date_of_birth", "1980-04-09"}};
  auto jan = NormalizeAttributes(kJan);
  auto shop = NormalizeAttributes(webshop);
  ASSERT_THAT(jan.status(), IsOk());
  ASSERT_THAT(shop.status(), IsOk());
  IngestApi::Options options;
  const double bits = options.model.BayesFactorBits(resolution::Compare(shop->person, jan->person));
  // The link threshold just under the pair's evidence: it joins.
  options.link_bits = bits - 1;
  options.review_bits = bits - 2;
  UseOptions(options);
  auto first = Write({Record("crm", "c1", 1000, kJan)});
  auto above = Write({Record("webshop", "w1", 2000, webshop)});
  EXPECT_EQ(above.acks(0).profile_id(), first.acks(0).profile_id()) << above.acks(0).reason();
  // Just over it, the same evidence is worth a look, not a join.
  options.link_bits = bits + 1;
  options.review_bits = bits - 1;
  UseOptions(options);
  auto between = Write({Record("webshop", "w2", 2000, webshop)});
  EXPECT_NE(between.acks(0).profile_id(), first.acks(0).profile_id());
  EXPECT_TRUE(between.acks(0).review());
  EXPECT_THAT(between.acks(0).reason(), HasSubstr("between the thresholds"));
}

TEST_F(IngestApiTest, BadRecordsAreRejectedByNameAndNothingOfThemIsStored) {
  auto no_time = Record("crm", "c2", 1000, kJan);
  no_time.clear_changed_at();
  auto acks = Write({Record("crm", "c1", 1000, {{"emial", "x@example.nl"}}),
                     Record("crm", "c3", 1000, {{"email", "not-an-address"}}),
                     Record("CRM!", "c4", 1000, kJan), no_time,
                     Record("crm", "c5", 1000, {{"postcode", "12345"}}),
                     Record("crm", "ok", 1000, kJan)});
  EXPECT_THAT(acks.acks(0).reason(), HasSubstr("attributes.emial: unknown attribute"));
  EXPECT_THAT(acks.acks(1).reason(), HasSubstr("attributes.email: not an e-mail address"));
  EXPECT_THAT(acks.acks(2).reason(), HasSubstr("source_system"));
  EXPECT_THAT(acks.acks(3).reason(), HasSubstr("changed_at: required"));
  EXPECT_THAT(acks.acks(4).reason(), HasSubstr("attributes.postcode"));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(acks.acks(i).outcome(), v1::RecordAck::REJECTED);
  EXPECT_EQ(acks.acks(5).outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records"), 1);
  // The reason never quotes the value.
  EXPECT_THAT(acks.acks(1).reason(), ::testing::Not(HasSubstr("not-an-address")));
  v1::WriteRecordsRequest too_many;
  for (int i = 0; i < 1001; ++i) *too_many.add_records() = Record("crm", absl::StrCat(i), 1, kJan);
  EXPECT_THAT(api_->WriteBatch(kOperator, too_many).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 1000")));
}

TEST_F(IngestApiTest, RecordsAreIdempotentByVersionAndNewVersionsStayWithTheirProfile) {
  auto first = Write({Record("crm", "c1", 1000, kJan)});
  auto again = Write({Record("crm", "c1", 1000, kJan)});
  EXPECT_EQ(again.acks(0).outcome(), v1::RecordAck::DUPLICATE);
  EXPECT_EQ(again.acks(0).profile_id(), first.acks(0).profile_id());
  auto moved = kJan;
  moved["street"] = "Dorpsstraat";
  moved["postcode"] = "9711 AB";
  moved["city"] = "Groningen";
  auto newer = Write({Record("crm", "c1", 5000, moved)});
  EXPECT_EQ(newer.acks(0).outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_EQ(newer.acks(0).profile_id(), first.acks(0).profile_id());
  EXPECT_THAT(Fields(first.acks(0).profile_id())["postal_address"].value(), HasSubstr("Groningen"));
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records"), 2);
}

TEST_F(IngestApiTest, ANewVersionThatContradictsItsProfileIsRejected) {
  auto first = Write({Record("crm", "c1", 1000, kJan),
                      Record("webshop", "w1", 1000, {{"full_name", "Jan van der Berg"},
                                                     {"email", "jp.vanderberg@example.nl"},
                                                     {"date_of_birth", "1980-04-09"}})});
  ASSERT_EQ(first.acks(1).profile_id(), first.acks(0).profile_id());
  // The webshop reuses w1 for someone else entirely.
  auto reused = Write({Record("webshop", "w1", 2000, {{"full_name", "Fatima El Amrani"},
                                                      {"email", "fatima@example.nl"},
                                                      {"date_of_birth", "1999-12-01"}})});
  EXPECT_EQ(reused.acks(0).outcome(), v1::RecordAck::REJECTED);
  EXPECT_THAT(reused.acks(0).reason(), HasSubstr("record id reused"));
  // A harmless update of the same record is accepted.
  auto update = Write({Record("webshop", "w1", 3000, {{"full_name", "Jan van der Berg"},
                                                      {"email", "jan@nieuw.nl"},
                                                      {"date_of_birth", "1980-04-09"}})});
  EXPECT_EQ(update.acks(0).outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_EQ(update.acks(0).profile_id(), first.acks(0).profile_id());
}

TEST_F(IngestApiTest, DryRunResolvesButStoresNothing) {
  auto acks = Write({Record("crm", "c1", 1000, kJan), Record("crm", "bad", 1, {{"x", "y"}})}, true);
  EXPECT_EQ(acks.acks(0).outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_TRUE(acks.acks(0).new_profile());
  EXPECT_EQ(acks.acks(1).outcome(), v1::RecordAck::REJECTED);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.profiles"), 0);
}

TEST_F(IngestApiTest, PersonalDataIsStoredOnlySealedWithKeysInTheKeyStore) {
  auto acks = Write({Record("crm", "c1", 1000, kJan)});
  for (const char* plain : {"vanderberg", "Berg", "12345678", "1980", "Kerkstraat", "1011"}) {
    EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM ingest.records WHERE position(convert_to('", plain,
                                 "', 'UTF8') IN sealed) > 0")), 0) << plain;
    EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM ingest.records, unnest(lookup_hashes) h "
                                 "WHERE position(convert_to('", plain, "', 'UTF8') IN h) > 0")), 0) << plain;
  }
  // No key in the data database: its backups hold ciphertext only.
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.profiles WHERE wrapped_key IS NOT NULL"), 0);
  auto stored = keys_->Get({acks.acks(0).profile_id()});
  ASSERT_THAT(stored.status(), IsOk());
  EXPECT_EQ(stored->size(), 1u);
}

TEST_F(IngestApiTest, TheKeyStoreLooksKeysUpOnOnePlanNotOneForEachCall) {
  std::string plan;
  ASSERT_THAT(key_pool_->Transact([&](pqxx::work& tx) {
    tx.exec_prepared("keys_get", "{p-1}");  // libpqxx prepares a statement on its first use
    for (const pqxx::row& r : tx.exec("EXPLAIN EXECUTE keys_get('{p-1}')")) plan += r[0].as<std::string>() + "\n";
    return absl::OkStatus();
  }), IsOk());
  // A custom plan, made for this call, would hold the id itself.
  EXPECT_THAT(plan, HasSubstr("$1")) << plan;
  EXPECT_THAT(plan, Not(HasSubstr("p-1"))) << plan;
}

TEST_F(IngestApiTest, ErasureDestroysTheKeyAndLookupsKeepsOnlyWhatTheLawRequiresAndAnswersAlike) {
  const int64_t recent = absl::ToUnixSeconds(absl::Now()) - 86400;
  auto billing = kJan;
  billing["payment_method_summary"] = "iDEAL, ING";
  auto acks = Write({Record("crm", "c1", 1000, kJan), Record("billing", "b1", recent, billing),
                     Record("webshop", "w1", 2000, {{"full_name", "Jan van der Berg"},
                                                    {"email", "jp.vanderberg@example.nl"},
                                                    {"date_of_birth", "1980-04-09"}})});
  const std::string profile = acks.acks(0).profile_id();
  ASSERT_EQ(acks.acks(1).profile_id(), profile);
  ASSERT_EQ(acks.acks(2).profile_id(), profile);

  // A copy of a sealed record, as a backup taken now would hold it, and the key that opens it.
  pqxx::binarystring backup_copy = [&] {
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    return pqxx::binarystring(tx.exec1("SELECT sealed FROM ingest.records WHERE record_id = 'c1'")[0]);
  }();
  ASSERT_GT(backup_copy.size(), 0u);

  v1::EraseProfileRequest erase;
  erase.set_profile_id(profile);
  v1::RetentionRule* rule = erase.add_retain();
  rule->set_purpose("legal-retention");
  for (const char* f : {"customer_number", "given_name", "family_name_prefix", "family_name", "initials",
                        "billing_address", "invoice_history", "payment_method_summary"}) {
    rule->add_fields(f);
  }
  rule->set_retention_days(2557);
  rule->add_sources("billing");
  const std::string kRights = "spiffe://cdp.local/service/rights";
  EXPECT_THAT(api_->EraseProfile(kOperator, erase).status(), StatusIs(absl::StatusCode::kPermissionDenied));
  v1::EraseProfileRequest unknown;
  unknown.set_profile_id("p-none");
  EXPECT_THAT(api_->EraseProfile(kRights, unknown).status(), StatusIs(absl::StatusCode::kNotFound));

  auto erased = api_->EraseProfile(kRights, erase);
  ASSERT_THAT(erased.status(), IsOk());
  EXPECT_EQ(erased->profile_id(), profile);
  EXPECT_EQ(erased->source_records_size(), 3);
  ASSERT_EQ(erased->retained_size(), 1);
  EXPECT_EQ(erased->retained(0).purpose(), "legal-retention");
  std::set<std::string> kept(erased->retained(0).fields().begin(), erased->retained(0).fields().end());
  EXPECT_TRUE(kept.count("customer_number") && kept.count("given_name") && kept.count("family_name") &&
              kept.count("payment_method_summary"));
  EXPECT_FALSE(kept.count("email") || kept.count("phone_mobile") || kept.count("postal_address"));
  const absl::Time until = FromProtoTime(erased->retained(0).keep_until());
  EXPECT_EQ(absl::ToUnixSeconds(until), recent + int64_t{2557} * 86400);

  // Reads answer NOT_FOUND, searches find nothing, lookups and ciphertext are gone.
  v1::GetUnifiedProfileRequest r;
  r.set_profile_id(profile);
  EXPECT_THAT(api_->GetUnifiedProfile(kProfile, r).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("erased")));
  v1::FindProfilesRequest find;
  find.set_email("jp.vanderberg@example.nl");
  auto found = api_->FindProfiles(kProfile, find);
  ASSERT_THAT(found.status(), IsOk());
  EXPECT_EQ(found->profile_ids_size(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records WHERE cardinality(lookup_hashes) > 0"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records WHERE length(sealed) > 0"), 0);
  // The profile's key is gone from the key store, so the copy taken before opens with
  // nothing that is left; only the retention key remains.
  auto left = keys_->Get({profile, "retained:" + profile});
  ASSERT_THAT(left.status(), IsOk());
  EXPECT_FALSE(left->contains(profile));
  EXPECT_TRUE(left->contains("retained:" + profile));
  auto retention_key = key_->UnwrapDataKey(left->at("retained:" + profile), "retained:" + profile);
  ASSERT_THAT(retention_key.status(), IsOk());
  EXPECT_FALSE(storage::Open(*retention_key, backup_copy.str(), absl::StrCat("record|", profile, "|crm|c1|1000000000")).ok());

  // Asked again: the same answer.
  auto again = api_->EraseProfile(kRights, erase);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->SerializeAsString(), erased->SerializeAsString());

  // An erased profile takes no part in a merge, either way round.
  const v1::WriteRecordsResponse kees =
      Write({Record("crm", "c77", 1000, {{"given_name", "Kees"}, {"family_name", "Dekker"}})});
  ASSERT_EQ(kees.acks(0).outcome(), v1::RecordAck::ACCEPTED);
  // What data key lookups ask first (kErasedAmong): the erased one of the two.
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM ingest.erased_among(ARRAY['", profile, "', '",
                               kees.acks(0).profile_id(), "']) AS t(id) WHERE id = '", profile, "'")),
            1);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM ingest.erased_among(ARRAY['", kees.acks(0).profile_id(),
                               "'])")),
            0);
  for (const bool erased_first : {true, false}) {
    v1::MergeProfilesRequest merge;
    merge.add_profile_ids(erased_first ? profile : kees.acks(0).profile_id());
    merge.add_profile_ids(erased_first ? kees.acks(0).profile_id() : profile);
    merge.set_reason("an operator's mistake");
    merge.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
    merge.mutable_acting_party()->set_id("agent-7");
    EXPECT_THAT(api_->MergeProfiles(kOperator, merge).status(),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("erased")));
  }

  // A service started after the erasure knows the record was erased: a resent version is
  // rejected, not stored anew.
  auto catalog = consent::Catalog::FromFile(kCatalog);
  ASSERT_THAT(catalog.status(), IsOk());
  IngestApi restarted(*catalog, *pool_, *key_, *keys_, IngestApi::Options{});
  ASSERT_THAT(restarted.ReconcileKeyStore(), IsOk());
  ASSERT_THAT(restarted.LoadIndex(), IsOk());
  v1::WriteRecordsRequest resend;
  *resend.add_records() = Record("crm", "c1", 1000, kJan);
  *resend.add_records() = Record("crm", "c1", 5000, kJan);
  auto res = restarted.WriteBatch(kOperator, resend);
  ASSERT_THAT(res.status(), IsOk());
  for (const auto& a : res->acks()) {
    EXPECT_EQ(a.outcome(), v1::RecordAck::REJECTED);
    EXPECT_THAT(a.reason(), HasSubstr("erased"));
  }

  // The retention job: nothing before the period ends, the key and the row after.
  auto early = api_->PurgeExpiredRetention(kRights, absl::Now());
  ASSERT_THAT(early.status(), IsOk());
  EXPECT_EQ(early->profile_ids_size(), 0);
  auto late = api_->PurgeExpiredRetention(kRights, until + absl::Seconds(1));
  ASSERT_THAT(late.status(), IsOk());
  ASSERT_EQ(late->profile_ids_size(), 1);
  EXPECT_EQ(late->profile_ids(0), profile);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.retained"), 0);
  auto none = keys_->Get({"retained:" + profile});
  ASSERT_THAT(none.status(), IsOk());
  EXPECT_TRUE(none->empty());
}

TEST_F(IngestApiTest, ErasureEmptiesTheLookupKeysOfEveryVersionAndOfNoOneElse) {
  const std::string kRights = "spiffe://cdp.local/service/rights";
  // Jan's record in two versions with different e-mail addresses: three lookup keys each.
  auto moved = kJan;
  moved["email"] = "jan@berg.nl";
  const std::string jan = Write({Record("crm", "c1", 1000, kJan)}).acks(0).profile_id();
  ASSERT_EQ(Write({Record("crm", "c1", 2000, moved)}).acks(0).profile_id(), jan);
  const std::string piet = Write({Record("crm", "c2", 1000, {{"customer_number", "K0000002"},
                                                             {"full_name", "Piet de Vries"},
                                                             {"email", "piet@devries.nl"},
                                                             {"phone_mobile", "06-87654321"}})})
                               .acks(0).profile_id();
  const std::string kees = Write({Record("webshop", "w1", 1000, {{"customer_number", "K0000003"},
                                                                 {"full_name", "Kees Jansen"},
                                                                 {"email", "kees@jansen.nl"}})})
                               .acks(0).profile_id();
  ASSERT_NE(piet, jan);
  ASSERT_NE(kees, jan);
  auto hashes = [&](const std::string& where) {
    return Count("SELECT count(*) FROM ingest.records, unnest(lookup_hashes) WHERE " + where);
  };
  ASSERT_EQ(hashes("record_id = 'c1'"), 6);  // three in each version
  ASSERT_EQ(hashes("record_id <> 'c1'"), 5);

  v1::EraseProfileRequest erase;
  erase.set_profile_id(jan);
  ASSERT_THAT(api_->EraseProfile(kRights, erase).status(), IsOk());
  auto found_by_email = [&](const std::string& email) -> std::vector<std::string> {
    v1::FindProfilesRequest find;
    find.set_email(email);
    auto found = api_->FindProfiles(kProfile, find);
    EXPECT_THAT(found.status(), IsOk());
    return found.ok() ? std::vector<std::string>(found->profile_ids().begin(), found->profile_ids().end())
                      : std::vector<std::string>{"(failed)"};
  };
  EXPECT_EQ(hashes("record_id = 'c1'"), 0);
  EXPECT_EQ(hashes("record_id <> 'c1'"), 5);
  EXPECT_TRUE(found_by_email("jp.vanderberg@example.nl").empty());

  erase.set_profile_id(kees);
  ASSERT_THAT(api_->EraseProfile(kRights, erase).status(), IsOk());
  EXPECT_EQ(hashes("record_id = 'w1'"), 0);
  EXPECT_EQ(hashes("record_id = 'c2'"), 3);
  EXPECT_EQ(found_by_email("piet@devries.nl"), std::vector<std::string>{piet});
}

TEST_F(IngestApiTest, ACustomerWithoutBillingRecordsHasNothingKept) {
  auto acks = Write({Record("crm", "c1", 1000, kJan)});
  v1::EraseProfileRequest erase;
  erase.set_profile_id(acks.acks(0).profile_id());
  v1::RetentionRule* rule = erase.add_retain();
  rule->set_purpose("legal-retention");
  rule->add_fields("given_name");
  rule->set_retention_days(2557);
  rule->add_sources("billing");
  auto erased = api_->EraseProfile("spiffe://cdp.local/service/rights", erase);
  ASSERT_THAT(erased.status(), IsOk());
  EXPECT_EQ(erased->retained_size(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.retained"), 0);
}

TEST_F(IngestApiTest, KeysLeftInTheDataDatabaseMoveToTheKeyStoreAtStart) {
  auto acks = Write({Record("crm", "c1", 1000, kJan)});
  const std::string profile = acks.acks(0).profile_id();
  // As an installation from before the key store had it.
  auto wrapped = keys_->Get({profile});
  ASSERT_THAT(wrapped.status(), IsOk());
  {
    pqxx::connection c(db_->AdminDsn());
    pqxx::work tx(c);
    tx.exec_params0("UPDATE ingest.profiles SET wrapped_key = $1 WHERE profile_id = $2",
                    pqxx::binarystring(wrapped->at(profile)), profile);
    tx.commit();
  }
  ASSERT_THAT(keys_->Destroy({profile}).status(), IsOk());
  ASSERT_THAT(api_->ReconcileKeyStore(), IsOk());
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.profiles WHERE wrapped_key IS NOT NULL"), 0);
  EXPECT_EQ(Fields(profile).at("family_name").value(), "Berg");
}

TEST_F(IngestApiTest, MergeAndUnmergeRoundTrip) {
  const auto [pa, pb] = JanTwice();
  ASSERT_NE(pa, pb);  // different customer numbers: never joined automatically

  v1::MergeProfilesRequest m;
  m.add_profile_ids(pa);
  m.add_profile_ids(pb);
  m.set_reason("customer confirmed by phone: two accounts, one person");
  m.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  m.mutable_acting_party()->set_id("agent-7");
  auto merged = api_->MergeProfiles(kOperator, m);
  ASSERT_THAT(merged.status(), IsOk());
  v1::GetUnifiedProfileRequest get;
  get.set_profile_id(pb);  // the merged-away id answers with the surviving one
  auto unified = api_->GetUnifiedProfile(kProfile, get);
  ASSERT_THAT(unified.status(), IsOk());
  EXPECT_EQ(unified->profile_id(), pa);
  EXPECT_EQ(unified->source_records(), 2);
  EXPECT_THAT(api_->MergeProfiles(kOperator, m).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already merged")));

  v1::UnmergeProfileRequest u;
  u.set_merge_id(merged->merge_id());
  u.set_reason("it was two people after all");
  u.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  u.mutable_acting_party()->set_id("agent-9");
  ASSERT_THAT(api_->UnmergeProfile(kOperator, u).status(), IsOk());
  EXPECT_EQ(Fields(pb)["email"].value(), "jan.berg@werk.nl");
  EXPECT_EQ(Fields(pa)["email"].value(), "jp.vanderberg@example.nl");
  EXPECT_THAT(api_->UnmergeProfile(kOperator, u).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already undone")));
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.merges WHERE unmerged_at IS NOT NULL "
                  "AND unmerge_actor_id = 'agent-9' AND unmerge_reason <> ''"), 1);
}

TEST_F(IngestApiTest, ManyProfilesAreReadInOneCallEachAnsweredInOrder) {
  const auto [pa, pb] = JanTwice();
  v1::MergeProfilesRequest m;
  m.add_profile_ids(pa);
  m.add_profile_ids(pb);
  m.set_reason("one person");
  m.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  m.mutable_acting_party()->set_id("agent-7");
  ASSERT_THAT(api_->MergeProfiles(kOperator, m).status(), IsOk());
  auto c = Write({Record("billing", "b9", 1000, {{"customer_number", "K0000003"}, {"given_name", "Anna"},
                                                 {"family_name", "Smit"}, {"email", "anna@example.nl"}})});
  const std::string pc = c.acks(0).profile_id();

  v1::GetUnifiedProfilesRequest req;
  for (const std::string& id : {pb, std::string("p-unknown"), pc, pa, pb}) req.add_profile_ids(id);
  auto got = api_->GetUnifiedProfiles(kProfile, req);
  ASSERT_THAT(got.status(), IsOk());
  ASSERT_EQ(got->answers_size(), 5);
  // Each answer is what GetUnifiedProfile says for that id, repeats and merged-away ids included.
  for (int i = 0; i < 5; ++i) {
    v1::GetUnifiedProfileRequest one;
    one.set_profile_id(req.profile_ids(i));
    auto single = api_->GetUnifiedProfile(kProfile, one);
    if (!single.ok()) {
      EXPECT_THAT(single.status(), StatusIs(absl::StatusCode::kNotFound));
      EXPECT_EQ(got->answers(i).not_found(), "no such profile") << i;
      continue;
    }
    EXPECT_EQ(got->answers(i).profile().SerializeAsString(), single->SerializeAsString()) << i;
  }
  EXPECT_EQ(got->answers(0).profile().profile_id(), pa);
  EXPECT_EQ(got->answers(0).profile().source_records(), 2);
  EXPECT_TRUE(got->answers(1).has_not_found());
  EXPECT_EQ(got->answers(2).profile().profile_id(), pc);

  v1::GetUnifiedProfilesRequest bad;
  EXPECT_THAT(api_->GetUnifiedProfiles(kProfile, bad).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("profile_ids")));
  bad.add_profile_ids(pa);
  bad.add_profile_ids("");
  EXPECT_THAT(api_->GetUnifiedProfiles(kProfile, bad).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("profile_ids[1]")));
  EXPECT_THAT(api_->GetUnifiedProfiles("spiffe://cdp.local/service/support-desk", req).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(IngestApiTest, RepeatsWithinOneBatchAreDuplicatesNotErrors) {
  auto later = kJan;
  later["email"] = "jan.nieuw@example.nl";
  auto acks = Write({Record("crm", "c1", 1000, kJan), Record("crm", "c1", 1000, kJan),
                     Record("crm", "c1", 2000, later)});
  EXPECT_EQ(acks.acks(0).outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_EQ(acks.acks(1).outcome(), v1::RecordAck::DUPLICATE);
  EXPECT_EQ(acks.acks(2).outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_EQ(acks.acks(1).profile_id(), acks.acks(0).profile_id());
  EXPECT_EQ(acks.acks(2).profile_id(), acks.acks(0).profile_id());
  // The newer version's e-mail is indexed: a webshop record with it finds the profile.
  auto web = Write({Record("webshop", "w1", 3000, {{"full_name", "Jan Pieter van der Berg"},
                                                   {"email", "jan.nieuw@example.nl"}})});
  EXPECT_EQ(web.acks(0).profile_id(), acks.acks(0).profile_id()) << web.acks(0).reason();
}

TEST_F(IngestApiTest, ARecordThatJoinedDuringAMergeLeavesWithItsSideOnUnmerge) {
  // Profile A: the CRM record. Profile B: a contact-centre record with another mobile, too
  // little to join on its own; an agent merges them.
  auto a = Write({Record("crm", "c1", 1000, kJan)});
  auto b = Write({Record("contact-centre", "k1", 1000,
                         {{"full_name", "Jan van der Berg"}, {"phone_mobile", "06-11112222"}})});
  ASSERT_NE(a.acks(0).profile_id(), b.acks(0).profile_id());
  v1::MergeProfilesRequest m;
  m.add_profile_ids(a.acks(0).profile_id());
  m.add_profile_ids(b.acks(0).profile_id());
  m.set_reason("same caller");
  m.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  auto merged = api_->MergeProfiles(kOperator, m);
  ASSERT_THAT(merged.status(), IsOk());
  // A new record matches B's record (the same mobile) inside the merged profile.
  auto web = Write({Record("webshop", "w9", 2000,
                           {{"full_name", "Jan van der Berg"}, {"phone_mobile", "+31 6 1111 2222"}})});
  ASSERT_EQ(web.acks(0).outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_EQ(web.acks(0).profile_id(), a.acks(0).profile_id()) << web.acks(0).reason();
  // Undone: the new record leaves with B, whose record it matched.
  v1::UnmergeProfileRequest u;
  u.set_merge_id(merged->merge_id());
  u.set_reason("two people after all");
  u.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  ASSERT_THAT(api_->UnmergeProfile(kOperator, u).status(), IsOk());
  v1::GetUnifiedProfileRequest get;
  get.set_profile_id(b.acks(0).profile_id());
  auto side_b = api_->GetUnifiedProfile(kProfile, get);
  ASSERT_THAT(side_b.status(), IsOk());
  EXPECT_EQ(side_b->source_records(), 2);
  get.set_profile_id(a.acks(0).profile_id());
  auto side_a = api_->GetUnifiedProfile(kProfile, get);
  ASSERT_THAT(side_a.status(), IsOk());
  EXPECT_EQ(side_a->source_records(), 1);
}

TEST_F(IngestApiTest, TheDatabaseKeepsEveryRecordWithAnExistingProfile) {
  const std::string p = Write({Record("crm", "c1", 1000, kJan)}).acks(0).profile_id();
  ASSERT_FALSE(p.empty());
  auto sqlstate = [](const std::string& dsn, const std::string& sql) -> std::string {
    try {
      pqxx::connection c(dsn);
      pqxx::work tx(c);
      tx.exec0(sql);
      tx.commit();
      return "ok";
    } catch (const pqxx::insufficient_privilege&) {
      return "42501";  // libpqxx 6.4 leaves sqlstate() empty on this one
    } catch (const pqxx::sql_error& e) {
      return e.sqlstate().empty() ? std::string(e.what()) : e.sqlstate();
    }
  };
  const std::string service = db_->DsnAs("cdp_ingest");
  // A record naming no profile, alone or among good ones: refused, nothing stored.
  const std::string insert =
      "INSERT INTO ingest.records (source_system, record_id, changed_at_us, profile_id, sealed, lookup_hashes) VALUES ";
  EXPECT_EQ(sqlstate(service, insert + "('crm', 'x1', 1, 'p-nobody', '\\x00', '{}')"), "23503");
  EXPECT_EQ(sqlstate(service, absl::StrCat(insert, "('crm', 'x2', 1, '", p, "', '\\x00', '{}'), ",
                                           "('crm', 'x3', 1, 'p-nobody', '\\x00', '{}')")),
            "23503");
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records"), 1);
  // The same for review candidates, on either side.
  EXPECT_EQ(sqlstate(service, absl::StrCat("INSERT INTO ingest.match_candidates (left_profile, right_profile, "
                                           "score, reason) VALUES ('", p, "', 'p-nobody', 1, 'r')")),
            "23503");
  EXPECT_EQ(sqlstate(service, absl::StrCat("INSERT INTO ingest.match_candidates (left_profile, right_profile, "
                                           "score, reason) VALUES ('p-nobody', '", p, "', 1, 'r')")),
            "23503");
  // A record never moves to a profile that does not exist; a profile is never deleted,
  // emptied out or renamed, whether records name it or not.
  EXPECT_EQ(sqlstate(service, "UPDATE ingest.records SET profile_id = 'p-nobody'"), "23503");
  EXPECT_EQ(sqlstate(service, "DELETE FROM ingest.profiles"), "23503");
  EXPECT_EQ(sqlstate(db_->AdminDsn(), "DELETE FROM ingest.profiles"), "23503");
  EXPECT_EQ(sqlstate(db_->AdminDsn(), "TRUNCATE ingest.profiles CASCADE"), "23503");
  EXPECT_EQ(sqlstate(db_->AdminDsn(), "UPDATE ingest.profiles SET profile_id = 'p-renamed'"), "23503");
  EXPECT_EQ(sqlstate(db_->AdminDsn(), "INSERT INTO ingest.profiles (profile_id, changed_seq) VALUES ('p-alone', 1)"),
            "ok");
  EXPECT_EQ(sqlstate(db_->AdminDsn(), "DELETE FROM ingest.profiles WHERE profile_id = 'p-alone'"), "23503");
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.profiles WHERE profile_id = 'p-alone'"), 1);
  // What the service does is still allowed: a new version of the record, and an erasure.
  auto newer = Write({Record("crm", "c1", 2000, kJan)});
  EXPECT_EQ(newer.acks(0).outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_EQ(sqlstate(service, "UPDATE ingest.records SET sealed = '\\x'"), "ok");
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records"), 2);
}

// Resolve and Store apart, as a stream does: batch N+1 is resolved while N waits to be
// stored.
class IngestPipelineTest : public IngestApiTest {
 protected:
  void SetUp() override {
    IngestApiTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // As the service does before serving: the index is as current as the database, so a
    // batch resolved now needs no second look unless someone writes in between.
    ASSERT_THAT(api_->LoadIndex(), IsOk());
  }
  IngestApi::PreparedBatch Prepared(std::vector<v1::SourceRecord> records) {
    ArenaRequest req;
    for (auto& r : records) *req.get()->add_records() = std::move(r);
    auto prepared = api_->Prepare(kOperator, std::move(req));
    EXPECT_THAT(prepared.status(), IsOk());
    return prepared.ok() ? *std::move(prepared) : IngestApi::PreparedBatch{};
  }
  std::shared_ptr<IngestApi::ResolvedBatch> Resolved(IngestApi& api, IngestApi::PreparedBatch& batch) {
    auto resolved = api.Resolve(batch);
    EXPECT_THAT(resolved.status(), IsOk());
    return resolved.ok() ? *std::move(resolved) : nullptr;
  }
  v1::RecordAck Stored(IngestApi& api, std::shared_ptr<IngestApi::ResolvedBatch> resolved) {
    auto acks = api.Store(std::move(resolved));
    EXPECT_THAT(acks.status(), IsOk());
    return acks.ok() && acks->acks_size() > 0 ? acks->acks(0) : v1::RecordAck();
  }
  static v1::SourceRecord JanAtTheWebshop() {
    return Record("webshop", "w1", 2000, {{"full_name", "Jan van der Berg"},
                                          {"email", "jp.vanderberg@example.nl"},
                                          {"date_of_birth", "1980-04-09"}});
  }
};

TEST_F(IngestPipelineTest, ABatchResolvedBeforeTheOneBeforeItIsStoredJoinsItsRecords) {
  auto crm = Prepared({Record("crm", "c1", 1000, kJan)});
  auto web = Prepared({JanAtTheWebshop()});
  auto first = Resolved(*api_, crm);
  auto second = Resolved(*api_, web);  // the CRM record is not stored yet
  const v1::RecordAck a = Stored(*api_, first);
  const v1::RecordAck b = Stored(*api_, second);
  ASSERT_EQ(a.outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_TRUE(a.new_profile());
  EXPECT_EQ(b.outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_EQ(b.profile_id(), a.profile_id()) << b.reason();
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.profiles"), 1);
  // Neither had to be resolved again: the second sealed its record with the key of the
  // profile the first makes before that key reached the key store.
  EXPECT_EQ(api_->batches_resolved_again(), 0);
}

TEST_F(IngestPipelineTest, ABatchStoredAfterAnAbandonedOneIsResolvedAgainWithoutIt) {
  auto crm = Prepared({Record("crm", "c1", 1000, kJan)});
  auto web = Prepared({JanAtTheWebshop()});
  auto again = Prepared({Record("crm", "c1", 1000, kJan)});
  auto first = Resolved(*api_, crm);
  auto second = Resolved(*api_, web);     // would join the CRM record's new profile
  auto repeat = Resolved(*api_, again);   // a repeat of a version not yet stored
  ASSERT_TRUE(first && second && repeat);
  EXPECT_EQ(IngestApi::ResolvedAcks(*repeat).acks(0).outcome(), v1::RecordAck::DUPLICATE);
  const std::string never_stored = IngestApi::ResolvedAcks(*first).acks(0).profile_id();
  api_->Abandon(first);
  const v1::RecordAck b = Stored(*api_, second);
  EXPECT_EQ(b.outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_NE(b.profile_id(), never_stored);  // the profile it would have joined never came to be
  EXPECT_TRUE(b.new_profile());
  const v1::RecordAck c = Stored(*api_, repeat);
  EXPECT_EQ(c.outcome(), v1::RecordAck::ACCEPTED) << "the version was never stored, so it is no duplicate";
  EXPECT_EQ(c.profile_id(), b.profile_id()) << c.reason();
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records"), 2);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM ingest.profiles WHERE profile_id = '", never_stored, "'")), 0);
  EXPECT_EQ(api_->batches_resolved_again(), 2);
}

TEST_F(IngestPipelineTest, AnotherWriterInBetweenMakesABatchResolveAgainstWhatItWrote) {
  auto catalog = consent::Catalog::FromFile(kCatalog);
  ASSERT_THAT(catalog.status(), IsOk());
  IngestApi other(*catalog, *pool_, *key_, *keys_, IngestApi::Options{});
  // This instance is current with the database (one batch of its own stored).
  ASSERT_EQ(Write({Record("crm", "c9", 1000, {{"given_name", "Kees"}, {"family_name", "Dekker"}})})
                .acks(0)
                .outcome(),
            v1::RecordAck::ACCEPTED);
  auto web = Prepared({JanAtTheWebshop()});
  auto mine = Resolved(*api_, web);  // resolved before the other instance wrote Jan's CRM record
  ASSERT_TRUE(mine);
  EXPECT_TRUE(IngestApi::ResolvedAcks(*mine).acks(0).new_profile());
  v1::WriteRecordsRequest req;
  *req.add_records() = Record("crm", "c1", 1000, kJan);
  auto theirs = other.WriteBatch(kOperator, req);
  ASSERT_THAT(theirs.status(), IsOk());
  const v1::RecordAck b = Stored(*api_, mine);
  EXPECT_EQ(b.outcome(), v1::RecordAck::ACCEPTED);
  EXPECT_EQ(b.profile_id(), theirs->acks(0).profile_id()) << b.reason();
  EXPECT_FALSE(b.new_profile());
  EXPECT_EQ(api_->batches_resolved_again(), 1);
}

TEST_F(IngestPipelineTest, AWriterThatCommitsWhileABatchWaitsForTheLockMakesItResolveAgain) {
  ASSERT_EQ(Write({Record("crm", "c9", 1000, {{"given_name", "Kees"}, {"family_name", "Dekker"}})})
                .acks(0)
                .outcome(),
            v1::RecordAck::ACCEPTED);
  const int64_t before = Count("SELECT value FROM ingest.sequence");
  auto web = Prepared({JanAtTheWebshop()});
  auto mine = Resolved(*api_, web);
  ASSERT_TRUE(mine);
  // Another writer (another instance, a merge, an erasure) holds the lock and has taken
  // the next number; the batch's store waits for it, and then must see its number.
  pqxx::connection other_conn(db_->AdminDsn());
  pqxx::work other(other_conn);
  other.exec("SELECT pg_advisory_xact_lock(7261601)");
  other.exec("UPDATE ingest.sequence SET value = value + 1");
  v1::RecordAck stored;
  std::thread store([&] { stored = Stored(*api_, mine); });
  for (int i = 0; i < 500 && Count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == 0;
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(Count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"), 1);
  other.commit();
  store.join();
  EXPECT_EQ(stored.outcome(), v1::RecordAck::ACCEPTED) << stored.reason();
  EXPECT_EQ(api_->batches_resolved_again(), 1);
  EXPECT_EQ(Count("SELECT value FROM ingest.sequence"), before + 2);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM ingest.records WHERE seq = ", before + 2)), 1);
}

TEST_F(IngestApiTest, TwoInstancesOnOneDatabaseSeeEachOthersRecordsAndMerges) {
  auto catalog = consent::Catalog::FromFile(kCatalog);
  ASSERT_THAT(catalog.status(), IsOk());
  IngestApi second(*catalog, *pool_, *key_, *keys_, IngestApi::Options{});
  auto write_second = [&](v1::SourceRecord r) {
    v1::WriteRecordsRequest req;
    *req.add_records() = std::move(r);
    auto res = second.WriteBatch(kOperator, req);
    EXPECT_THAT(res.status(), IsOk());
    return res.ok() ? res->acks(0) : v1::RecordAck();
  };
  const std::string pa = Write({Record("crm", "c1", 1000, kJan)}).acks(0).profile_id();
  // The second instance resolves against what the first stored.
  v1::RecordAck joined = write_second(Record("webshop", "w1", 2000, {{"full_name", "Jan van der Berg"},
                                                                      {"email", "jp.vanderberg@example.nl"},
                                                                      {"date_of_birth", "1980-04-09"}}));
  EXPECT_EQ(joined.profile_id(), pa);
  EXPECT_FALSE(joined.new_profile());
  // And knows the first's versions: a repeat is a duplicate there too.
  EXPECT_EQ(write_second(Record("crm", "c1", 1000, kJan)).outcome(), v1::RecordAck::DUPLICATE);

  // A merge made through the second is seen by the first: Kees's record answers with the
  // profile Kees now lives under.
  const std::map<std::string, std::string> kees = {{"given_name", "Kees"}, {"family_name", "Dekker"},
                                                    {"date_of_birth", "1961-02-03"},
                                                    {"email", "kees.dekker@example.nl"}};
  const std::string pk = Write({Record("crm", "c2", 1000, kees)}).acks(0).profile_id();
  ASSERT_NE(pk, pa);
  v1::MergeProfilesRequest m;
  m.add_profile_ids(pa);
  m.add_profile_ids(pk);
  m.set_reason("test: one instance merges, the other resolves");
  m.mutable_acting_party()->set_kind(v1::ActingParty::HUMAN_AGENT);
  m.mutable_acting_party()->set_id("agent-7");
  ASSERT_THAT(second.MergeProfiles(kOperator, m).status(), IsOk());
  auto again = Write({Record("crm", "c2", 1000, kees)});
  EXPECT_EQ(again.acks(0).outcome(), v1::RecordAck::DUPLICATE);
  EXPECT_EQ(again.acks(0).profile_id(), pa);
}

TEST_F(IngestApiTest, AnUnreadableCandidateStopsTheBatchInsteadOfSkippingAVeto) {
  Write({Record("crm", "c1", 1000, kJan)});
  AdminExec("UPDATE ingest.records SET sealed = '\\x01deadbeef'::bytea");
  // A service starting on this database cannot build its matching index, and refuses
  // batches rather than resolve without the record.
  auto catalog = consent::Catalog::FromFile(kCatalog);
  ASSERT_THAT(catalog.status(), IsOk());
  IngestApi restarted(*catalog, *pool_, *key_, *keys_, IngestApi::Options{});
  EXPECT_THAT(restarted.LoadIndex(), StatusIs(absl::StatusCode::kDataLoss));
  v1::WriteRecordsRequest req;
  *req.add_records() = Record("webshop", "w1", 2000, {{"full_name", "Jan van der Berg"},
                                                     {"email", "jp.vanderberg@example.nl"}});
  EXPECT_THAT(restarted.WriteBatch(kOperator, req).status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(Count("SELECT count(*) FROM ingest.records"), 1);
}

TEST_F(IngestApiTest, OnlyCallersWithThePermission) {
  v1::WriteRecordsRequest req;
  *req.add_records() = Record("crm", "c1", 1000, kJan);
  EXPECT_THAT(api_->WriteBatch("spiffe://cdp.local/service/marketing", req).status(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("WRITE_RECORDS")));
  v1::GetUnifiedProfileRequest get;
  get.set_profile_id("p-x");
  EXPECT_THAT(api_->GetUnifiedProfile("spiffe://cdp.local/service/support-desk", get).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(IngestApiTest, GeneratedPopulationResolvesWithoutWrongJoins) {
  // 400 people over four sources; what matters most: no profile holds two people.
  std::vector<v1::SourceRecord> records;
  std::map<std::string, std::string> truth;  // "source/id" -> person
  cdp::datagen::Generate({.people = 400, .seed = 3}, [&](const cdp::datagen::GeneratedRecord& g) {
    records.push_back(Record(g.source, g.record_id, g.changed_at, {g.attributes.begin(), g.attributes.end()}));
    truth[g.source + "/" + g.record_id] = g.person_id;
  });
  std::map<std::string, std::set<std::string>> people_of_profile;
  std::map<std::string, std::set<std::string>> profiles_of_person;
  for (size_t start = 0; start < records.size(); start += 250) {
    std::vector<v1::SourceRecord> batch(records.begin() + static_cast<long>(start),
                                        records.begin() + static_cast<long>(std::min(records.size(), start + 250)));
    const v1::WriteRecordsResponse written = Write(batch);
    for (const auto& ack : written.acks()) {
      ASSERT_EQ(ack.outcome(), v1::RecordAck::ACCEPTED) << ack.reason();
      const std::string person = truth[ack.source_system() + "/" + ack.record_id()];
      people_of_profile[ack.profile_id()].insert(person);
      profiles_of_person[person].insert(ack.profile_id());
    }
  }
  int mixed = 0;
  for (const auto& [profile, people] : people_of_profile) mixed += people.size() > 1;
  int single = 0;
  for (const auto& [person, profiles] : profiles_of_person) single += profiles.size() == 1;
  std::printf("generated 400 people, %zu records: %zu profiles, %d mixing people, %d of %zu people in one profile\n",
              records.size(), people_of_profile.size(), mixed, single, profiles_of_person.size());
  EXPECT_LE(mixed, 1);  // a wrong join shows one customer's data to another
  EXPECT_GE(single, static_cast<int>(profiles_of_person.size()) / 3);
}

}  // namespace
}  // namespace cdp::ingest
