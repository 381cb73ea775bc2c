// Consent receipts: what a customer keeps as proof of each change to their choices.
//
// The body is a cdp.v1.KantaraReceipt (proto/cdp/v1/receipt.proto) written as JSON; it is
// signed with Ed25519 as a JWS in compact serialisation (RFC 7515, "alg": "EdDSA" from
// RFC 8037), so any JOSE library, or `cdpctl verify-receipt`, can check it with nothing
// but the service's public key.
#ifndef CDP_CONSENT_RECEIPT_H_
#define CDP_CONSENT_RECEIPT_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cdp/v1/common.pb.h"
#include "cdp/v1/consent.pb.h"
#include "cdp/v1/receipt.pb.h"
#include "consent/catalog.h"

namespace cdp::consent {

// Holds one Ed25519 private key. Thread-safe: Sign() may be called concurrently.
class ReceiptSigner {
 public:
  // Parses a PEM (PKCS#8) Ed25519 private key, as written by
  // `openssl genpkey -algorithm ed25519`. InvalidArgument if it is not one.
  static absl::StatusOr<std::unique_ptr<ReceiptSigner>> FromPem(std::string_view pem);
  // Reads `path` and calls FromPem; errors name the file.
  static absl::StatusOr<std::unique_ptr<ReceiptSigner>> FromPemFile(const std::string& path);
  ~ReceiptSigner();
  ReceiptSigner(const ReceiptSigner&) = delete;
  ReceiptSigner& operator=(const ReceiptSigner&) = delete;

  // "kid": the first 16 hex digits of the SHA-256 of the raw public key.
  const std::string& key_id() const { return key_id_; }
  // SubjectPublicKeyInfo PEM of the verifying key.
  const std::string& public_key_pem() const { return public_key_pem_; }

  // header.payload.signature, each part base64url without padding.
  std::string Sign(std::string_view payload) const;

 private:
  explicit ReceiptSigner(void* pkey);
  void* pkey_;  // EVP_PKEY*, owned
  std::string key_id_;
  std::string public_key_pem_;
};

// Checks a compact JWS against an Ed25519 public key (PEM) and returns its payload.
// InvalidArgument if the JWS is malformed, names another algorithm, or the signature does
// not verify; the message says which.
absl::StatusOr<std::string> VerifyJws(std::string_view jws, std::string_view public_key_pem);

// A fresh Ed25519 private key as PKCS#8 PEM (for tests and first start-up).
std::string NewEd25519PrivateKeyPem();

// What one consent change consists of, for its receipt.
struct ReceiptFacts {
  std::string receipt_id;
  std::string customer_id;
  int64_t consent_version = 0;
  absl::Time at;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  v1::ActingParty acting_party;
  std::vector<v1::ConsentChoice> choices;  // validated against `catalog`
  std::string language = "nl";             // "nl" or "en"
  // A restriction of processing made or lifted in the same change (validated).
  std::optional<v1::RestrictionChange> restriction;
};

// The receipt body for `facts`: one service entry per purpose touched, naming the fields
// and categories, the choice made, its legal basis and DPV codes, in the chosen language.
// A restriction adds one entry per purpose it names (or one for every purpose, with
// cdp_purpose_id "*"), whose cdp_choice is "restricted" or "restriction-lifted".
v1::KantaraReceipt BuildReceipt(const Catalog& catalog, const ReceiptSigner& signer,
                                const ReceiptFacts& facts);

// The exact bytes that are signed: compact JSON, every field present.
std::string ReceiptJson(const v1::KantaraReceipt& receipt);

// The platform's lower-case name of a channel ("portal", "phone", ...).
std::string ChannelName(v1::Channel channel);

// A random UUID (version 4) from OpenSSL's generator, for receipt, request and event ids.
// Each thread draws the bytes of 64 at a time; a forked child draws its own.
std::string NewUuid();

}  // namespace cdp::consent

#endif  // CDP_CONSENT_RECEIPT_H_
