// The customers' data keys, wrapped by the master key (storage/crypto.h), in a database of
// their own (schema "keys", storage/migrations/keys/): the data database and its backups
// hold only ciphertext, so destroying a key here makes every copy of what it sealed
// unreadable (crypto-shredding).
//
// Keys are named by the caller (a profile id). Thread-safe; the pool must outlive it.
#ifndef CDP_STORAGE_KEY_STORE_H_
#define CDP_STORAGE_KEY_STORE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "storage/pool.h"

namespace cdp::storage {

class KeyStore {
 public:
  explicit KeyStore(Pool& pool) : pool_(pool) {}
  // The options of the pool a KeyStore needs: its statements, prepared on every
  // connection, and its session settings.
  static PoolOptions Options(std::string dsn, int size);

  // Stores wrapped keys (id, wrapped), committed when it returns OK. An id already stored
  // keeps its key: a retry after an unknown outcome stores nothing twice.
  absl::Status Put(const std::vector<std::pair<std::string, std::string>>& keys);
  // The wrapped keys of those `ids` that have one (a destroyed or unknown id has none).
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> Get(const std::vector<std::string>& ids);
  // Destroys the keys of `ids` for good (committed when it returns OK); unknown ids are
  // ignored, so it may be repeated. Returns how many were destroyed now.
  absl::StatusOr<int64_t> Destroy(const std::vector<std::string>& ids);

 private:
  Pool& pool_;
};

}  // namespace cdp::storage

#endif  // CDP_STORAGE_KEY_STORE_H_
