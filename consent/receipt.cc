#include "consent/receipt.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/file_util.h"

namespace cdp::consent {
namespace {

EVP_PKEY* Key(void* p) { return static_cast<EVP_PKEY*>(p); }

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string B64Url(std::string_view bytes) {
  std::string out;
  absl::WebSafeBase64Escape(absl::string_view(bytes.data(), bytes.size()), &out);
  return out;
}

std::string Text(const v1::LocalizedText& text, const std::string& language) {
  return language == "en" ? text.en() : text.nl();
}

std::string ActingPartyName(const v1::ActingParty& party) {
  std::string kind = absl::AsciiStrToLower(v1::ActingParty::Kind_Name(party.kind()));
  return party.id().empty() ? kind : absl::StrCat(kind, ":", party.id());
}

}  // namespace

ReceiptSigner::ReceiptSigner(void* pkey) : pkey_(pkey) {
  unsigned char raw[32];
  size_t raw_len = sizeof(raw);
  EVP_PKEY_get_raw_public_key(Key(pkey_), raw, &raw_len);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(raw, raw_len, digest);
  key_id_ = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), 8));
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, Key(pkey_));
  public_key_pem_ = BioToString(bio);
  BIO_free(bio);
}

ReceiptSigner::~ReceiptSigner() { EVP_PKEY_free(Key(pkey_)); }

absl::StatusOr<std::unique_ptr<ReceiptSigner>> ReceiptSigner::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) return absl::InvalidArgumentError("not a PEM private key");
  if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(pkey);
    return absl::InvalidArgumentError("not an Ed25519 key (make one with: openssl genpkey -algorithm ed25519)");
  }
  return std::unique_ptr<ReceiptSigner>(new ReceiptSigner(pkey));
}

absl::StatusOr<std::unique_ptr<ReceiptSigner>> ReceiptSigner::FromPemFile(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadWholeFile(path);
  if (!pem.ok()) return pem.status();
  auto signer = FromPem(*pem);
  if (!signer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", signer.status().message()));
  }
  return signer;
}

std::string ReceiptSigner::Sign(std::string_view payload) const {
  std::string input = absl::StrCat(
      B64Url(absl::StrCat(R"({"alg":"EdDSA","typ":"JWT","kid":")", key_id_, R"("})")), ".",
      B64Url(payload));
  unsigned char sig[64];
  size_t sig_len = sizeof(sig);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  // Ed25519 signing cannot fail with a valid key and a 64-byte buffer.
  EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, Key(pkey_));
  EVP_DigestSign(ctx, sig, &sig_len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  EVP_MD_CTX_free(ctx);
  return absl::StrCat(input, ".",
                      B64Url(std::string_view(reinterpret_cast<const char*>(sig), sig_len)));
}

absl::StatusOr<std::string> VerifyJws(std::string_view jws, std::string_view public_key_pem) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(jws.data(), jws.size()), '.');
  if (parts.size() != 3) return absl::InvalidArgumentError("not a compact JWS (three parts)");
  std::string header, payload, sig;
  if (!absl::WebSafeBase64Unescape(parts[0], &header) ||
      !absl::WebSafeBase64Unescape(parts[1], &payload) ||
      !absl::WebSafeBase64Unescape(parts[2], &sig)) {
    return absl::InvalidArgumentError("not a compact JWS (bad base64url)");
  }
  google::protobuf::Struct h;
  if (!google::protobuf::util::JsonStringToMessage(header, &h).ok()) {
    return absl::InvalidArgumentError("JWS header is not JSON");
  }
  auto alg = h.fields().find("alg");
  if (alg == h.fields().end() || alg->second.string_value() != "EdDSA") {
    return absl::InvalidArgumentError("JWS algorithm is not EdDSA");
  }
  BIO* bio = BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr || EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(pkey);
    return absl::InvalidArgumentError("not an Ed25519 public key (PEM)");
  }
  std::string input = absl::StrCat(parts[0], ".", parts[1]);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  int ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey) == 1 &&
           EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                            reinterpret_cast<const unsigned char*>(input.data()),
                            input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  if (!ok) return absl::InvalidArgumentError("signature does not verify");
  return payload;
}

std::string NewEd25519PrivateKeyPem() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  std::string pem = BioToString(bio);
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  return pem;
}

std::string ChannelName(v1::Channel channel) {
  return absl::AsciiStrToLower(v1::Channel_Name(channel));
}

std::string NewUuid() {
  // OpenSSL's generator costs about 1.5 us a call here, whatever the length up to a few KB
  // (0.02 us per 16 bytes drawn 1 KB at a time), and the access log takes one id per event:
  // each thread draws 64 ids' worth at once. A forked child must not hand out the ids its
  // parent will: the draw belongs to the process that made it.
  struct Draw {
    unsigned char bytes[16 * 64];
    size_t used = sizeof(bytes);
    pid_t pid = 0;
  };
  thread_local Draw draw;
  const pid_t pid = getpid();
  if (draw.used == sizeof(draw.bytes) || draw.pid != pid) {
    if (RAND_bytes(draw.bytes, sizeof(draw.bytes)) != 1) std::abort();  // no randomness: ids could repeat
    draw.used = 0;
    draw.pid = pid;
  }
  unsigned char b[16];
  std::memcpy(b, draw.bytes + draw.used, sizeof(b));
  draw.used += sizeof(b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  // 8-4-4-4-12 hex digits, written in place: one per access event, so no temporaries.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t at = 0;
  for (size_t i = 0; i < sizeof(b); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++at;  // past a dash
    out[at++] = kHex[b[i] >> 4];
    out[at++] = kHex[b[i] & 0x0f];
  }
  return out;
}

v1::KantaraReceipt BuildReceipt(const Catalog& catalog, const ReceiptSigner& signer,
                                const ReceiptFacts& facts) {
  const std::string& lang = facts.language == "en" ? facts.language : "nl";
  const v1::Controller& controller = catalog.proto().controller();
  v1::KantaraReceipt r;
  r.set_version("KI-CR-v1.1.0");
  r.set_jurisdiction(controller.jurisdiction());
  r.set_consent_timestamp(static_cast<uint32_t>(absl::ToUnixSeconds(facts.at)));
  r.set_collection_method(ChannelName(facts.channel));
  r.set_consent_receipt_id(facts.receipt_id);
  r.set_public_key(signer.public_key_pem());
  r.set_language(lang);
  r.set_pii_principal_id(facts.customer_id);
  auto* c = r.add_pii_controllers();
  c->set_pii_controller(controller.name());
  c->set_contact(controller.email());
  c->set_address(controller.address());
  c->set_email(controller.email());
  c->set_phone(controller.phone());
  c->set_pii_controller_url(controller.policy_url());
  r.set_policy_url(controller.policy_url());

  // One service per purpose, in the order the purposes first appear in the change; within
  // it one entry per (choice, expiry), listing the fields and categories it covers.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const v1::ConsentChoice*>> by_purpose;
  for (const v1::ConsentChoice& choice : facts.choices) {
    if (by_purpose.find(choice.purpose()) == by_purpose.end()) order.push_back(choice.purpose());
    by_purpose[choice.purpose()].push_back(&choice);
  }
  bool sensitive = false;
  for (const std::string& name : order) {
    std::optional<PurposeId> id = catalog.FindPurpose(name);
    if (!id) continue;  // validated before; never happens
    const v1::PurposeDef& def = catalog.purpose(*id);
    auto* service = r.add_services();
    service->set_service(Text(def.title(), lang));
    std::map<std::pair<bool, int64_t>, v1::KantaraReceipt::Purpose*> entries;
    for (const v1::ConsentChoice* choice : by_purpose[name]) {
      int64_t expiry = choice->has_expires_at() ? choice->expires_at().seconds() : 0;
      auto& entry = entries[{choice->allow(), expiry}];
      if (entry == nullptr) {
        entry = service->add_purposes();
        entry->set_purpose(Text(def.description(), lang));
        entry->add_purpose_category(def.dpv_term());
        entry->set_consent_type("EXPLICIT");
        entry->set_primary_purpose(false);
        entry->set_termination(
            expiry == 0 ? (lang == "en" ? "until withdrawn" : "tot u dit intrekt")
                        : absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(expiry),
                                           absl::UTCTimeZone()));
        entry->set_third_party_disclosure(def.dpv_term() == "dpv:SharingWithThirdParties");
        bool consent = def.legal_basis() == v1::CONSENT;
        entry->set_cdp_choice(choice->allow() ? (consent ? "granted" : "objection-withdrawn")
                                              : (consent ? "withdrawn" : "objected"));
        entry->set_cdp_legal_basis(catalog.legal_basis(def.legal_basis()).dpv_term());
        entry->set_cdp_purpose_id(def.name());
      }
      if (!choice->field().empty()) {
        entry->add_pii_category(choice->field());
        if (auto f = catalog.FindField(choice->field());
            f && catalog.field(*f).sensitivity() == v1::HIGH) {
          sensitive = true;
        }
      } else {
        entry->add_pii_category(choice->category());
      }
    }
  }
  if (facts.restriction) {
    const std::string choice = facts.restriction->restrict() ? "restricted" : "restriction-lifted";
    auto add = [&](const std::string& id, const std::string& title, const std::string& description,
                   const std::string& dpv) {
      auto* service = r.add_services();
      service->set_service(title);
      auto* entry = service->add_purposes();
      entry->set_purpose(description);
      if (!dpv.empty()) entry->add_purpose_category(dpv);
      entry->set_consent_type("EXPLICIT");
      entry->set_termination(lang == "en" ? "until lifted" : "tot u dit opheft");
      entry->set_cdp_choice(choice);
      entry->set_cdp_purpose_id(id);
    };
    if (facts.restriction->purposes().empty()) {
      add("*", lang == "en" ? "All purposes" : "Alle doelen",
          lang == "en" ? "Use of your data, except what the law requires (GDPR Art. 18)"
                       : "Gebruik van uw gegevens, behalve wat de wet vraagt (AVG art. 18)",
          "");
    }
    for (const std::string& name : facts.restriction->purposes()) {
      std::optional<PurposeId> id = catalog.FindPurpose(name);
      if (!id) continue;  // validated before; never happens
      const v1::PurposeDef& def = catalog.purpose(*id);
      add(def.name(), Text(def.title(), lang), Text(def.description(), lang), def.dpv_term());
    }
  }
  r.set_sensitive(sensitive);
  r.set_cdp_consent_version(static_cast<uint32_t>(facts.consent_version));
  r.set_cdp_catalog_version(catalog.version());
  r.set_cdp_acting_party(ActingPartyName(facts.acting_party));
  r.set_cdp_key_id(signer.key_id());
  return r;
}

std::string ReceiptJson(const v1::KantaraReceipt& receipt) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing a message without Any fields cannot fail.
  (void)google::protobuf::util::MessageToJsonString(receipt, &json, options);
  return json;
}

}  // namespace cdp::consent
