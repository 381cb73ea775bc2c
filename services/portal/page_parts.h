// Pieces the portal's page files share: one visit's context, the words for categories and
// source systems, dates, and the style sheet. Internal to services/portal.
#ifndef CDP_SERVICES_PORTAL_PAGE_PARTS_H_
#define CDP_SERVICES_PORTAL_PAGE_PARTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cdp/v1/catalog.pb.h"
#include "consent/catalog.h"
#include "services/portal/https_server.h"
#include "services/portal/portal_app.h"
#include "services/portal/portal_store.h"
#include "services/portal/web_util.h"

namespace cdp::portal {

// The purpose under which customers are shown their own data (see the catalog).
inline constexpr const char* kSelfServicePurpose = consent::kDataSubjectAccessPurpose;

struct PortalApp::Visit {
  explicit Visit(const HttpRequest& r) : req(r) {}
  const HttpRequest& req;
  FormValues query;
  FormValues form;
  bool en = false;
  std::optional<Session> session;
  std::string pre;          // the pre-session cookie's value
  bool new_pre = false;     // it was made now and must be sent
  std::vector<std::string> set_cookies;
  const char* T(const char* nl, const char* en_text) const { return en ? en_text : nl; }
  std::string Pick(const v1::LocalizedText& t) const { return en && !t.en().empty() ? t.en() : t.nl(); }
};

// "<li><a href=...>label</a></li>", marked as the current page when it is.
std::string MenuItem(const std::string& current_path, const std::string& href, const std::string& label);
std::string CategoryTitle(v1::Category c, bool en);
std::string SourceTitle(const std::string& source_system, bool en);
std::string LegalBasisWord(v1::LegalBasis b, bool en);
// "12 november 2026, 14:03" in Amsterdam time.
std::string DateTime(absl::Time t, bool en);
std::string Capitalised(const std::string& s);
// The catalog's title of a field, or its name.
std::string FieldTitle(const v1::Catalog& catalog, const std::string& field, bool en);
const char* PortalCss();

}  // namespace cdp::portal

#endif  // CDP_SERVICES_PORTAL_PAGE_PARTS_H_
