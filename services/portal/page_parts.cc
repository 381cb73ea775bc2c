#include "services/portal/page_parts.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace cdp::portal {

std::string MenuItem(const std::string& current_path, const std::string& href, const std::string& label) {
  const bool here = current_path == href;
  return absl::StrCat("<li><a href=\"", href, "\"", here ? " aria-current=\"page\"" : "", ">", HtmlEscape(label),
                      "</a></li>");
}

std::string CategoryTitle(v1::Category c, bool en) {
  switch (c) {
    case v1::IDENTITY: return en ? "Who you are" : "Wie u bent";
    case v1::CONTACT: return en ? "How to reach you" : "Hoe wij u bereiken";
    case v1::ADDRESS: return en ? "Addresses" : "Adressen";
    case v1::TRANSACTIONS: return en ? "Orders and payments" : "Bestellingen en betalingen";
    case v1::INTERACTIONS: return en ? "Your contacts with us" : "Uw contact met ons";
    case v1::LOCATION: return en ? "Location" : "Locatie";
    case v1::SOCIAL: return en ? "Social media" : "Sociale media";
    case v1::PREFERENCES: return en ? "Your preferences" : "Uw voorkeuren";
    default: return en ? "Other" : "Overig";
  }
}

std::string SourceTitle(const std::string& source_system, bool en) {
  if (source_system == "crm") return en ? "customer records (CRM)" : "klantenbestand (CRM)";
  if (source_system == "webshop") return en ? "web shop" : "webwinkel";
  if (source_system == "billing") return en ? "billing" : "facturatie";
  if (source_system == "contact-centre" || source_system == "contact_centre") {
    return en ? "customer service" : "klantenservice";
  }
  if (source_system == "field-service") return en ? "field service" : "buitendienst";
  return source_system;
}

std::string LegalBasisWord(v1::LegalBasis b, bool en) {
  switch (b) {
    case v1::CONSENT: return en ? "your consent" : "uw toestemming";
    case v1::LEGITIMATE_INTEREST: return en ? "legitimate interest" : "gerechtvaardigd belang";
    case v1::CONTRACT: return en ? "our agreement with you" : "de overeenkomst met u";
    case v1::LEGAL_OBLIGATION: return en ? "a legal obligation" : "een wettelijke plicht";
    default: return "";
  }
}

std::string DateTime(absl::Time t, bool en) {
  static const char* kNl[] = {"januari", "februari", "maart",     "april",   "mei",      "juni",
                              "juli",    "augustus", "september", "oktober", "november", "december"};
  static const char* kEn[] = {"January", "February", "March",     "April",   "May",      "June",
                              "July",    "August",   "September", "October", "November", "December"};
  absl::TimeZone zone;
  if (!absl::LoadTimeZone("Europe/Amsterdam", &zone)) zone = absl::UTCTimeZone();
  const absl::CivilSecond c = absl::ToCivilSecond(t, zone);
  return absl::StrCat(c.day(), " ", (en ? kEn : kNl)[c.month() - 1], " ", c.year(), ", ",
                      absl::FormatTime("%H:%M", t, zone));
}

std::string Capitalised(const std::string& s) {
  std::string out = s;
  if (!out.empty()) out[0] = absl::ascii_toupper(static_cast<unsigned char>(out[0]));
  return out;
}

std::string FieldTitle(const v1::Catalog& catalog, const std::string& field, bool en) {
  for (const v1::FieldDef& f : catalog.fields()) {
    if (f.name() == field) return en && !f.title().en().empty() ? f.title().en() : f.title().nl();
  }
  return field;
}

}  // namespace cdp::portal
