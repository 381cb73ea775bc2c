#include "tools/cdpctl/import_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/proto_time.h"
#include "tools/datagen/generator.h"

ABSL_FLAG(std::string, source, "", "import: the source system the file comes from (crm, webshop, ...); rights watch-erasures: only this source's records");
ABSL_FLAG(bool, dry_run, false, "import: check and resolve everything, store nothing");
ABSL_FLAG(bool, strict, false,
          "import: stop at the first bad line instead of skipping it (a line the service "
          "rejects stops the import after its batch)");
ABSL_FLAG(int, batch, 500, "import: records per batch (at most 1000)");
ABSL_FLAG(std::string, acks_out, "",
          "import: write one CSV line per record (line,record_id,outcome,profile_id,reason) here");
ABSL_FLAG(int64_t, people, 1000, "generate: how many people");
ABSL_FLAG(uint64_t, seed, 1, "generate: random seed (the same seed gives the same data)");
ABSL_FLAG(std::string, out, "", "generate: directory to write crm.csv, webshop.jsonl, billing.csv, "
                                "contact-centre.jsonl and truth.csv into");

namespace cdp::cdpctl {

const char kImportUsage[] =
    "  import FILE --source=NAME    send a CSV (header: record_id, changed_at, attribute names)\n"
    "                               or JSON-lines file (one object per record) to the ingest\n"
    "                               service; a progress bar on a terminal, then a summary\n"
    "                               (--dry_run, --strict, --batch, --acks_out; --target of the\n"
    "                               ingest service, 127.0.0.1:7102 locally)\n"
    "  generate --people=N --out=DIR   realistic Dutch demo data over four source systems,\n"
    "                               with the truth (which records are one person)\n";

namespace {

// Batches unanswered at most: one being stored, one resolved, one prepared, one on its way.
constexpr size_t kImportWindow = 4;

struct Line {
  int64_t number = 0;
  v1::SourceRecord record;
};

// Splits a CSV line (RFC 4180 quoting).
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') { out.back().push_back('"'); ++i; }
      else if (c == '"') quoted = false;
      else out.back().push_back(c);
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) { if (c == '"') q += "\"\""; else q.push_back(c); }
  return q + "\"";
}

// "2026-03-01T10:00:00Z" or seconds since the epoch.
bool ParseTime(const std::string& text, absl::Time* t) {
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) { *t = absl::FromUnixSeconds(seconds); return true; }
  std::string err;
  return absl::ParseTime(absl::RFC3339_full, text, t, &err);
}

class Progress {
 public:
  Progress(int64_t total_bytes) : total_(total_bytes), tty_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}
  void Update(int64_t bytes, int64_t records, bool force = false) {
    if (!tty_) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double frac = total_ > 0 ? std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total_)) : 1.0;
    const int filled = static_cast<int>(frac * 30);
    const double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r[%s%s] %3.0f%%  %lld records  %.0f/s ", std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(30 - filled), ' ').c_str(), frac * 100,
                 static_cast<long long>(records), secs > 0 ? static_cast<double>(records) / secs : 0.0);
  }
  void Done() { if (tty_) std::fprintf(stderr, "\n"); }

 private:
  int64_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace

int RunImport(const std::vector<std::string>& args,
              const std::function<std::shared_ptr<grpc::Channel>()>& connect) {
  if (args.size() != 2) {
    std::fprintf(stderr, "cdpctl: import needs exactly one FILE\n");
    return 2;
  }
  const std::string path = args[1];
  const std::string source = absl::GetFlag(FLAGS_source);
  if (source.empty()) {
    std::fprintf(stderr, "cdpctl: import needs --source=NAME (the source system of %s)\n", path.c_str());
    return 2;
  }
  const int batch_size = absl::GetFlag(FLAGS_batch);
  if (batch_size < 1 || batch_size > 1000) {
    std::fprintf(stderr, "cdpctl: --batch must be between 1 and 1000\n");
    return 2;
  }
  std::ifstream in(path, std::ios::binary);
  struct stat st;
  if (!in || stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "cdpctl: %s: cannot read\n", path.c_str());
    return 2;
  }
  // Records without changed_at get the file's modification time, so that importing the
  // same file again is recognised as the same versions.
  const absl::Time file_time = absl::FromUnixSeconds(st.st_mtime);
  const bool jsonl = absl::EndsWith(path, ".jsonl") || absl::EndsWith(path, ".json");
  const bool strict = absl::GetFlag(FLAGS_strict);

  std::ofstream acks_out;
  if (std::string f = absl::GetFlag(FLAGS_acks_out); !f.empty()) {
    acks_out.open(f, std::ios::trunc);
    if (!acks_out) {
      std::fprintf(stderr, "cdpctl: --acks_out %s: cannot write\n", f.c_str());
      return 2;
    }
    acks_out << "line,record_id,outcome,profile_id,reason\n";
  }

  auto stub = v1::IngestService::NewStub(connect());
  grpc::ClientContext ctx;
  auto stream = stub->WriteRecords(&ctx);
  Progress progress(st.st_size);
  int64_t read = 0, bytes = 0, sent = 0, accepted = 0, duplicates = 0, new_profiles = 0, review = 0;
  std::vector<std::string> problems;  // "line 12: reason"
  int64_t rejected = 0;
  std::vector<Line> pending;

  auto note = [&](int64_t line, const std::string& id, const std::string& outcome,
                  const std::string& profile, const std::string& reason) {
    if (acks_out.is_open()) {
      acks_out << line << "," << CsvField(id) << "," << outcome << "," << profile << "," << CsvField(reason) << "\n";
    }
  };
  // Batches go out ahead of their acks (up to `window` unanswered), so that the service
  // always has the next ones at hand: it stores one batch while it resolves the next and
  // prepares the one after. Under --strict one at a time, so that a rejected line stops
  // the import after its own batch.
  const size_t window = strict ? 1 : kImportWindow;
  std::deque<std::vector<Line>> in_flight;
  auto receive = [&]() -> bool {
    v1::WriteRecordsResponse resp;
    if (!stream->Read(&resp)) return false;
    const std::vector<Line> batch = std::move(in_flight.front());
    in_flight.pop_front();
    for (int i = 0; i < resp.acks_size() && i < static_cast<int>(batch.size()); ++i) {
      const v1::RecordAck& a = resp.acks(i);
      const int64_t line = batch[static_cast<size_t>(i)].number;
      switch (a.outcome()) {
        case v1::RecordAck::ACCEPTED:
          ++accepted;
          new_profiles += a.new_profile();
          review += a.review();
          note(line, a.record_id(), "accepted", a.profile_id(), a.reason());
          break;
        case v1::RecordAck::DUPLICATE:
          ++duplicates;
          note(line, a.record_id(), "duplicate", a.profile_id(), "");
          break;
        default:
          ++rejected;
          problems.push_back(absl::StrCat("line ", line, ": ", a.reason()));
          note(line, a.record_id(), "rejected", "", a.reason());
      }
    }
    sent += static_cast<int64_t>(batch.size());
    progress.Update(bytes, sent);
    return true;
  };
  auto flush = [&]() -> bool {
    if (pending.empty()) return true;
    v1::WriteRecordsRequest req;
    req.set_dry_run(absl::GetFlag(FLAGS_dry_run));
    for (const Line& l : pending) *req.add_records() = l.record;
    if (!stream->Write(req)) return false;
    in_flight.push_back(std::move(pending));
    pending.clear();
    return in_flight.size() < window || receive();
  };

  std::vector<std::string> header;
  std::string text;
  int64_t number = 0;
  bool stopped = false;
  while (std::getline(in, text)) {
    ++number;
    bytes += static_cast<int64_t>(text.size()) + 1;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (absl::StripAsciiWhitespace(text).empty()) continue;
    if (!jsonl && header.empty()) {
      header = SplitCsv(text);
      for (auto& h : header) h = std::string(absl::StripAsciiWhitespace(h));
      if (std::find(header.begin(), header.end(), "record_id") == header.end()) {
        std::fprintf(stderr, "cdpctl: %s:1: the header has no record_id column\n", path.c_str());
        return 2;
      }
      continue;
    }
    ++read;
    Line line{number, {}};
    line.record.set_source_system(source);
    std::string error;
    std::string changed_at;
    if (jsonl) {
      google::protobuf::Struct obj;
      if (!google::protobuf::util::JsonStringToMessage(text, &obj).ok()) {
        error = "not a JSON object";
      } else {
        for (const auto& [k, v] : obj.fields()) {
          std::string value;
          if (v.kind_case() == google::protobuf::Value::kStringValue) value = v.string_value();
          else if (v.kind_case() == google::protobuf::Value::kNumberValue) {
            // Whole numbers only, written out in full: 1234567 must not become 1.23457e+06
            // and collide with its neighbours.
            const double d = v.number_value();
            if (d != std::trunc(d) || std::fabs(d) > 9007199254740992.0) {
              error = absl::StrCat(k, ": a number that is not a whole number; quote it");
              break;
            }
            value = absl::StrFormat("%.0f", d);
          }
          else if (v.kind_case() == google::protobuf::Value::kNullValue) continue;
          else { error = absl::StrCat(k, ": must be a string or a number"); break; }
          if (k == "record_id") line.record.set_record_id(value);
          else if (k == "changed_at") changed_at = value;
          else (*line.record.mutable_attributes())[k] = value;
        }
      }
    } else {
      std::vector<std::string> cells = SplitCsv(text);
      if (cells.size() != header.size()) {
        error = absl::StrCat(cells.size(), " fields where the header has ", header.size());
      } else {
        for (size_t i = 0; i < cells.size(); ++i) {
          if (header[i] == "record_id") line.record.set_record_id(cells[i]);
          else if (header[i] == "changed_at") changed_at = cells[i];
          else if (!cells[i].empty()) (*line.record.mutable_attributes())[header[i]] = cells[i];
        }
      }
    }
    absl::Time t = file_time;
    if (error.empty() && !changed_at.empty() && !ParseTime(changed_at, &t)) {
      error = "changed_at: not a time (RFC 3339 or seconds since the epoch)";
    }
    if (error.empty() && line.record.record_id().empty()) error = "record_id: missing";
    if (!error.empty()) {
      ++rejected;
      problems.push_back(absl::StrCat("line ", number, ": ", error));
      note(number, line.record.record_id(), "rejected", "", error);
      if (strict) { stopped = true; break; }
      continue;
    }
    *line.record.mutable_changed_at() = ToProtoTime(t);
    pending.push_back(std::move(line));
    if (static_cast<int>(pending.size()) >= batch_size && !flush()) break;
    if (strict && rejected > 0) { stopped = true; break; }
  }
  if (!stopped) flush();
  stream->WritesDone();
  while (!in_flight.empty() && receive()) {
  }
  grpc::Status status = stream->Finish();
  progress.Update(bytes, sent, true);
  progress.Done();

  std::printf("%s%s from %s: %lld lines read, %lld accepted (%lld new profiles, %lld joined an "
              "existing one, %lld for review), %lld duplicates, %lld rejected\n",
              absl::GetFlag(FLAGS_dry_run) ? "DRY RUN, nothing stored: " : "", path.c_str(),
              source.c_str(), static_cast<long long>(read), static_cast<long long>(accepted),
              static_cast<long long>(new_profiles), static_cast<long long>(accepted - new_profiles),
              static_cast<long long>(review), static_cast<long long>(duplicates),
              static_cast<long long>(rejected));
  for (size_t i = 0; i < problems.size() && i < 20; ++i) std::printf("  %s\n", problems[i].c_str());
  if (problems.size() > 20) std::printf("  ... and %zu more (see --acks_out)\n", problems.size() - 20);
  if (!status.ok()) {
    std::fprintf(stderr, "cdpctl: the ingest service stopped the import: %s\n", status.error_message().c_str());
    return 1;
  }
  if (stopped) {
    std::fprintf(stderr, "cdpctl: stopped at the first bad line (--strict)\n");
    return 1;
  }
  return 0;
}

int RunGenerate(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fprintf(stderr, "cdpctl: generate takes no arguments, only flags\n");
    return 2;
  }
  const std::string dir = absl::GetFlag(FLAGS_out);
  const int64_t people = absl::GetFlag(FLAGS_people);
  if (dir.empty() || people < 1) {
    std::fprintf(stderr, "cdpctl: generate needs --out=DIR and --people=N (at least 1)\n");
    return 2;
  }
  mkdir(dir.c_str(), 0755);
  std::map<std::string, std::ofstream> files;
  std::map<std::string, std::vector<std::string>> columns;
  const std::vector<std::string> csv_columns = {
      "record_id", "changed_at", "customer_number", "given_name", "family_name_prefix", "family_name",
      "full_name", "date_of_birth", "email", "phone_mobile", "phone_home", "street", "house_number",
      "postcode", "city"};
  std::ofstream truth(dir + "/truth.csv", std::ios::trunc);
  truth << "source_system,record_id,person_id,household_id\n";
  for (const std::string& s : datagen::SourceSystems()) {
    const bool csv = s == "crm" || s == "billing";
    files[s].open(dir + "/" + s + (csv ? ".csv" : ".jsonl"), std::ios::trunc);
    if (!files[s]) {
      std::fprintf(stderr, "cdpctl: %s: cannot write\n", dir.c_str());
      return 2;
    }
    if (csv) files[s] << absl::StrJoin(csv_columns, ",") << "\n";
  }
  int64_t records = 0;
  datagen::Generate({.people = people, .seed = absl::GetFlag(FLAGS_seed)},
                    [&](const datagen::GeneratedRecord& r) {
    ++records;
    truth << r.source << "," << r.record_id << "," << r.person_id << "," << r.household_id << "\n";
    const std::string when = absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(r.changed_at), absl::UTCTimeZone());
    std::ofstream& f = files[r.source];
    if (r.source == "crm" || r.source == "billing") {
      std::map<std::string, std::string> a(r.attributes.begin(), r.attributes.end());
      a["record_id"] = r.record_id;
      a["changed_at"] = when;
      std::vector<std::string> cells;
      for (const auto& c : csv_columns) cells.push_back(CsvField(a.count(c) ? a[c] : ""));
      f << absl::StrJoin(cells, ",") << "\n";
    } else {
      google::protobuf::Struct obj;
      (*obj.mutable_fields())["record_id"].set_string_value(r.record_id);
      (*obj.mutable_fields())["changed_at"].set_string_value(when);
      for (const auto& [k, v] : r.attributes) (*obj.mutable_fields())[k].set_string_value(v);
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(obj, &json);
      f << json << "\n";
    }
  });
  std::printf("%lld people, %lld records in %s: crm.csv webshop.jsonl billing.csv contact-centre.jsonl truth.csv\n",
              static_cast<long long>(people), static_cast<long long>(records), dir.c_str());
  return 0;
}

}  // namespace cdp::cdpctl
