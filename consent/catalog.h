// The consent catalog, validated and indexed for the decision function.
//
// A catalog is written as a text-format cdp.v1.Catalog (see proto/cdp/v1/catalog.proto and
// consent/catalog/default.textproto). Loading validates it completely; every error names
// the file, line and column and the offending name, e.g.
//   default.textproto:88:13: purpose "direct-marketing": unknown field "emial"
#ifndef CDP_CONSENT_CATALOG_H_
#define CDP_CONSENT_CATALOG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "cdp/v1/catalog.pb.h"

namespace cdp::consent {

// Purposes the platform itself relies on. Customers are shown their own data under the
// first, a catalog purpose on a legal obligation; auditors' looks at the access log are
// logged under the second, which is no catalog purpose (nothing is read from a profile).
inline constexpr char kDataSubjectAccessPurpose[] = "data-subject-access";
inline constexpr char kAccessLogReviewPurpose[] = "access-log-review";

// Dense indexes into the catalog's fields and purposes, in file order.
using FieldId = int32_t;
using PurposeId = int32_t;

// Immutable once built; safe to share between threads.
class Catalog {
 public:
  // Parses and validates text-format catalog `text`; `file_name` is used in errors.
  // InvalidArgument on any syntax or validation error.
  static absl::StatusOr<std::shared_ptr<const Catalog>> FromText(std::string_view text,
                                                                 const std::string& file_name);
  // Reads `path` and calls FromText. InvalidArgument if it cannot be read.
  static absl::StatusOr<std::shared_ptr<const Catalog>> FromFile(const std::string& path);
  // Validates an already-built message (errors name the element by its position instead of
  // a line). For tests and generated catalogs.
  static absl::StatusOr<std::shared_ptr<const Catalog>> FromProto(v1::Catalog proto);

  const v1::Catalog& proto() const { return proto_; }
  const std::string& version() const { return proto_.version(); }

  int field_count() const { return proto_.fields_size(); }
  int purpose_count() const { return proto_.purposes_size(); }
  std::optional<FieldId> FindField(std::string_view name) const;
  std::optional<PurposeId> FindPurpose(std::string_view name) const;
  const v1::FieldDef& field(FieldId id) const { return proto_.fields(id); }
  const v1::PurposeDef& purpose(PurposeId id) const { return proto_.purposes(id); }
  v1::Category category_of(FieldId id) const { return proto_.fields(id).category(); }
  // Whether `purpose` may ever use `field` (its declared scope).
  bool InScope(PurposeId purpose, FieldId field) const {
    return scope_[static_cast<size_t>(purpose) * static_cast<size_t>(field_count()) +
                  static_cast<size_t>(field)];
  }
  // The description of `basis` from the catalog.
  const v1::LegalBasisDef& legal_basis(v1::LegalBasis basis) const;

  // The caller with this certificate URI SAN, or nullptr if the catalog does not know it.
  const v1::CallerDef* FindCaller(std::string_view id) const;
  // Whether `caller` may claim `purpose`.
  bool CallerMayClaim(const v1::CallerDef& caller, std::string_view purpose) const;
  // Whether `caller` holds `permission`.
  static bool CallerHas(const v1::CallerDef& caller, v1::Permission permission);
  // The caller, if the catalog knows it and (unless PERMISSION_UNSPECIFIED) grants it
  // `permission`; PERMISSION_DENIED naming what is missing otherwise. Every service's
  // authorisation goes through this.
  absl::StatusOr<const v1::CallerDef*> Authorize(std::string_view caller, v1::Permission permission) const;

  // A category's name as customers and callers write it: "contact" for CONTACT.
  static std::string CategoryName(v1::Category category);
  // The inverse; nullopt for anything else (including "category_unspecified").
  static std::optional<v1::Category> ParseCategory(std::string_view name);

  // Whether a customer may switch `purpose` off (false for contract and legal obligation).
  static bool IsSwitchable(v1::LegalBasis basis) {
    return basis == v1::CONSENT || basis == v1::LEGITIMATE_INTEREST;
  }

 private:
  explicit Catalog(v1::Catalog proto) : proto_(std::move(proto)) {}
  void BuildIndexes();

  v1::Catalog proto_;
  absl::flat_hash_map<std::string, FieldId> fields_by_name_;
  absl::flat_hash_map<std::string, PurposeId> purposes_by_name_;
  absl::flat_hash_map<std::string, int> callers_by_id_;
  std::vector<bool> scope_;  // purpose-major matrix
  std::vector<int> legal_basis_index_;  // LegalBasis value -> index in proto_.legal_bases
};

}  // namespace cdp::consent

#endif  // CDP_CONSENT_CATALOG_H_
