#include "consent/replica.h"

#include "absl/strings/str_cat.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "consent/state.h"
#include "services/common/grpc_status.h"
#include "services/common/tls.h"

namespace cdp::consent {
namespace {

std::shared_ptr<const ReplicaEntry> MakeEntry(const Catalog& catalog,
                                              const v1::CustomerConsent& state) {
  auto entry = std::make_shared<ReplicaEntry>();
  entry->choices = ChoicesFromProto(state);
  entry->compiled = CompiledChoices(catalog, entry->choices);
  return entry;
}

}  // namespace

ConsentReplica::ConsentReplica(Options options)
    : options_(std::move(options)), thread_([this] { Run(); }) {}

ConsentReplica::~ConsentReplica() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }
  thread_.join();
}

absl::StatusOr<ConsentView> ConsentReplica::Lookup(std::string_view customer_id,
                                                   int64_t min_version) const {
  const absl::Time now = options_.now();
  absl::ReaderMutexLock lock(&mu_);
  if (!synced_ || now - confirmed_at_ > options_.staleness_bound) {
    return absl::UnavailableError(absl::StrCat(
        "consent replica is not current (last confirmed ",
        synced_ ? absl::FormatDuration(now - confirmed_at_) : "never", " ago, bound ",
        absl::FormatDuration(options_.staleness_bound), ")"));
  }
  auto it = customers_.find(absl::string_view(customer_id.data(), customer_id.size()));
  if (it == customers_.end()) return absl::NotFoundError("customer_id: no consent record");
  if (it->second->choices.version < min_version) {
    return absl::UnavailableError(absl::StrCat("consent replica holds version ",
                                               it->second->choices.version, ", caller needs ",
                                               min_version));
  }
  return ConsentView{catalog_, it->second};
}

absl::StatusOr<Decision> ConsentReplica::Decide(std::string_view customer_id,
                                                std::string_view purpose,
                                                std::string_view field) const {
  absl::StatusOr<ConsentView> view = Lookup(customer_id);
  if (!view.ok()) return view.status();
  std::optional<PurposeId> p = view->catalog->FindPurpose(purpose);
  std::optional<FieldId> f = view->catalog->FindField(field);
  return view->Decide(p.value_or(-1), f.value_or(-1), options_.now());
}

ConsentReplica::Health ConsentReplica::health() const {
  const absl::Time now = options_.now();
  absl::ReaderMutexLock lock(&mu_);
  Health h;
  h.synced = synced_;
  h.position = position_;
  h.since_confirmed = synced_ ? now - confirmed_at_ : absl::InfiniteDuration();
  h.current = synced_ && h.since_confirmed <= options_.staleness_bound;
  h.customers = static_cast<int64_t>(customers_.size());
  h.reconnects = reconnects_;
  if (catalog_ != nullptr) h.catalog_version = catalog_->version();
  h.last_error = last_error_;
  return h;
}

absl::Status ConsentReplica::WaitUntilCurrent(absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  auto current = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return synced_ && options_.now() - confirmed_at_ <= options_.staleness_bound;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&current), deadline)) {
    return absl::DeadlineExceededError("consent replica did not become current");
  }
  return absl::OkStatus();
}

absl::Status ConsentReplica::WaitForVersion(std::string_view customer_id, int64_t version,
                                            absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string id(customer_id);
  absl::MutexLock lock(&mu_);
  auto holds = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto it = customers_.find(id);
    return it != customers_.end() && it->second->choices.version >= version;
  };
  if (!mu_.AwaitWithDeadline(absl::Condition(&holds), deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat("consent replica did not reach version ", version));
  }
  return absl::OkStatus();
}

absl::Status ConsentReplica::FetchCatalog(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::ConsentService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::Catalog proto;
  grpc::Status s = stub->GetCatalog(&ctx, v1::GetCatalogRequest(), &proto);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  auto catalog = Catalog::FromProto(std::move(proto));
  if (!catalog.ok()) return catalog.status();
  absl::MutexLock lock(&mu_);
  if (catalog_ == nullptr || catalog_->version() != (*catalog)->version()) {
    catalog_ = *std::move(catalog);
    // Choices compiled against another catalog mean nothing: refuse reads and start again
    // from a snapshot.
    customers_.clear();
    synced_ = false;
    position_ = 0;
  }
  return absl::OkStatus();
}

absl::Status ConsentReplica::FollowOnce(const std::shared_ptr<grpc::Channel>& channel) {
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return absl::CancelledError("stopping");
  }
  if (absl::Status s = FetchCatalog(channel); !s.ok()) return s;
  auto stub = v1::ConsentService::NewStub(channel);
  grpc::ClientContext ctx;
  v1::WatchConsentRequest request;
  std::shared_ptr<const Catalog> catalog;
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return absl::CancelledError("stopping");
    active_ = &ctx;
    request.set_after_position(position_);
    catalog = catalog_;
  }
  auto reader = stub->WatchConsent(&ctx, request);
  absl::flat_hash_map<std::string, std::shared_ptr<const ReplicaEntry>> snapshot;
  const bool snapshotting = request.after_position() == 0;
  bool catalog_changed = false;
  v1::WatchConsentResponse msg;
  while (reader->Read(&msg)) {
    if (msg.catalog_version() != catalog->version()) {
      catalog_changed = true;
      ctx.TryCancel();
      break;
    }
    switch (msg.event_case()) {
      case v1::WatchConsentResponse::kSnapshot:
        if (snapshotting && !msg.snapshot().erased()) {
          snapshot[msg.snapshot().customer_id()] = MakeEntry(*catalog, msg.snapshot());
        }
        break;
      case v1::WatchConsentResponse::kSnapshotEnd: {
        absl::MutexLock lock(&mu_);
        customers_.swap(snapshot);
        snapshot.clear();
        position_ = msg.snapshot_end().position();
        synced_ = true;
        break;
      }
      case v1::WatchConsentResponse::kChange: {
        auto entry = MakeEntry(*catalog, msg.change());
        {
          absl::MutexLock lock(&mu_);
          if (msg.change().position() <= position_) break;  // already held
          if (msg.change().erased()) {
            customers_.erase(msg.change().customer_id());  // forgotten: NOT_FOUND, nothing allowed
          } else {
            customers_[msg.change().customer_id()] = std::move(entry);
          }
          position_ = msg.change().position();
        }
        if (options_.on_applied) options_.on_applied(msg.change().customer_id(), msg.change().version());
        break;
      }
      case v1::WatchConsentResponse::kHeartbeat: {
        absl::MutexLock lock(&mu_);
        if (synced_ && msg.heartbeat().position() == position_) confirmed_at_ = options_.now();
        break;
      }
      case v1::WatchConsentResponse::EVENT_NOT_SET:
        break;
    }
  }
  grpc::Status status = reader->Finish();
  absl::MutexLock lock(&mu_);
  active_ = nullptr;
  if (catalog_changed) return absl::AbortedError("the catalog changed");
  if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
    // The service's feed does not reach our position (a restored database): start over.
    position_ = 0;
  }
  return rpc::FromGrpcStatus(status);
}

void ConsentReplica::Run() {
  absl::Duration backoff = absl::Milliseconds(50);
  rpc::RenewingChannel channel(options_.connect);
  while (true) {
    const int64_t before = health().position;
    const absl::Time started = absl::Now();
    const auto used = channel.get();
    absl::Status s = FollowOnce(used);
    channel.Observe(s.code(), used);
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    ++reconnects_;
    // A connection that made progress or lasted a while resets the back-off.
    if (position_ != before || absl::Now() - started > absl::Seconds(5)) {
      backoff = absl::Milliseconds(50);
    }
    auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_; };
    mu_.AwaitWithTimeout(absl::Condition(&stopping), backoff);
    if (stop_) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
    last_error_ = s;
  }
}

}  // namespace cdp::consent
