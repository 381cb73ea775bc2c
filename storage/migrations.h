// The migration set of each service schema, generated from storage/migrations/<schema>/.
#ifndef CDP_STORAGE_MIGRATIONS_H_
#define CDP_STORAGE_MIGRATIONS_H_

#include "storage/migrate.h"

namespace cdp::storage::migrations {

MigrationSet consent();
MigrationSet ingest();
MigrationSet keys();  // the data keys, in a database of their own (storage/key_store.h)
MigrationSet profile();
MigrationSet audit();
MigrationSet rights();
MigrationSet portal();

}  // namespace cdp::storage::migrations

#endif  // CDP_STORAGE_MIGRATIONS_H_
