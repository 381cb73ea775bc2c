#include "storage/key_store.h"

#include "pqxx/pqxx"
#include "storage/sql_array.h"

namespace cdp::storage {
namespace {

constexpr char kPut[] = "keys_put";
constexpr char kGet[] = "keys_get";
constexpr char kDestroy[] = "keys_destroy";

}  // namespace

PoolOptions KeyStore::Options(std::string dsn, int size) {
  return {
      .dsn = std::move(dsn),
      .size = size,
      .statements =
          {
              {kPut,
               "INSERT INTO keys.data_keys (key_id, wrapped_key) "
               "SELECT i, k FROM unnest($1::text[], $2::bytea[]) AS t(i, k) ON CONFLICT (key_id) DO NOTHING"},
              {kGet, "SELECT key_id, wrapped_key FROM keys.data_keys WHERE key_id = ANY($1::text[])"},
              {kDestroy, "DELETE FROM keys.data_keys WHERE key_id = ANY($1::text[])"},
          },
      // Each statement finds keys by their primary key, whatever the ids' number. With the
      // default plan cache mode, PostgreSQL planned every kGet afresh (pg_stat_statements:
      // as many plans as calls, each plan 0.06-0.16 ms against 0.03-0.08 ms to run it):
      // a custom plan for one id looks cheaper than the generic plan's guess of ten.
      .session_settings = {{"plan_cache_mode", "force_generic_plan"}},
  };
}

absl::Status KeyStore::Put(const std::vector<std::pair<std::string, std::string>>& keys) {
  if (keys.empty()) return absl::OkStatus();
  std::vector<std::string> ids, wrapped;
  for (const auto& [id, key] : keys) {
    ids.push_back(id);
    wrapped.push_back(key);
  }
  return pool_.Autocommit([&](pqxx::transaction_base& tx) {
    tx.exec_prepared(kPut, TextArray(ids), ByteaArray(wrapped));
    return absl::OkStatus();
  });
}

absl::StatusOr<absl::flat_hash_map<std::string, std::string>> KeyStore::Get(const std::vector<std::string>& ids) {
  absl::flat_hash_map<std::string, std::string> out;
  if (ids.empty()) return out;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) {
    for (const pqxx::row& r : tx.exec_prepared(kGet, TextArray(ids))) {
      pqxx::binarystring wrapped(r[1]);
      out[r[0].as<std::string>()] = wrapped.str();
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<int64_t> KeyStore::Destroy(const std::vector<std::string>& ids) {
  int64_t destroyed = 0;
  if (ids.empty()) return destroyed;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) {
    destroyed = tx.exec_prepared(kDestroy, TextArray(ids)).affected_rows();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return destroyed;
}

}  // namespace cdp::storage
