// A customer's consent state as the service stores and sends it (cdp.v1.CustomerConsent),
// and what follows from it: validation of new choices, merging them into the state, and
// the effective matrix. Pure functions, no I/O; shared by the consent service, the
// replicas of enforcement points and the portal.
#ifndef CDP_CONSENT_STATE_H_
#define CDP_CONSENT_STATE_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cdp/v1/consent.pb.h"
#include "consent/catalog.h"
#include "consent/decision.h"

namespace cdp::consent {

// Customer ids are opaque: 1 to 64 characters from [A-Za-z0-9._:-]. InvalidArgument naming
// `field` (the request field, e.g. "customer_id") otherwise.
absl::Status ValidateCustomerId(std::string_view id, std::string_view field = "customer_id");

// Checks a batch of new choices against the catalog, at time `now`:
//  - InvalidArgument naming the element ("choices[2].field: unknown field \"emial\"") for
//    an empty batch, a choice with neither or both of field and category, an unknown
//    field, category or purpose, a field (or a category none of whose fields) the purpose
//    never uses, an expiry not in the future, or two choices for the same target and
//    purpose;
//  - FailedPrecondition with the catalog's plain-language reason (in English and Dutch)
//    for a purpose on contract or legal obligation, which a customer cannot switch.
absl::Status ValidateChoices(const Catalog& catalog,
                             const google::protobuf::RepeatedPtrField<v1::ConsentChoice>& choices,
                             absl::Time now);

// `current` with every choice of `changes` replacing the one for the same target and
// purpose, or added after the others. Order is stable, so states compare equal.
std::vector<v1::ConsentChoice> MergeChoices(
    const google::protobuf::RepeatedPtrField<v1::ConsentChoice>& current,
    const std::vector<v1::ConsentChoice>& changes);

// Checks a restriction change against the catalog: InvalidArgument naming the element for
// an unknown purpose, a purpose on a legal obligation (never restricted), or a repeat.
absl::Status ValidateRestriction(const Catalog& catalog, const v1::RestrictionChange& change);

// `current` after `change` (see RestrictionChange). FailedPrecondition for lifting some
// purposes of an all-purposes restriction.
absl::StatusOr<v1::Restriction> MergeRestriction(const v1::Restriction& current,
                                                 const v1::RestrictionChange& change);

// The decision function's view of a stored state.
CustomerChoices ChoicesFromProto(const v1::CustomerConsent& state);

// Every field x every purpose, in catalog order, decided at `now`, each cell with its rule
// and, where a customer's choice decided, that choice.
v1::ConsentState EffectiveMatrix(const Catalog& catalog, const v1::CustomerConsent& state,
                                 absl::Time now);

}  // namespace cdp::consent

#endif  // CDP_CONSENT_STATE_H_
