#include "tests/testing/platform.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "services/common/client.h"

namespace cdp::testing {

TestPki::TestPki(const std::vector<std::string>& identities)
    : dir_(MakeTempDir()), rogue_dir_(MakeTempDir()) {
  const std::string pki = std::string(CDP_SOURCE_DIR) + "/deploy/local/pki.sh";
  const std::string ids = absl::StrJoin(identities, " ");
  std::string cmd = absl::StrCat(pki, " ", dir_, " ", ids, " >/dev/null && ", pki, " ", rogue_dir_,
                                 " ", ids, " >/dev/null && openssl genpkey -algorithm ed25519 -out ",
                                 receipt_key(), " && openssl genpkey -algorithm ed25519 -out ", log_key(),
                                 " && openssl pkey -in ", log_key(), " -pubout -out ", log_public_key(),
                                 " && (umask 077 && printf 'cdp-master-key-v1:%s\\n' ",
                                 "\"$(openssl rand -base64 32)\" > ", master_key(), ")");
  if (std::system(cmd.c_str()) != 0) std::abort();
}

rpc::TlsMaterial TestPki::Load(const std::string& identity, bool rogue) const {
  const std::string file = absl::StrReplaceAll(identity, {{"/", "-"}});
  const std::string& d = rogue ? rogue_dir_ : dir_;
  auto tls = rpc::LoadTls({d + "/" + file + ".crt", d + "/" + file + ".key", dir_ + "/ca.crt"});
  if (!tls.ok()) std::abort();
  return *tls;
}

std::shared_ptr<grpc::Channel> TestPki::Channel(int port, const std::string& identity,
                                                bool rogue) const {
  return rpc::MakeChannel(absl::StrCat("127.0.0.1:", port), Load(identity, rogue));
}

absl::StatusOr<RunningService> StartService(const std::string& name, const TestPki& pki,
                                            const TestDatabase& db,
                                            const std::vector<std::string>& extra, int port) {
  const std::string bin = std::string(CDP_BINARY_DIR) +
                          (name == "portal" ? "/services/portal/cdp-portal"
                                            : "/services/cdp-" + name);
  RunningService r;
  // The portal's HTTPS server binds without SO_REUSEPORT, so its port cannot be held.
  r.port = port != 0 ? port : name == "portal" ? FreePort() : ReserveGrpcPort();
  // A port just freed (a restarted service's own) can come back from FreePort; two
  // listeners on one port would share its connections.
  do {
    r.metrics_port = FreePort();
  } while (r.metrics_port == r.port);
  std::vector<std::string> args = {
      absl::StrCat("--listen=127.0.0.1:", r.port),
      absl::StrCat("--metrics_listen=127.0.0.1:", r.metrics_port),
      absl::StrCat("--tls_cert=", pki.dir(), "/service-", name, ".crt"),
      absl::StrCat("--tls_key=", pki.dir(), "/service-", name, ".key"),
      absl::StrCat("--tls_ca=", pki.dir(), "/ca.crt"),
      absl::StrCat("--db_dsn=", db.DsnAs("cdp_" + name)),
      absl::StrCat("--db_admin_dsn=", db.AdminDsn()),
      "--drain_seconds=2"};
  const std::string catalog = absl::StrCat("--catalog=", CDP_SOURCE_DIR, "/consent/catalog/default.textproto");
  if (name == "consent") {
    args.push_back(catalog);
    args.push_back("--receipt_key=" + pki.receipt_key());
  }
  if (name == "ingest") {
    args.push_back(catalog);
    args.push_back("--master_key=" + pki.master_key());
    args.push_back("--key_db_dsn=" + db.Keys().DsnAs("cdp_ingest"));
    args.push_back("--key_db_admin_dsn=" + db.Keys().AdminDsn());
  }
  if (name == "profile") args.push_back(catalog);  // and the targets, in `extra`
  if (name == "audit") {
    args.push_back(catalog);
    args.push_back("--log_key=" + pki.log_key());
  }
  if (name == "rights") {
    args.push_back(catalog);
    args.push_back("--receipt_key=" + pki.receipt_key());
    args.push_back("--ingest_target=127.0.0.1:1");
    args.push_back("--consent_target=127.0.0.1:1");
    args.push_back("--profile_target=127.0.0.1:1");
    args.push_back("--audit_target=127.0.0.1:1");
  }
  if (name == "portal") {
    // Targets nobody listens on unless `extra` names real ones (a later flag wins).
    args.push_back("--consent_target=127.0.0.1:1");
    args.push_back("--profile_target=127.0.0.1:1");
    args.push_back("--audit_target=127.0.0.1:1");
    args.push_back("--log_public_key=" + pki.log_public_key());
    args.push_back("--outbox_dir=" + MakeTempDir() + "/outbox");
  }
  args.insert(args.end(), extra.begin(), extra.end());
  auto child = ChildProcess::Start(bin, args, MakeTempDir() + "/log");
  if (!child.ok()) return child.status();
  r.process = *std::move(child);
  return r;
}

absl::StatusOr<RunningService> StartServing(const std::string& name, const TestPki& pki, const TestDatabase& db,
                                            const std::vector<std::string>& extra, const std::string& identity) {
  auto r = StartService(name, pki, db, extra);
  if (!r.ok()) return r.status();
  absl::Status serving = rpc::WaitUntilServing(*pki.Channel(r->port, identity), "", absl::Seconds(120));
  if (!serving.ok()) {
    return absl::Status(serving.code(), absl::StrCat(name, ": ", serving.message(), "\n", r->process->Output()));
  }
  return r;
}

}  // namespace cdp::testing
