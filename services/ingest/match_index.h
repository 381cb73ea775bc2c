// The ingest service's matching index: for every source record its latest version opened
// for matching, the blocking keys of all its versions, the profile that owns it, and the
// tree of merged profiles above the owners. Resolving a batch reads only this; the
// database is written, not searched.
//
// It follows the database through sequence numbers (ingest.sequence): every write under
// the ingest lock takes the next number and stamps the records and profiles it writes;
// an instance catches up by reading what was stamped after the number it last saw
// (IngestApi::CatchUp), so several instances, merges and erasures stay coherent.
//
// It holds personal data (normalised names, dates, contacts) in memory only: never logged,
// never written; an erased profile's records are dropped at the next catch-up.
// Not thread-safe: IngestApi serialises access.
#ifndef CDP_SERVICES_INGEST_MATCH_INDEX_H_
#define CDP_SERVICES_INGEST_MATCH_INDEX_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "services/ingest/resolution/resolver.h"

namespace cdp::ingest {

class MatchIndex {
 public:
  struct Entry {
    std::string source;
    std::string id;
    std::string owner;              // the profile whose data key seals it
    int64_t latest = 0;             // micros of the latest version
    std::vector<int64_t> versions;  // every version stored
    resolution::PersonRecord person;  // of the latest version
    std::vector<uint64_t> keys;     // hashes of the blocking keys it is filed under
  };

  // The sequence number the index reflects (0: nothing loaded).
  int64_t seq() const { return seq_; }
  void set_seq(int64_t seq) { seq_ = seq; }
  size_t records() const { return entries_.size(); }

  // A record version, as stored. Versions older than the latest only add their keys.
  // A provisional version (of a batch resolved but not yet committed) can be taken back
  // with RollBack until Settle makes it permanent; while provisional versions are held,
  // every AddVersion must be provisional (they are taken back last in, first out).
  // `blocking_keys`, if given, are resolution::BlockingKeys(person), made already.
  void AddVersion(const std::string& source, const std::string& id, int64_t micros,
                  const std::string& owner, const resolution::PersonRecord& person,
                  bool provisional = false, const std::vector<std::string>* blocking_keys = nullptr);
  // How many provisional versions were added so far (a position for Settle).
  uint64_t provisional_end() const { return journal_base_ + journal_.size(); }
  bool has_provisional() const { return !journal_.empty(); }
  // The provisional versions added before position `end` are permanent.
  void Settle(uint64_t end);
  // Takes back every provisional version, newest first, as if it had never been added (a
  // record whose profile was erased meanwhile keeps nothing to match).
  void RollBack();
  // A profile's state as stored: where it is merged into ("" for none), and whether it
  // was erased (its records then leave the index).
  void SetProfile(const std::string& profile, const std::string& merged_into, bool erased);
  // The profile was erased (where it is merged into stays as it is).
  void MarkErased(const std::string& profile);

  const Entry* Find(const std::string& source, const std::string& id) const;
  // Records sharing a blocking key, blocks over their limit skipped (too common to tell
  // anything); each record once.
  std::vector<const Entry*> Candidates(const std::vector<std::string>& blocking_keys,
                                       const resolution::BlockLimits& limits) const;
  // The profile `profile` lives under (itself unless merged): `profile` or a string the
  // index holds, valid until the index changes.
  const std::string& Root(const std::string& profile) const;
  // Every record of `root` and of the profiles merged into it.
  std::vector<const Entry*> Members(const std::string& root) const;
  bool Erased(const std::string& profile) const { return erased_.contains(profile); }

 private:
  static uint64_t KeyHash(const std::string& key);

  // What a provisional AddVersion changed, to take it back.
  struct Undo {
    uint32_t entry;
    bool added_entry;          // the record was new
    bool added_version;        // a version was appended
    bool replaced_person;      // it became the latest version
    int64_t old_latest;
    resolution::PersonRecord old_person;
    uint32_t old_keys;         // entry.keys.size() before
  };

  int64_t seq_ = 0;
  // Each Entry on its own, not in one array: an array of a million records of 500 bytes
  // doubles by allocating and moving all of them at once, and fresh pages cost the kernel
  // more than the move (ingesting 2.5M records stalled 5.7 s at the last doubling, in a
  // program outside the project, and spent three quarters of its time in page faults).
  std::vector<std::unique_ptr<Entry>> entries_;
  std::deque<Undo> journal_;
  uint64_t journal_base_ = 0;  // position of journal_.front()
  absl::flat_hash_map<std::string, uint32_t> by_ref_;               // source '\0' id
  // Key hash -> entries. Most blocks hold a person's few records: up to four stay in the
  // map's own slot (as large as a std::vector), with no allocation of their own.
  absl::flat_hash_map<uint64_t, absl::InlinedVector<uint32_t, 4>> blocks_;
  absl::flat_hash_map<std::string, std::vector<uint32_t>> owned_;   // profile -> entries
  absl::flat_hash_map<std::string, std::string> parent_;            // merged -> into
  absl::flat_hash_map<std::string, std::vector<std::string>> children_;
  absl::flat_hash_set<std::string> erased_;
};

}  // namespace cdp::ingest

#endif  // CDP_SERVICES_INGEST_MATCH_INDEX_H_
