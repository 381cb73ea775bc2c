#include "services/consent/consent_api.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "consent/state.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/status_macros.h"

namespace cdp::consent {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
constexpr int kMaxRegisterBatch = 1000;
constexpr size_t kWatchBatch = 500;

std::string Sha256(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

// Page tokens are opaque to clients: "h" and the version to continue below, base64url.
std::string PageToken(int64_t before_version) {
  std::string token;
  absl::WebSafeBase64Escape(absl::StrCat("h", before_version), &token);
  return token;
}

absl::StatusOr<int64_t> ParsePageToken(const std::string& token) {
  if (token.empty()) return 0;
  std::string raw;
  int64_t version = 0;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < 2 || raw[0] != 'h' ||
      !absl::SimpleAtoi(absl::string_view(raw).substr(1), &version) || version <= 0) {
    return absl::InvalidArgumentError("page.page_token: not a token from this listing");
  }
  return version;
}

}  // namespace

ConsentApi::ConsentApi(std::shared_ptr<const Catalog> catalog, ConsentStore& store,
                       const ReceiptSigner& signer, ChangeFeed& feed, Options options)
    : catalog_(std::move(catalog)), store_(store), signer_(signer), feed_(feed),
      options_(std::move(options)) {}

absl::StatusOr<const v1::CallerDef*> ConsentApi::Authorize(const std::string& caller,
                                                           v1::Permission permission) const {
  return catalog_->Authorize(caller, permission);
}

absl::StatusOr<v1::Catalog> ConsentApi::GetCatalog(const std::string& caller) const {
  RETURN_IF_ERROR(Authorize(caller, v1::PERMISSION_UNSPECIFIED).status());
  return catalog_->proto();
}

absl::StatusOr<v1::ReceiptKey> ConsentApi::GetReceiptKey(const std::string& caller) const {
  RETURN_IF_ERROR(Authorize(caller, v1::PERMISSION_UNSPECIFIED).status());
  v1::ReceiptKey key;
  key.set_key_id(signer_.key_id());
  key.set_public_key_pem(signer_.public_key_pem());
  return key;
}

absl::StatusOr<v1::ConsentState> ConsentApi::GetConsent(const std::string& caller,
                                                        const v1::GetConsentRequest& request) const {
  RETURN_IF_ERROR(Authorize(caller, v1::READ_CONSENT).status());
  RETURN_IF_ERROR(ValidateCustomerId(request.customer_id()));
  ASSIGN_OR_RETURN(v1::CustomerConsent state, store_.Current(request.customer_id()));
  return EffectiveMatrix(*catalog_, state, options_.now());
}

absl::StatusOr<v1::UpdateConsentResponse> ConsentApi::UpdateConsent(
    const std::string& caller, const v1::UpdateConsentRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::MANAGE_CONSENT).status());
  RETURN_IF_ERROR(ValidateCustomerId(request.customer_id()));
  if (request.idempotency_key().empty() || request.idempotency_key().size() > 128) {
    return absl::InvalidArgumentError("idempotency_key: required, at most 128 characters");
  }
  if (!v1::Channel_IsValid(request.channel()) || request.channel() == v1::CHANNEL_UNSPECIFIED) {
    return absl::InvalidArgumentError("channel: required (portal, phone, chat, email or api)");
  }
  if (!v1::ActingParty::Kind_IsValid(request.acting_party().kind()) ||
      request.acting_party().kind() == v1::ActingParty::KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("acting_party.kind: required");
  }
  if (request.acting_party().id().size() > 128) {
    return absl::InvalidArgumentError("acting_party.id: at most 128 characters");
  }
  if (request.expected_version() < 0) {
    return absl::InvalidArgumentError("expected_version: must not be negative");
  }
  if (!request.language().empty() && request.language() != "nl" && request.language() != "en") {
    return absl::InvalidArgumentError("language: \"nl\" or \"en\"");
  }
  const absl::Time now = options_.now();
  if (!request.has_restriction() || request.choices_size() > 0) {
    RETURN_IF_ERROR(ValidateChoices(*catalog_, request.choices(), now));
  }
  if (request.has_restriction()) RETURN_IF_ERROR(ValidateRestriction(*catalog_, request.restriction()));

  UpdateRequest update;
  update.customer_id = request.customer_id();
  update.idempotency_key = request.idempotency_key();
  update.request_sha256 = Sha256(request.SerializeAsString());
  update.expected_version = request.expected_version();
  if (request.has_restriction()) update.restriction = request.restriction();
  update.meta = {.at = now,
                 .channel = request.channel(),
                 .acting_party = request.acting_party(),
                 .caller = caller,
                 .catalog_version = catalog_->version()};
  for (const v1::ConsentChoice& c : request.choices()) {
    v1::ConsentChoice stored = c;
    *stored.mutable_given_at() = ToProtoTime(now);
    stored.set_channel(request.channel());
    update.choices.push_back(std::move(stored));
  }
  ReceiptFacts facts{.receipt_id = NewUuid(),
                     .customer_id = request.customer_id(),
                     .at = now,
                     .channel = request.channel(),
                     .acting_party = request.acting_party(),
                     .choices = update.choices,
                     .language = request.language().empty() ? "nl" : request.language()};
  if (request.has_restriction()) facts.restriction = request.restriction();
  auto make_receipt = [&](int64_t version) {
    facts.consent_version = version;
    std::string json = ReceiptJson(BuildReceipt(*catalog_, signer_, facts));
    v1::ConsentReceipt receipt;
    receipt.set_receipt_id(facts.receipt_id);
    receipt.set_jws(signer_.Sign(json));
    receipt.set_json(std::move(json));
    receipt.set_key_id(signer_.key_id());
    return receipt;
  };
  ASSIGN_OR_RETURN(UpdateResult result, store_.Update(update, make_receipt));
  if (!result.replayed) feed_.Notify();
  log::Info("consent_updated", {{"customer_id", request.customer_id()},
                                {"version", result.version},
                                {"position", result.position},
                                {"choices", request.choices_size()},
                                {"restriction", request.has_restriction()},
                                {"replayed", result.replayed},
                                {"caller", caller}});
  v1::UpdateConsentResponse response;
  response.set_version(result.version);
  *response.mutable_receipt() = std::move(result.receipt);
  return response;
}

absl::StatusOr<v1::ListConsentHistoryResponse> ConsentApi::ListConsentHistory(
    const std::string& caller, const v1::ListConsentHistoryRequest& request) const {
  RETURN_IF_ERROR(Authorize(caller, v1::READ_CONSENT).status());
  RETURN_IF_ERROR(ValidateCustomerId(request.customer_id()));
  int size = request.page().page_size();
  if (size < 0 || size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page.page_size: between 0 (default ", kDefaultPageSize, ") and ",
                     kMaxPageSize));
  }
  if (size == 0) size = kDefaultPageSize;
  ASSIGN_OR_RETURN(int64_t before, ParsePageToken(request.page().page_token()));
  // One more than asked tells whether there is a next page.
  ASSIGN_OR_RETURN(std::vector<v1::ConsentChange> changes,
                   store_.History(request.customer_id(), before, size + 1));
  v1::ListConsentHistoryResponse response;
  for (int i = 0; i < static_cast<int>(changes.size()) && i < size; ++i) {
    *response.add_changes() = std::move(changes[static_cast<size_t>(i)]);
  }
  if (static_cast<int>(changes.size()) > size) {
    response.set_next_page_token(PageToken(response.changes(size - 1).version()));
  }
  return response;
}

absl::StatusOr<v1::RegisterCustomersResponse> ConsentApi::RegisterCustomers(
    const std::string& caller, const v1::RegisterCustomersRequest& request) {
  ASSIGN_OR_RETURN(const v1::CallerDef* def, Authorize(caller, v1::REGISTER_CUSTOMERS));
  if (request.customer_ids_size() == 0 || request.customer_ids_size() > kMaxRegisterBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("customer_ids: between 1 and ", kMaxRegisterBatch));
  }
  for (int i = 0; i < request.customer_ids_size(); ++i) {
    RETURN_IF_ERROR(ValidateCustomerId(request.customer_ids(i), absl::StrCat("customer_ids[", i, "]")));
  }
  v1::ActingParty party;
  party.set_kind(def->acts_as());
  ASSIGN_OR_RETURN(int added,
                   store_.RegisterCustomers(
                       {request.customer_ids().begin(), request.customer_ids().end()},
                       {.at = options_.now(),
                        .channel = v1::API,
                        .acting_party = party,
                        .caller = caller,
                        .catalog_version = catalog_->version()}));
  if (added > 0) feed_.Notify();
  log::Info("customers_registered",
            {{"requested", request.customer_ids_size()}, {"added", added}, {"caller", caller}});
  v1::RegisterCustomersResponse response;
  response.set_registered(added);
  return response;
}

absl::StatusOr<v1::EraseConsentResponse> ConsentApi::EraseConsent(const std::string& caller,
                                                                  const v1::EraseConsentRequest& request) {
  ASSIGN_OR_RETURN(const v1::CallerDef* def, Authorize(caller, v1::ERASE_CUSTOMERS));
  RETURN_IF_ERROR(ValidateCustomerId(request.customer_id()));
  v1::ActingParty party;
  party.set_kind(def->acts_as());
  ASSIGN_OR_RETURN(ConsentStore::EraseResult result,
                   store_.Erase(request.customer_id(), {.at = options_.now(),
                                                        .channel = v1::API,
                                                        .acting_party = party,
                                                        .caller = caller,
                                                        .catalog_version = catalog_->version()}));
  if (!result.already) feed_.Notify();
  log::Info("consent_erased", {{"customer_id", request.customer_id()},
                               {"position", result.position},
                               {"changes_emptied", result.changes_emptied},
                               {"already", result.already},
                               {"caller", caller}});
  v1::EraseConsentResponse response;
  response.set_position(result.position);
  response.set_changes_emptied(result.changes_emptied);
  return response;
}

absl::Status ConsentApi::WatchConsent(
    const std::string& caller, const v1::WatchConsentRequest& request,
    const std::function<bool(const v1::WatchConsentResponse&)>& write,
    const std::function<bool()>& stopping) const {
  RETURN_IF_ERROR(Authorize(caller, v1::WATCH_CONSENT).status());
  if (request.after_position() < 0) {
    return absl::InvalidArgumentError("after_position: must not be negative");
  }
  const absl::Status gone = absl::CancelledError("the client went away");
  v1::WatchConsentResponse msg;
  msg.set_catalog_version(catalog_->version());
  int64_t cursor = request.after_position();
  if (cursor == 0) {
    int sent = 0;
    RETURN_IF_ERROR(store_.Snapshot(
        [&](int64_t head) {
          cursor = head;
          return absl::OkStatus();
        },
        [&](const v1::CustomerConsent& state) {
          *msg.mutable_snapshot() = state;
          ++sent;
          return write(msg) ? absl::OkStatus() : gone;
        }));
    msg.mutable_snapshot_end()->set_position(cursor);
    if (!write(msg)) return gone;
    log::Info("consent_watch_snapshot", {{"customers", sent}, {"position", cursor}, {"caller", caller}});
  } else {
    ASSIGN_OR_RETURN(int64_t head, store_.Head());
    if (cursor > head) {
      return absl::OutOfRangeError(absl::StrCat("after_position: the feed ends at ", head));
    }
  }

  uint64_t generation = 0;
  while (true) {
    if (stopping()) return absl::UnavailableError("the consent service is shutting down");
    std::optional<std::vector<v1::CustomerConsent>> changes = feed_.Since(cursor, kWatchBatch);
    if (!changes) {
      ASSIGN_OR_RETURN(changes, store_.Feed(cursor, static_cast<int>(kWatchBatch)));
    }
    for (const v1::CustomerConsent& change : *changes) {
      *msg.mutable_change() = change;
      if (!write(msg)) return gone;
      cursor = change.position();
    }
    if (!changes->empty()) continue;
    ChangeFeed::Poll poll = feed_.WaitForPoll(generation, options_.watch_wait);
    if (poll.generation == generation || poll.head > cursor) continue;
    // The poll found nothing after `cursor`: the client is current as of the poll.
    generation = poll.generation;
    v1::Heartbeat* heartbeat = msg.mutable_heartbeat();
    heartbeat->set_position(cursor);
    *heartbeat->mutable_sent_at() = ToProtoTime(poll.at);
    if (!write(msg)) return gone;
  }
}

}  // namespace cdp::consent
