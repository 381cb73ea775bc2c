// The consent decision: a pure function of (catalog, a customer's choices, purpose, field,
// now). No I/O, no clock of its own, no allocation on the hot path.
//
// Order of rules (deny by default):
//   1. unknown purpose or field                      -> deny  (kUnknownPurpose/kUnknownField)
//   2. field outside the purpose's declared scope    -> deny  (kOutsidePurposeScope)
//   2a. processing restricted by the customer (Art. 18) for this purpose, unless it rests
//       on a legal obligation                         -> deny  (kRestrictedByCustomer)
//   3. contract or legal obligation                  -> allow (kLegalBasisAlwaysOn);
//                                                       customers cannot switch these off
//   4. the customer's unexpired choice for the field -> as chosen (kCustomerFieldChoice)
//   5. ... else for the field's category             -> as chosen (kCustomerCategoryChoice)
//   6. the basis's default: consent off (kConsentDefaultOff), legitimate interest on
//      (kLegitimateInterestDefault)
// The more specific choice wins; an expired choice counts as absent.
#ifndef CDP_CONSENT_DECISION_H_
#define CDP_CONSENT_DECISION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "cdp/v1/catalog.pb.h"
#include "cdp/v1/common.pb.h"
#include "consent/catalog.h"

namespace cdp::consent {

// One choice of a customer, as stored: for a field or for a whole category, for a purpose.
struct Choice {
  std::string field;                                 // set for a field choice...
  v1::Category category = v1::CATEGORY_UNSPECIFIED;  // ...or this for a category choice
  std::string purpose;
  bool allow = false;
  absl::Time given_at = absl::InfinitePast();
  absl::Time expires_at = absl::InfiniteFuture();
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
};

// A customer's current choices (at most one per target and purpose) and their version.
struct CustomerChoices {
  int64_t version = 0;
  std::vector<Choice> choices;
  // Processing restricted at the customer's request: every purpose, or these.
  bool restricted_all = false;
  std::vector<std::string> restricted_purposes;
};

enum class Rule {
  kUnknownPurpose,
  kUnknownField,
  kOutsidePurposeScope,
  kLegalBasisAlwaysOn,
  kCustomerFieldChoice,
  kCustomerCategoryChoice,
  kConsentDefaultOff,
  kLegitimateInterestDefault,
  kRestrictedByCustomer,
};

// "customer_field_choice", ... : the stable name used in logs, responses and explanations.
const char* RuleName(Rule rule);

struct Decision {
  bool allow = false;
  Rule rule = Rule::kUnknownPurpose;
  v1::LegalBasis legal_basis = v1::LEGAL_BASIS_UNSPECIFIED;
  int64_t consent_version = 0;
  // For kCustomer*Choice: the deciding choice's index in CustomerChoices::choices.
  int choice_index = -1;
};

// Choices translated to catalog ids once, so that deciding costs a few comparisons.
// Choices naming something the catalog does not know are dropped (they can never allow).
class CompiledChoices {
 public:
  CompiledChoices() = default;
  CompiledChoices(const Catalog& catalog, const CustomerChoices& choices);

  int64_t version() const { return version_; }

  struct Entry {
    int32_t purpose;
    int32_t target;      // FieldId, or the Category value for a category choice
    bool is_category;
    bool allow;
    int32_t source_index;
    absl::Time expires_at;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  bool Restricted(PurposeId purpose) const {
    return restricted_all_ || (purpose >= 0 && static_cast<size_t>(purpose) < restricted_.size() &&
                               restricted_[static_cast<size_t>(purpose)]);
  }

 private:
  int64_t version_ = 0;
  std::vector<Entry> entries_;
  bool restricted_all_ = false;
  std::vector<bool> restricted_;  // by PurposeId
};

// The decision by ids: the hot path of every read.
Decision Decide(const Catalog& catalog, const CompiledChoices& choices, PurposeId purpose,
                FieldId field, absl::Time now);

// The decision by names: compiles the choices first. Convenient, not for hot paths.
Decision Decide(const Catalog& catalog, const CustomerChoices& choices, std::string_view purpose,
                std::string_view field, absl::Time now);

}  // namespace cdp::consent

#endif  // CDP_CONSENT_DECISION_H_
