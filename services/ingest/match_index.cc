#include "services/ingest/match_index.h"

#include <algorithm>
#include <cstring>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "services/ingest/record.h"

namespace cdp::ingest {

uint64_t MatchIndex::KeyHash(const std::string& key) { return absl::Hash<std::string>()(key); }

namespace {

// "source '\0' id", the key of by_ref_, made on the stack: records IngestApi accepts fit,
// so looking one up costs no allocation (longer ones, say from before a limit, go to the
// heap).
class RefKey {
 public:
  RefKey(absl::string_view source, absl::string_view id) {
    const size_t n = source.size() + 1 + id.size();
    char* p = buf_;
    if (n > sizeof(buf_)) {
      heap_.resize(n);
      p = heap_.data();
    }
    std::memcpy(p, source.data(), source.size());
    p[source.size()] = '\0';
    std::memcpy(p + source.size() + 1, id.data(), id.size());
    view_ = absl::string_view(p, n);
  }
  RefKey(const RefKey&) = delete;
  RefKey& operator=(const RefKey&) = delete;
  absl::string_view view() const { return view_; }

 private:
  char buf_[kMaxSourceSystemBytes + 1 + kMaxRecordIdBytes];
  std::string heap_;
  absl::string_view view_;
};

}  // namespace

void MatchIndex::AddVersion(const std::string& source, const std::string& id, int64_t micros,
                            const std::string& owner, const resolution::PersonRecord& person,
                            bool provisional, const std::vector<std::string>* blocking_keys) {
  const RefKey ref(source, id);
  auto [it, added] = by_ref_.try_emplace(ref.view(), static_cast<uint32_t>(entries_.size()));
  if (added) {
    entries_.push_back(std::make_unique<Entry>(Entry{source, id, owner, micros, {}, person}));
    owned_[owner].push_back(it->second);
  }
  Entry& e = *entries_[it->second];
  if (std::find(e.versions.begin(), e.versions.end(), micros) != e.versions.end()) return;
  Undo undo{it->second, added, true, false, e.latest, {}, static_cast<uint32_t>(e.keys.size())};
  e.versions.push_back(micros);
  if (!erased_.contains(e.owner)) {
    if (micros >= e.latest) {
      if (provisional && !added) undo.old_person = e.person;
      undo.replaced_person = true;
      e.latest = micros;
      if (!added) e.person = person;  // a new entry was made with it
    }
    // Every version's keys, so that a record is found by an e-mail it had before; each key
    // once per record, however many versions share it.
    std::vector<std::string> made;
    if (blocking_keys == nullptr) blocking_keys = &(made = resolution::BlockingKeys(person));
    e.keys.reserve(e.keys.size() + blocking_keys->size());
    for (const std::string& k : *blocking_keys) {
      const uint64_t h = KeyHash(k);
      if (std::find(e.keys.begin(), e.keys.end(), h) != e.keys.end()) continue;
      e.keys.push_back(h);
      blocks_[h].push_back(it->second);
    }
  }
  if (provisional) journal_.push_back(std::move(undo));
}

void MatchIndex::Settle(uint64_t end) {
  while (!journal_.empty() && journal_base_ < end) {
    journal_.pop_front();
    ++journal_base_;
  }
}

void MatchIndex::RollBack() {
  while (!journal_.empty()) {
    Undo& u = journal_.back();
    Entry& e = *entries_[u.entry];
    for (size_t k = u.old_keys; k < e.keys.size(); ++k) {
      auto block = blocks_.find(e.keys[k]);
      block->second.pop_back();  // last in: this entry
      if (block->second.empty()) blocks_.erase(block);
    }
    e.keys.resize(u.old_keys);
    if (u.replaced_person && !u.added_entry) {
      e.latest = u.old_latest;
      e.person = erased_.contains(e.owner) ? resolution::PersonRecord{} : std::move(u.old_person);
    }
    if (u.added_version) e.versions.pop_back();
    if (u.added_entry) {
      auto owned = owned_.find(e.owner);
      owned->second.pop_back();
      if (owned->second.empty()) owned_.erase(owned);
      by_ref_.erase(RefKey(e.source, e.id).view());
      entries_.pop_back();
    }
    journal_.pop_back();
  }
}

void MatchIndex::SetProfile(const std::string& profile, const std::string& merged_into, bool erased) {
  auto old = parent_.find(profile);
  const std::string before = old == parent_.end() ? "" : old->second;
  if (before != merged_into) {
    if (!before.empty()) {
      auto& siblings = children_[before];
      siblings.erase(std::remove(siblings.begin(), siblings.end(), profile), siblings.end());
      parent_.erase(profile);
    }
    if (!merged_into.empty()) {
      parent_[profile] = merged_into;
      children_[merged_into].push_back(profile);
    }
  }
  if (erased && erased_.insert(profile).second) {
    // Its data is unreadable in the database now; it leaves memory as well.
    if (auto owned = owned_.find(profile); owned != owned_.end()) {
      for (uint32_t i : owned->second) entries_[i]->person = {};
    }
  }
}

void MatchIndex::MarkErased(const std::string& profile) {
  auto it = parent_.find(profile);
  SetProfile(profile, it == parent_.end() ? "" : it->second, true);
}

const MatchIndex::Entry* MatchIndex::Find(const std::string& source, const std::string& id) const {
  auto it = by_ref_.find(RefKey(source, id).view());
  return it == by_ref_.end() ? nullptr : entries_[it->second].get();
}

std::vector<const MatchIndex::Entry*> MatchIndex::Candidates(
    const std::vector<std::string>& blocking_keys, const resolution::BlockLimits& limits) const {
  std::vector<uint32_t> found;
  for (const std::string& k : blocking_keys) {
    auto it = blocks_.find(KeyHash(k));
    if (it == blocks_.end() || it->second.size() > limits.Of(k)) continue;
    found.insert(found.end(), it->second.begin(), it->second.end());
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::vector<const Entry*> out;
  out.reserve(found.size());
  for (uint32_t i : found) {
    if (erased_.empty() || !erased_.contains(entries_[i]->owner)) out.push_back(entries_[i].get());
  }
  return out;
}

const std::string& MatchIndex::Root(const std::string& profile) const {
  const std::string* p = &profile;
  for (int depth = 0; depth < 100 && !parent_.empty(); ++depth) {
    auto it = parent_.find(*p);
    if (it == parent_.end()) break;
    p = &it->second;
  }
  return *p;
}

std::vector<const MatchIndex::Entry*> MatchIndex::Members(const std::string& root) const {
  std::vector<const Entry*> out;
  std::vector<std::string> todo = {root};
  for (size_t i = 0; i < todo.size() && i < 10000; ++i) {
    const std::string p = todo[i];
    if (auto c = children_.find(p); c != children_.end()) todo.insert(todo.end(), c->second.begin(), c->second.end());
    if (erased_.contains(p)) continue;
    if (auto o = owned_.find(p); o != owned_.end()) {
      for (uint32_t e : o->second) out.push_back(entries_[e].get());
    }
  }
  return out;
}

}  // namespace cdp::ingest
