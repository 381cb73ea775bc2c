// Versioned SQL migrations, one ordered set per schema, compiled into the binary that owns
// the schema (see cdp_embed_sql in cmake/CdpHelpers.cmake).
//
// Files are named NNNN_description.sql. Each pending file runs in its own transaction, under
// an advisory lock so that two processes starting at once apply it once, and is recorded in
// cdp_meta.migrations with its SHA-256. A file whose content changed after it was applied, or
// an applied version the binary does not know, stops the run with FailedPrecondition: the
// service must not start against a schema it does not understand.
#ifndef CDP_STORAGE_MIGRATE_H_
#define CDP_STORAGE_MIGRATE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cdp::storage {

struct Migration {
  std::string name;  // "0001_init.sql"
  std::string sql;
};

struct MigrationSet {
  std::string schema;
  std::vector<Migration> files;
};

struct MigrationReport {
  int applied = 0;     // files run now
  int up_to_date = 0;  // files found already applied with the same checksum
};

// Applies the pending migrations of `set` over a connection opened with `admin_dsn`, a role
// allowed to create schemas and roles. Errors: Unavailable (database unreachable),
// InvalidArgument (a badly named file), FailedPrecondition (changed or unknown migration),
// or the status of a failing statement (the file is named in the message).
absl::StatusOr<MigrationReport> ApplyMigrations(const std::string& admin_dsn,
                                                const MigrationSet& set);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace cdp::storage

#endif  // CDP_STORAGE_MIGRATE_H_
