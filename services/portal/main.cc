// cdp-portal: the customer portal and auditor console over HTTPS.
#include <csignal>
#include <thread>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/synchronization/mutex.h"
#include "cdp/v1/rights.grpc.pb.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/file_util.h"
#include "services/common/log.h"
#include "services/common/service_host.h"
#include "services/common/tls.h"
#include "services/portal/https_server.h"
#include "services/portal/mailer.h"
#include "services/portal/pg_portal_store.h"
#include "services/common/platform_client.h"
#include "services/portal/portal_app.h"
#include "storage/migrations.h"

ABSL_FLAG(std::string, consent_target, "", "host:port of the consent service");
ABSL_FLAG(std::string, profile_target, "", "host:port of the profile service (customers' own data)");
ABSL_FLAG(std::string, audit_target, "", "host:port of the audit service (timelines, auditor console)");
ABSL_FLAG(std::string, rights_target, "", "host:port of the rights service (downloads of a customer's data)");
ABSL_FLAG(std::string, public_url, "",
          "the address customers reach the portal at, for links in e-mail (default https://localhost:<port>)");
ABSL_FLAG(std::string, outbox_dir, "",
          "directory where e-mail is written as .eml files instead of being sent (local runs)");
ABSL_FLAG(std::string, smtp_server, "",
          "host:port of the mail server that sends the portal's e-mail (instead of --outbox_dir)");
ABSL_FLAG(bool, smtp_starttls, true, "require STARTTLS with the mail server (turn off only for a relay on loopback)");
ABSL_FLAG(std::string, smtp_ca, "", "CA certificates that sign the mail server's certificate (default: the system's)");
ABSL_FLAG(std::string, smtp_user, "", "user name for AUTH PLAIN with the mail server (none: no authentication)");
ABSL_FLAG(std::string, smtp_password_file, "", "file holding the password for --smtp_user");
ABSL_FLAG(std::string, mail_from, "Mijn privacy <no-reply@cdp.local>", "From: of the portal's e-mail");
ABSL_FLAG(std::string, log_public_key, "",
          "the access log's public key (PEM); tree heads are checked against it, not against the key the log sends");
ABSL_FLAG(std::string, console_tls_cert, "",
          "certificate of the auditor console (an identity with READ_ACCESS_LOG); without it the console is off");
ABSL_FLAG(std::string, console_tls_key, "", "private key of --console_tls_cert");
ABSL_DECLARE_FLAG(std::string, tls_ca);

int main(int argc, char** argv) {
  // A browser that hangs up mid-response must not end the process: writes then fail instead.
  std::signal(SIGPIPE, SIG_IGN);
  cdp::server::Process process(
      {.name = "portal",
       .usage = "cdp-portal: the customer portal and auditor console over HTTPS\n"
                "Usage: cdp-portal --consent_target=H:P --profile_target=H:P --audit_target=H:P "
                "(--outbox_dir=DIR | --smtp_server=H:P) --log_public_key=FILE [flags]",
       .default_port = 8443,
       .default_metrics_port = 9106,
       .migrations = cdp::storage::migrations::portal(),
       .statements = cdp::portal::PgPortalStore::Statements()},
      argc, argv);

  auto log_key = cdp::ReadWholeFile(cdp::server::RequiredFlag("log_public_key", absl::GetFlag(FLAGS_log_public_key)));
  if (!log_key.ok()) cdp::server::ExitWithConfigError(absl::StrCat("--log_public_key: ", log_key.status().message()));
  cdp::rpc::GrpcPlatformOptions platform_options{
      .consent_target = cdp::server::RequiredFlag("consent_target", absl::GetFlag(FLAGS_consent_target)),
      .profile_target = cdp::server::RequiredFlag("profile_target", absl::GetFlag(FLAGS_profile_target)),
      .audit_target = cdp::server::RequiredFlag("audit_target", absl::GetFlag(FLAGS_audit_target)),
      .rights_target = absl::GetFlag(FLAGS_rights_target),
      .own_tls = process.tls()};
  if (!absl::GetFlag(FLAGS_console_tls_cert).empty()) {
    auto console = cdp::rpc::LoadTls({.cert = absl::GetFlag(FLAGS_console_tls_cert),
                                      .key = cdp::server::RequiredFlag("console_tls_key", absl::GetFlag(FLAGS_console_tls_key)),
                                      .ca = absl::GetFlag(FLAGS_tls_ca)});
    if (!console.ok()) cdp::server::ExitWithConfigError(std::string(console.status().message()));
    platform_options.console_tls = *console;
  }
  auto platform = cdp::rpc::NewGrpcPlatformClient(platform_options);
  std::unique_ptr<cdp::portal::Mailer> mailer;
  if (const std::string smtp = absl::GetFlag(FLAGS_smtp_server); !smtp.empty()) {
    cdp::portal::SmtpOptions o;
    o.host = smtp.substr(0, smtp.rfind(':'));
    if (smtp.find(':') == std::string::npos || !absl::SimpleAtoi(smtp.substr(smtp.rfind(':') + 1), &o.port)) {
      cdp::server::ExitWithConfigError("--smtp_server: host:port, e.g. mail.example.nl:587");
    }
    o.starttls = absl::GetFlag(FLAGS_smtp_starttls);
    if (!o.starttls && o.host != "127.0.0.1" && o.host != "localhost" && o.host != "::1" && o.host != "[::1]") {
      cdp::server::ExitWithConfigError("--smtp_starttls=false: only for a relay on this machine (127.0.0.1)");
    }
    o.ca_file = absl::GetFlag(FLAGS_smtp_ca);
    o.user = absl::GetFlag(FLAGS_smtp_user);
    if (!o.user.empty()) {
      auto password = cdp::ReadWholeFile(cdp::server::RequiredFlag("smtp_password_file", absl::GetFlag(FLAGS_smtp_password_file)));
      if (!password.ok()) cdp::server::ExitWithConfigError(absl::StrCat("--smtp_password_file: ", password.status().message()));
      o.password = std::string(absl::StripTrailingAsciiWhitespace(*password));
    }
    o.from = absl::GetFlag(FLAGS_mail_from);
    mailer = std::make_unique<cdp::portal::SmtpMailer>(std::move(o));
  } else {
    if (absl::GetFlag(FLAGS_outbox_dir).empty()) {
      cdp::server::ExitWithConfigError("give --outbox_dir (local runs) or --smtp_server (production) for e-mail");
    }
    mailer = std::make_unique<cdp::portal::OutboxMailer>(absl::GetFlag(FLAGS_outbox_dir), absl::GetFlag(FLAGS_mail_from));
  }
  // Mail leaves on a thread of its own: a sign-in request answers as fast for an address
  // we know as for one we do not.
  cdp::portal::QueuedMailer queued(*mailer);
  cdp::portal::PgPortalStore store(process.pool());

  cdp::portal::HttpsServer server({.listen = process.listen(), .tls = process.tls()});
  server.Handle("GET", "/healthz", [&process](const cdp::portal::HttpRequest&) {
    cdp::portal::HttpResponse r;
    r.content_type = "application/json";
    bool serving = process.pool().connected();
    r.status = serving ? 200 : 503;
    r.body = serving ? "{\"status\":\"SERVING\"}\n" : "{\"status\":\"NOT_SERVING\"}\n";
    return r;
  });
  std::string public_url = absl::GetFlag(FLAGS_public_url);
  std::unique_ptr<cdp::portal::PortalApp> app;
  // Pages are registered before the server starts; the public URL needs the bound port
  // when none was given, so the app is built with a placeholder resolved below.
  auto port = [&]() -> absl::StatusOr<int> {
    if (public_url.empty()) {
      std::string p = process.listen().substr(process.listen().rfind(':') + 1);
      public_url = absl::StrCat("https://localhost:", p);
    }
    app = std::make_unique<cdp::portal::PortalApp>(
        cdp::portal::PortalOptions{.public_url = public_url, .log_public_key_pem = *log_key}, store, *platform,
        queued, [] { return absl::Now(); });
    app->Register(server);
    return server.Start();
  }();
  if (!port.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], std::string(port.status().message()).c_str());
    return 2;
  }
  cdp::log::Info("listening", {{"https", process.listen()}, {"port", *port}});

  absl::Status ready = process.ConnectDatabase();
  int exit_code = 0;
  std::thread follower;
  grpc::ClientContext* following = nullptr;
  absl::Mutex following_mu;
  if (ready.ok() && !platform_options.rights_target.empty()) {
    // Erasures made anywhere (the portal, the contact centre, cdpctl) end the customer's
    // sessions and sign-in links here too.
    follower = std::thread([&] {
      auto stub = cdp::v1::RightsService::NewStub(cdp::rpc::MakeChannel(platform_options.rights_target, process.tls()));
      absl::Duration backoff = absl::Milliseconds(200);
      while (!process.shutdown().requested()) {
        auto position = store.ErasureFeedPosition();
        if (position.ok()) {
          grpc::ClientContext ctx;
          {
            absl::MutexLock lock(&following_mu);
            following = &ctx;
          }
          cdp::v1::WatchErasuresRequest request;
          request.set_after_seq(*position);
          auto stream = stub->WatchErasures(&ctx, request);
          cdp::v1::ErasureNotice notice;
          while (stream->Read(&notice)) {
            backoff = absl::Milliseconds(200);
            if (notice.seq() == 0) continue;
            auto removed = store.DeleteCustomer(notice.customer_id());
            if (!removed.ok() || !store.SetErasureFeedPosition(notice.seq()).ok()) break;
            cdp::log::Info("erased_customer_signed_out", {{"seq", notice.seq()}, {"rows", *removed}});
          }
          {
            absl::MutexLock lock(&following_mu);
            following = nullptr;
          }
          ctx.TryCancel();
          grpc::Status s = stream->Finish();
          if (!s.ok() && !process.shutdown().requested()) {
            cdp::log::Warning("erasure_feed_lost", {{"code", static_cast<int>(s.error_code())}});
          }
        }
        process.shutdown().notification().WaitForNotificationWithTimeout(backoff);
        backoff = std::min(backoff * 2, absl::Seconds(10));
      }
    });
  }
  if (ready.ok()) {
    cdp::log::Info("serving", {{"service", "portal"}});
    // Used and expired sign-in links and sessions are of no use to anyone: remove them
    // every few minutes until told to stop.
    while (!process.shutdown().notification().WaitForNotificationWithTimeout(absl::Minutes(5))) {
      auto removed = store.DeleteExpired(absl::Now());
      if (removed.ok() && *removed > 0) cdp::log::Info("expired_removed", {{"rows", *removed}});
    }
  } else if (ready.code() != absl::StatusCode::kCancelled) {
    cdp::log::Error("cannot_start", {{"code", absl::StatusCodeToString(ready.code())},
                                     {"reason", ready.message()}});
    exit_code = 1;
  }
  cdp::log::Info("draining", {});
  if (follower.joinable()) {
    {
      absl::MutexLock lock(&following_mu);
      if (following != nullptr) following->TryCancel();
    }
    follower.join();
  }
  server.Stop();
  cdp::log::Info("stopped", {{"exit_code", exit_code}});
  return exit_code;
}
