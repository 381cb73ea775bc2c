#include "consent/catalog.h"

#include <functional>
#include <regex>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/file_util.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace cdp::consent {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

// Collects the first syntax error from the text-format parser.
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (message_.empty()) message_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

// Finds where an element was written. A path step is (field name, index or -1).
class Locator {
 public:
  Locator(std::string file, const TextFormat::ParseInfoTree* tree)
      : file_(std::move(file)), tree_(tree) {}

  std::string Where(const google::protobuf::Descriptor* root,
                    std::vector<std::pair<std::string, int>> path) const {
    if (tree_ == nullptr) {
      std::string where = file_;
      for (const auto& [name, index] : path) {
        absl::StrAppend(&where, where.empty() ? "" : ".", name);
        if (index >= 0) absl::StrAppend(&where, "[", index, "]");
      }
      return where;
    }
    const TextFormat::ParseInfoTree* tree = tree_;
    const google::protobuf::Descriptor* desc = root;
    TextFormat::ParseLocation loc;
    for (size_t i = 0; i < path.size() && tree != nullptr && desc != nullptr; ++i) {
      const FieldDescriptor* f = desc->FindFieldByName(path[i].first);
      if (f == nullptr) break;
      int index = f->is_repeated() ? std::max(path[i].second, 0) : -1;
      TextFormat::ParseLocation here = tree->GetLocation(f, index);
      if (here.line >= 0) loc = here;
      if (f->message_type() != nullptr && i + 1 < path.size()) {
        tree = tree->GetTreeForNested(f, index);
        desc = f->message_type();
      }
    }
    return absl::StrCat(file_, ":", loc.line + 1, ":", loc.column + 1);
  }

 private:
  std::string file_;
  const TextFormat::ParseInfoTree* tree_;
};

const std::regex& FieldNameRe() {
  static const auto* re = new std::regex("[a-z][a-z0-9_]*");
  return *re;
}
const std::regex& PurposeNameRe() {
  static const auto* re = new std::regex("[a-z][a-z0-9-]*");
  return *re;
}

bool HasBoth(const v1::LocalizedText& t) { return !t.nl().empty() && !t.en().empty(); }

absl::Status Validate(const v1::Catalog& c, const Locator& at) {
  const auto* d = v1::Catalog::descriptor();
  auto fail = [&](std::vector<std::pair<std::string, int>> path, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(at.Where(d, std::move(path)), ": ", what));
  };
  if (c.version().empty()) return fail({{"version", -1}}, "catalog: version must be set");

  absl::flat_hash_set<int> bases;
  for (int i = 0; i < c.legal_bases_size(); ++i) {
    const auto& b = c.legal_bases(i);
    std::string name = v1::LegalBasis_Name(b.basis());
    if (b.basis() == v1::LEGAL_BASIS_UNSPECIFIED) {
      return fail({{"legal_bases", i}, {"basis", -1}}, "legal basis: basis must be set");
    }
    if (!bases.insert(b.basis()).second) {
      return fail({{"legal_bases", i}}, absl::StrCat("legal basis ", name, ": defined twice"));
    }
    if (!absl::StartsWith(b.dpv_term(), "dpv:")) {
      return fail({{"legal_bases", i}, {"dpv_term", -1}},
                  absl::StrCat("legal basis ", name, ": dpv_term must be a DPV term (dpv:...)"));
    }
    if (!HasBoth(b.title()) || !HasBoth(b.description())) {
      return fail({{"legal_bases", i}},
                  absl::StrCat("legal basis ", name, ": needs title and description in nl and en"));
    }
  }
  for (v1::LegalBasis basis : {v1::CONSENT, v1::LEGITIMATE_INTEREST, v1::CONTRACT,
                               v1::LEGAL_OBLIGATION}) {
    if (!bases.contains(basis)) {
      return fail({{"legal_bases", -1}},
                  absl::StrCat("legal basis ", v1::LegalBasis_Name(basis), ": not described"));
    }
  }

  absl::flat_hash_set<std::string> fields;
  absl::flat_hash_set<int> categories_used;
  for (int i = 0; i < c.fields_size(); ++i) {
    const auto& f = c.fields(i);
    auto quoted = absl::StrCat("field \"", f.name(), "\"");
    if (!std::regex_match(f.name(), FieldNameRe())) {
      return fail({{"fields", i}, {"name", -1}},
                  absl::StrCat(quoted, ": name must be lower case letters, digits and _"));
    }
    if (!fields.insert(f.name()).second) {
      return fail({{"fields", i}, {"name", -1}}, absl::StrCat(quoted, ": defined twice"));
    }
    if (f.category() == v1::CATEGORY_UNSPECIFIED) {
      return fail({{"fields", i}}, absl::StrCat(quoted, ": category must be set"));
    }
    if (f.sensitivity() == v1::SENSITIVITY_UNSPECIFIED) {
      return fail({{"fields", i}}, absl::StrCat(quoted, ": sensitivity must be set"));
    }
    if (!HasBoth(f.title())) {
      return fail({{"fields", i}}, absl::StrCat(quoted, ": needs a title in nl and en"));
    }
    categories_used.insert(f.category());
  }

  absl::flat_hash_set<std::string> purposes;
  for (int i = 0; i < c.purposes_size(); ++i) {
    const auto& p = c.purposes(i);
    auto quoted = absl::StrCat("purpose \"", p.name(), "\"");
    if (!std::regex_match(p.name(), PurposeNameRe())) {
      return fail({{"purposes", i}, {"name", -1}},
                  absl::StrCat(quoted, ": name must be lower case letters, digits and -"));
    }
    if (!purposes.insert(p.name()).second) {
      return fail({{"purposes", i}, {"name", -1}}, absl::StrCat(quoted, ": defined twice"));
    }
    if (!absl::StartsWith(p.dpv_term(), "dpv:")) {
      return fail({{"purposes", i}},
                  absl::StrCat(quoted, ": dpv_term must be a DPV term (dpv:...)"));
    }
    if (p.legal_basis() == v1::LEGAL_BASIS_UNSPECIFIED) {
      return fail({{"purposes", i}}, absl::StrCat(quoted, ": legal_basis must be set"));
    }
    if (!HasBoth(p.title()) || !HasBoth(p.description())) {
      return fail({{"purposes", i}},
                  absl::StrCat(quoted, ": needs title and description in nl and en"));
    }
    if (!Catalog::IsSwitchable(p.legal_basis()) && !HasBoth(p.locked_reason())) {
      return fail({{"purposes", i}},
                  absl::StrCat(quoted, ": cannot be switched off, so it needs a locked_reason "
                                       "in nl and en"));
    }
    if (p.retention_days() < 0) {
      return fail({{"purposes", i}}, absl::StrCat(quoted, ": retention_days must not be negative"));
    }
    if (p.retention_days() > 0 && !HasBoth(p.retention())) {
      return fail({{"purposes", i}},
                  absl::StrCat(quoted, ": a retention period needs its retention text in nl and en"));
    }
    if (p.retention_sources_size() > 0 &&
        (p.legal_basis() != v1::LEGAL_OBLIGATION || p.retention_days() == 0)) {
      return fail({{"purposes", i}},
                  absl::StrCat(quoted, ": retention_sources only for a legal obligation with retention_days"));
    }
    if (p.categories_size() == 0 && p.fields_size() == 0) {
      return fail({{"purposes", i}},
                  absl::StrCat(quoted, ": scope is empty; list categories or fields"));
    }
    for (int j = 0; j < p.categories_size(); ++j) {
      if (p.categories(j) == v1::CATEGORY_UNSPECIFIED) {
        return fail({{"purposes", i}, {"categories", j}},
                    absl::StrCat(quoted, ": category must not be CATEGORY_UNSPECIFIED"));
      }
    }
    for (int j = 0; j < p.fields_size(); ++j) {
      if (!fields.contains(p.fields(j))) {
        return fail({{"purposes", i}, {"fields", j}},
                    absl::StrCat(quoted, ": unknown field \"", p.fields(j), "\""));
      }
    }
  }

  absl::flat_hash_set<std::string> callers;
  for (int i = 0; i < c.callers_size(); ++i) {
    const auto& k = c.callers(i);
    auto quoted = absl::StrCat("caller \"", k.id(), "\"");
    if (!absl::StartsWith(k.id(), "spiffe://")) {
      return fail({{"callers", i}, {"id", -1}},
                  absl::StrCat(quoted, ": id must be a certificate URI SAN (spiffe://...)"));
    }
    if (!callers.insert(k.id()).second) {
      return fail({{"callers", i}, {"id", -1}}, absl::StrCat(quoted, ": defined twice"));
    }
    if (k.acts_as() == v1::ActingParty::KIND_UNSPECIFIED) {
      return fail({{"callers", i}}, absl::StrCat(quoted, ": acts_as must be set"));
    }
    if (!HasBoth(k.title())) {
      return fail({{"callers", i}}, absl::StrCat(quoted, ": needs a title in nl and en"));
    }
    for (int j = 0; j < k.purposes_size(); ++j) {
      if (!purposes.contains(k.purposes(j))) {
        return fail({{"callers", i}, {"purposes", j}},
                    absl::StrCat(quoted, ": unknown purpose \"", k.purposes(j), "\""));
      }
    }
    absl::flat_hash_set<int> permissions;
    for (int j = 0; j < k.permissions_size(); ++j) {
      if (k.permissions(j) == v1::PERMISSION_UNSPECIFIED) {
        return fail({{"callers", i}, {"permissions", j}},
                    absl::StrCat(quoted, ": permission must be set"));
      }
      if (!permissions.insert(k.permissions(j)).second) {
        return fail({{"callers", i}, {"permissions", j}},
                    absl::StrCat(quoted, ": permission ", v1::Permission_Name(k.permissions(j)),
                                 " listed twice"));
      }
    }
    if (k.purposes_size() == 0 && k.permissions_size() == 0) {
      return fail({{"callers", i}}, absl::StrCat(quoted, ": needs purposes or permissions"));
    }
  }
  if (c.controller().name().empty()) {
    return fail({{"controller", -1}}, "controller: name must be set (it is named in receipts)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Catalog>> Catalog::FromText(std::string_view text,
                                                                 const std::string& file_name) {
  v1::Catalog proto;
  TextFormat::Parser parser;
  FirstError errors;
  TextFormat::ParseInfoTree tree;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(std::string(text), &proto)) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ":", errors.message()));
  }
  absl::Status valid = Validate(proto, Locator(file_name, &tree));
  if (!valid.ok()) return valid;
  auto catalog = std::shared_ptr<Catalog>(new Catalog(std::move(proto)));
  catalog->BuildIndexes();
  return catalog;
}

absl::StatusOr<std::shared_ptr<const Catalog>> Catalog::FromFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  return FromText(*text, path);
}

absl::StatusOr<std::shared_ptr<const Catalog>> Catalog::FromProto(v1::Catalog proto) {
  absl::Status valid = Validate(proto, Locator("", nullptr));
  if (!valid.ok()) return valid;
  auto catalog = std::shared_ptr<Catalog>(new Catalog(std::move(proto)));
  catalog->BuildIndexes();
  return catalog;
}

void Catalog::BuildIndexes() {
  for (int i = 0; i < proto_.fields_size(); ++i) fields_by_name_[proto_.fields(i).name()] = i;
  for (int i = 0; i < proto_.purposes_size(); ++i) {
    purposes_by_name_[proto_.purposes(i).name()] = i;
  }
  for (int i = 0; i < proto_.callers_size(); ++i) callers_by_id_[proto_.callers(i).id()] = i;
  scope_.assign(static_cast<size_t>(purpose_count()) * static_cast<size_t>(field_count()), false);
  for (PurposeId p = 0; p < purpose_count(); ++p) {
    const auto& def = proto_.purposes(p);
    for (FieldId f = 0; f < field_count(); ++f) {
      bool in = false;
      for (int c : def.categories()) in |= c == proto_.fields(f).category();
      for (const std::string& name : def.fields()) in |= name == proto_.fields(f).name();
      scope_[static_cast<size_t>(p) * static_cast<size_t>(field_count()) +
             static_cast<size_t>(f)] = in;
    }
  }
  legal_basis_index_.assign(v1::LegalBasis_ARRAYSIZE, -1);
  for (int i = 0; i < proto_.legal_bases_size(); ++i) {
    legal_basis_index_[proto_.legal_bases(i).basis()] = i;
  }
}

std::optional<FieldId> Catalog::FindField(std::string_view name) const {
  auto it = fields_by_name_.find(absl::string_view(name.data(), name.size()));
  if (it == fields_by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<PurposeId> Catalog::FindPurpose(std::string_view name) const {
  auto it = purposes_by_name_.find(absl::string_view(name.data(), name.size()));
  if (it == purposes_by_name_.end()) return std::nullopt;
  return it->second;
}

const v1::LegalBasisDef& Catalog::legal_basis(v1::LegalBasis basis) const {
  return proto_.legal_bases(legal_basis_index_[basis]);
}

const v1::CallerDef* Catalog::FindCaller(std::string_view id) const {
  auto it = callers_by_id_.find(absl::string_view(id.data(), id.size()));
  return it == callers_by_id_.end() ? nullptr : &proto_.callers(it->second);
}

std::string Catalog::CategoryName(v1::Category category) {
  return absl::AsciiStrToLower(v1::Category_Name(category));
}

std::optional<v1::Category> Catalog::ParseCategory(std::string_view name) {
  std::string upper = absl::AsciiStrToUpper(absl::string_view(name.data(), name.size()));
  v1::Category category;
  if (name == absl::AsciiStrToLower(upper) &&
      v1::Category_Parse(upper, &category) && category != v1::CATEGORY_UNSPECIFIED) {
    return category;
  }
  return std::nullopt;
}

absl::StatusOr<const v1::CallerDef*> Catalog::Authorize(std::string_view caller, v1::Permission permission) const {
  const v1::CallerDef* def = FindCaller(caller);
  if (def == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat("caller ", std::string(caller), " is not in the consent catalog"));
  }
  if (permission != v1::PERMISSION_UNSPECIFIED && !CallerHas(*def, permission)) {
    return absl::PermissionDeniedError(
        absl::StrCat("caller ", std::string(caller), " lacks permission ", v1::Permission_Name(permission)));
  }
  return def;
}

bool Catalog::CallerHas(const v1::CallerDef& caller, v1::Permission permission) {
  for (int p : caller.permissions()) {
    if (p == permission) return true;
  }
  return false;
}

bool Catalog::CallerMayClaim(const v1::CallerDef& caller, std::string_view purpose) const {
  for (const std::string& p : caller.purposes()) {
    if (p == purpose) return true;
  }
  return false;
}

}  // namespace cdp::consent
