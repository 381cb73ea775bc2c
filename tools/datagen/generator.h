// Realistic Dutch customer data spread over four source systems, with ground truth, for
// tests, demos and benchmarks of identity resolution. Deterministic for a seed.
//
// People live in households: couples, families with adult children, sometimes twins; a
// household shares its address and landline, and some share one e-mail address. Each
// source system knows part of the people and writes them its own way:
//   crm             given names, particle and family name apart, DD-MM-YYYY, 06-12345678,
//                   "1234 AB", customer number "K0012345"
//   webshop         one full name, YYYY-MM-DD, +31 6 1234 5678, "1234AB"; some people
//                   have a second account under another e-mail address
//   billing         initials only ("J.P. van der Berg"), the customer number mostly, the
//                   old address for people who moved
//   contact-centre  "Berg, Jan van der" or "Jan van der Berg", 0031612345678 or the
//                   landline, e-mail sometimes
// with typos in names, the odd date of birth with day and month swapped, and given and
// family name swapped now and then.
#ifndef CDP_TOOLS_DATAGEN_GENERATOR_H_
#define CDP_TOOLS_DATAGEN_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace cdp::datagen {

struct GeneratedRecord {
  std::string source;      // "crm", "webshop", "billing", "contact-centre"
  std::string record_id;   // unique within the source
  std::string person_id;   // the truth: same value, same person
  std::string household_id;
  int64_t changed_at = 0;  // seconds since the epoch
  std::vector<std::pair<std::string, std::string>> attributes;  // canonical names
};

struct GeneratorOptions {
  int64_t people = 1000;
  uint64_t seed = 1;
};

// The four source systems, in a fixed order.
const std::vector<std::string>& SourceSystems();

// Calls `emit` for every record, household by household; memory use does not grow with
// the number of people.
void Generate(const GeneratorOptions& options,
              const std::function<void(const GeneratedRecord&)>& emit);

}  // namespace cdp::datagen

#endif  // CDP_TOOLS_DATAGEN_GENERATOR_H_
