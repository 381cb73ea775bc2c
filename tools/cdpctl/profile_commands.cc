#include "tools/cdpctl/profile_commands.h"

#include <cstdio>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "services/common/proto_time.h"
#include "tools/cdpctl/call.h"

ABSL_DECLARE_FLAG(std::string, acting_party);
ABSL_FLAG(std::string, reason, "", "profile merge/unmerge: why (required; kept with the merge)");

namespace cdp::cdpctl {

const char kProfileUsage[] =
    "  profile show ID              the golden record, each value with its source and rule\n"
    "  profile review               pairs the resolver left for a person to decide\n"
    "  profile merge ID ID... --reason=TEXT   merge into the first (reversible)\n"
    "  profile unmerge MERGE_ID --reason=TEXT undo a merge\n"
    "                               (--target of the ingest service, 127.0.0.1:7102 locally)\n";

namespace {

std::string Time(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M", FromProtoTime(t), absl::UTCTimeZone());
}

bool Party(v1::ActingParty* party) { return ParseActingParty(absl::GetFlag(FLAGS_acting_party), party); }

}  // namespace

int RunProfileCommand(const std::vector<std::string>& args,
                      const std::shared_ptr<grpc::Channel>& channel) {
  if (args.size() < 2) {
    std::fprintf(stderr, "cdpctl: profile needs a subcommand (show, review, merge, unmerge)\n");
    return 2;
  }
  auto stub = v1::IngestService::NewStub(channel);
  const std::string& sub = args[1];
  if (sub == "show" && args.size() == 3) {
    v1::GetUnifiedProfileRequest r;
    r.set_profile_id(args[2]);
    v1::UnifiedProfile p;
    grpc::Status s = stub->GetUnifiedProfile(CallContext().get(), r, &p);
    if (!s.ok()) return Refused(s);
    std::printf("profile %s: %d source records", p.profile_id().c_str(), p.source_records());
    if (p.merged_profile_ids_size() > 0) {
      std::printf(", merged from");
      for (const auto& m : p.merged_profile_ids()) std::printf(" %s", m.c_str());
    }
    std::printf("\n");
    for (const auto& f : p.fields()) {
      std::printf("  %-22s %-40s %s/%s (%s, %s)\n", f.field().c_str(), f.value().c_str(),
                  f.lineage().source_system().c_str(), f.lineage().record_id().c_str(),
                  f.lineage().rule().c_str(), Time(f.lineage().changed_at()).c_str());
    }
    return 0;
  }
  if (sub == "review" && args.size() == 2) {
    v1::ListMatchCandidatesRequest r;
    r.mutable_page()->set_page_size(100);
    int shown = 0;
    while (true) {
      v1::ListMatchCandidatesResponse page;
      grpc::Status s = stub->ListMatchCandidates(CallContext().get(), r, &page);
      if (!s.ok()) return Refused(s);
      for (const auto& c : page.candidates()) {
        std::printf("%s  %s  %5.1f bits  %s\n", c.left_profile_id().c_str(),
                    c.right_profile_id().c_str(), c.score(), c.reason().c_str());
        ++shown;
      }
      if (page.next_page_token().empty()) break;
      r.mutable_page()->set_page_token(page.next_page_token());
    }
    std::printf("%d pairs to review; decide with: cdpctl profile merge LEFT RIGHT --reason=...\n", shown);
    return 0;
  }
  if (sub == "merge" && args.size() >= 4) {
    v1::MergeProfilesRequest r;
    for (size_t i = 2; i < args.size(); ++i) r.add_profile_ids(args[i]);
    r.set_reason(absl::GetFlag(FLAGS_reason));
    if (!Party(r.mutable_acting_party())) {
      std::fprintf(stderr, "cdpctl: --acting_party: KIND[:ID]\n");
      return 2;
    }
    v1::MergeProfilesResponse done;
    grpc::Status s = stub->MergeProfiles(CallContext().get(), r, &done);
    if (!s.ok()) return Refused(s);
    std::printf("merged into %s (merge %s; undo with: cdpctl profile unmerge %s --reason=...)\n",
                done.profile_id().c_str(), done.merge_id().c_str(), done.merge_id().c_str());
    return 0;
  }
  if (sub == "unmerge" && args.size() == 3) {
    v1::UnmergeProfileRequest r;
    r.set_merge_id(args[2]);
    r.set_reason(absl::GetFlag(FLAGS_reason));
    if (!Party(r.mutable_acting_party())) {
      std::fprintf(stderr, "cdpctl: --acting_party: KIND[:ID]\n");
      return 2;
    }
    v1::UnmergeProfileResponse done;
    grpc::Status s = stub->UnmergeProfile(CallContext().get(), r, &done);
    if (!s.ok()) return Refused(s);
    std::printf("separated again:");
    for (const auto& p : done.profile_ids()) std::printf(" %s", p.c_str());
    std::printf("\n");
    return 0;
  }
  std::fprintf(stderr, "cdpctl: profile %s: see --help for its arguments\n", sub.c_str());
  return 2;
}

}  // namespace cdp::cdpctl
