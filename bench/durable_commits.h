// One-row INSERT + COMMIT transactions on a bench's database: the baseline for whatever
// waits for a durable commit.
#ifndef CDP_BENCH_DURABLE_COMMITS_H_
#define CDP_BENCH_DURABLE_COMMITS_H_

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "pqxx/pqxx"

namespace cdp::bench {

// Durable one-row writes, the baseline for a figure that waits for a commit (a read's
// access event, a record ingested on its own): INSERT + COMMIT on the bench's database, one
// connection per client (calls from client c use connection c only). On the shared VMs here
// a commit now and then waits 20-160 ms for its fsync; the same run's commits show how much
// of a tail is the disk's, which no service can hide while it promises durability.
class DurableCommits {
 public:
  // `payload_bytes`: the size of each row's payload (about an access event's by default).
  DurableCommits(const std::string& dsn, int clients, size_t payload_bytes = 200) : payload_(payload_bytes, 'x') {
    for (int c = 0; c < clients; ++c) {
      try {
        conns_.push_back(std::make_unique<pqxx::connection>(dsn));
      } catch (const std::exception& e) {
        // Most likely the server's max_connections, with the services' own pools beside.
        std::fprintf(stderr, "bench: the commit baseline could not open connection %d of %d (%s); fewer clients, "
                     "or a server with a higher max_connections\n", c + 1, clients, e.what());
        std::exit(2);
      }
    }
    pqxx::nontransaction(*conns_[0]).exec0(
        "CREATE TABLE IF NOT EXISTS bench_commits (id bigserial PRIMARY KEY, payload text NOT NULL)");
    for (auto& c : conns_) c->prepare("bench_commit", "INSERT INTO bench_commits (payload) VALUES ($1)");
  }
  // One commit from client `c`; false if it failed.
  bool operator()(int c, int) {
    try {
      pqxx::work tx(*conns_.at(static_cast<size_t>(c)));
      tx.exec_prepared0("bench_commit", payload_);
      tx.commit();
      return true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench commit: %s\n", e.what());
      return false;
    }
  }

 private:
  const std::string payload_;
  std::vector<std::unique_ptr<pqxx::connection>> conns_;
};

}  // namespace cdp::bench

#endif  // CDP_BENCH_DURABLE_COMMITS_H_
