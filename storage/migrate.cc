#include "storage/migrate.h"

#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "openssl/evp.h"
#include "pqxx/pqxx"
#include "storage/pg_status.h"

namespace cdp::storage {
namespace {

constexpr char kCreateMeta[] = R"sql(
  CREATE SCHEMA IF NOT EXISTS cdp_meta;
  CREATE TABLE IF NOT EXISTS cdp_meta.migrations (
    schema_name text        NOT NULL,
    version     integer     NOT NULL,
    file_name   text        NOT NULL,
    sha256      text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_name, version))
)sql";
constexpr char kLock[] = "SELECT pg_advisory_xact_lock(hashtext('cdp_meta.migrations'))";
constexpr char kSelectApplied[] =
    "SELECT version, file_name, sha256 FROM cdp_meta.migrations WHERE schema_name = $1";
constexpr char kRecord[] =
    "INSERT INTO cdp_meta.migrations (schema_name, version, file_name, sha256) "
    "VALUES ($1, $2, $3, $4)";

struct Applied {
  std::string file_name;
  std::string sha256;
};

// "0001_init.sql" -> 1; InvalidArgument for any other shape.
absl::StatusOr<int> VersionOf(const std::string& schema, const std::string& name) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "migration ", schema, "/", name, ": name must be NNNN_lower_case_words.sql"));
  };
  if (name.size() < 10 || name[4] != '_' || name.substr(name.size() - 4) != ".sql") return bad();
  for (char c : name.substr(5, name.size() - 9)) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) return bad();
  }
  int version = 0;
  if (!absl::SimpleAtoi(name.substr(0, 4), &version) || version <= 0) return bad();
  return version;
}

std::map<int, Applied> ReadApplied(pqxx::transaction_base& tx, const std::string& schema) {
  std::map<int, Applied> applied;
  for (const auto& row : tx.exec_params(kSelectApplied, schema)) {
    applied[row[0].as<int>()] = Applied{row[1].as<std::string>(), row[2].as<std::string>()};
  }
  return applied;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

absl::StatusOr<MigrationReport> ApplyMigrations(const std::string& admin_dsn,
                                                const MigrationSet& set) {
  std::map<int, const Migration*> files;
  for (const Migration& m : set.files) {
    auto version = VersionOf(set.schema, m.name);
    if (!version.ok()) return version.status();
    if (!files.emplace(*version, &m).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration ", set.schema, "/", m.name, ": version used twice"));
    }
  }

  MigrationReport report;
  std::string current = "(connecting)";
  try {
    pqxx::connection conn(admin_dsn);
    {
      pqxx::work tx(conn);
      tx.exec(kLock);
      tx.exec(kCreateMeta);
      tx.commit();
    }
    for (const auto& [version, file] : files) {
      current = file->name;
      const std::string sha = Sha256Hex(file->sql);
      // Roles belong to the whole cluster, so two databases migrating at the same moment
      // can collide on them ("tuple concurrently updated", SQLSTATE XX000); each file runs
      // in one transaction, so it is simply tried again.
      for (int attempt = 1;; ++attempt) {
        try {
          pqxx::work tx(conn);
          tx.exec(kLock);  // serialises concurrent starters; re-read what is applied under it
          std::map<int, Applied> applied = ReadApplied(tx, set.schema);
          if (auto it = applied.find(version); it != applied.end()) {
            if (it->second.sha256 != sha) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "migration ", set.schema, "/", file->name,
                  " was changed after it was applied (recorded sha256 ",
                  it->second.sha256.substr(0, 12), ", file has ", sha.substr(0, 12),
                  "); add a new migration instead"));
            }
            ++report.up_to_date;
            break;
          }
          tx.exec(file->sql);
          tx.exec_params(kRecord, set.schema, version, file->name, sha);
          tx.commit();
          ++report.applied;
          break;
        } catch (const pqxx::sql_error& e) {
          const std::string state = e.sqlstate();
          if (attempt < 8 && (state == "XX000" || state == "40001" || state == "40P01")) continue;
          throw;
        }
      }
    }
    current = "(check)";
    pqxx::work tx(conn);
    for (const auto& [version, applied] : ReadApplied(tx, set.schema)) {
      if (files.count(version) == 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "database has migration ", set.schema, "/", applied.file_name,
            " that this binary does not know; run a newer build"));
      }
    }
  } catch (...) {
    absl::Status s = CurrentExceptionStatus();
    return absl::Status(s.code(),
                        absl::StrCat("migration ", set.schema, "/", current, ": ", s.message()));
  }
  return report;
}

}  // namespace cdp::storage
