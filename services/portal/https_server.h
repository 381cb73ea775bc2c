// A small HTTP/1.1 server over TLS (OpenSSL) for the portal: keep-alive, bounded request
// sizes, per-connection timeouts, a fixed pool of worker threads. Requests are routed by
// method and exact path to handlers.
#ifndef CDP_SERVICES_PORTAL_HTTPS_SERVER_H_
#define CDP_SERVICES_PORTAL_HTTPS_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/tls.h"

namespace cdp::portal {

struct HttpRequest {
  std::string method;                          // "GET"
  std::string path;                            // "/healthz", without the query
  std::string query;                           // "a=1&b=2", without '?'
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string peer;                            // "127.0.0.1"
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpsServerOptions {
  std::string listen;                 // "127.0.0.1:8443"
  rpc::TlsMaterial tls;               // server certificate; clients are not asked for one
  // Connections served at once. A browser keeps up to six open per site, each holding a
  // thread until it has been idle for idle_timeout_seconds.
  int threads = 64;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  int idle_timeout_seconds = 5;       // a connection silent this long is closed
};

// Thread-safe once started. Handlers run on worker threads and must be thread-safe.
class HttpsServer {
 public:
  explicit HttpsServer(HttpsServerOptions options);
  ~HttpsServer();  // stops if still running

  // Registers a handler; only before Start().
  void Handle(const std::string& method, const std::string& path, HttpHandler handler);
  // Registers a handler for every path under `prefix` (which ends in '/') that has no
  // exact route; the longest matching prefix wins. Only before Start().
  void HandlePrefix(const std::string& method, const std::string& prefix, HttpHandler handler);

  // Binds and starts serving. InvalidArgument if the address cannot be bound or the TLS
  // material is unusable. Returns the bound port (useful with port 0).
  absl::StatusOr<int> Start();

  // Stops accepting, lets in-flight requests finish, and joins every thread.
  void Stop();

  // The response of the registered handler for `request` (404 or 405 when none fits; 500
  // if it throws). What each connection calls; tests call it without a network.
  HttpResponse Dispatch(const HttpRequest& request) const;

 private:
  void AcceptLoop();
  void WorkerLoop();
  void Serve(int fd);

  HttpsServerOptions options_;
  std::map<std::pair<std::string, std::string>, HttpHandler> routes_;
  std::map<std::pair<std::string, std::string>, HttpHandler> prefix_routes_;
  struct SslCtxDeleter { void operator()(void* ctx) const; };
  std::unique_ptr<void, SslCtxDeleter> ssl_ctx_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> pending_;  // accepted sockets waiting for a worker
};

// Standard reason phrase ("Not Found") for a status code.
const char* ReasonPhrase(int status);

}  // namespace cdp::portal

#endif  // CDP_SERVICES_PORTAL_HTTPS_SERVER_H_
