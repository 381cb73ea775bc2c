#include "services/portal/https_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "openssl/err.h"
#include "openssl/pem.h"
#include "openssl/ssl.h"
#include "services/common/log.h"

namespace cdp::portal {
namespace {

SSL_CTX* Ctx(void* p) { return static_cast<SSL_CTX*>(p); }

absl::Status LoadCertificate(SSL_CTX* ctx, const rpc::TlsMaterial& tls) {
  BIO* cert_bio = BIO_new_mem_buf(tls.cert_pem.data(), static_cast<int>(tls.cert_pem.size()));
  X509* leaf = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  bool ok = leaf != nullptr && SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  // The rest of the file, if any, is the chain.
  while (ok) {
    X509* extra = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    if (extra == nullptr) break;
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      ok = false;
    }
  }
  BIO_free(cert_bio);
  ERR_clear_error();
  if (!ok) return absl::InvalidArgumentError("--tls_cert: unusable certificate");
  BIO* key_bio = BIO_new_mem_buf(tls.key_pem.data(), static_cast<int>(tls.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  ok = key != nullptr && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx);
  EVP_PKEY_free(key);
  BIO_free(key_bio);
  if (!ok) return absl::InvalidArgumentError("--tls_key: unusable private key");
  return absl::OkStatus();
}

// Appends one read from `ssl` to `buffer`, never growing it past `limit`. False when the
// peer closed, the read timed out or failed, the buffer is already at `limit`, or the
// request's `deadline` passed (a client trickling bytes keeps no thread for long).
bool ReadMore(SSL* ssl, std::string& buffer, size_t limit, std::chrono::steady_clock::time_point deadline) {
  char chunk[8192];
  if (buffer.size() >= limit || std::chrono::steady_clock::now() > deadline) return false;
  int n = SSL_read(ssl, chunk, static_cast<int>(std::min(sizeof chunk, limit - buffer.size())));
  if (n <= 0) return false;
  buffer.append(chunk, static_cast<size_t>(n));
  return true;
}

bool WriteAll(SSL* ssl, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    int n = SSL_write(ssl, data.data() + off, static_cast<int>(data.size() - off));
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// A header value with any line break removed: no handler can split a response.
std::string HeaderValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
  return out;
}

std::string Render(const HttpResponse& r, bool keep_alive) {
  std::string out = absl::StrCat("HTTP/1.1 ", r.status, " ", ReasonPhrase(r.status), "\r\n");
  absl::StrAppend(&out, "Content-Type: ", HeaderValue(r.content_type), "\r\n");
  absl::StrAppend(&out, "Content-Length: ", r.body.size(), "\r\n");
  absl::StrAppend(&out, "Connection: ", keep_alive ? "keep-alive" : "close", "\r\n");
  for (const auto& [name, value] : r.headers) absl::StrAppend(&out, HeaderValue(name), ": ", HeaderValue(value), "\r\n");
  out += "\r\n";
  out += r.body;
  return out;
}

HttpResponse PlainError(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

void HttpsServer::SslCtxDeleter::operator()(void* ctx) const { SSL_CTX_free(Ctx(ctx)); }

HttpsServer::HttpsServer(HttpsServerOptions options) : options_(std::move(options)) {}

HttpsServer::~HttpsServer() { Stop(); }

void HttpsServer::Handle(const std::string& method, const std::string& path, HttpHandler handler) {
  routes_[{method, path}] = std::move(handler);
}

void HttpsServer::HandlePrefix(const std::string& method, const std::string& prefix, HttpHandler handler) {
  prefix_routes_[{method, prefix}] = std::move(handler);
}

absl::StatusOr<int> HttpsServer::Start() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError("TLS: cannot make a context");
  ssl_ctx_.reset(ctx);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // TLS 1.2 only with forward secrecy and AEAD; TLS 1.3's suites are all of that.
  SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (absl::Status s = LoadCertificate(ctx, options_.tls); !s.ok()) return s;

  std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
  std::string port = options_.listen.substr(options_.listen.rfind(':') + 1);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("--listen ", options_.listen, ": ", why));
  };
  if (options_.listen.find(':') == std::string::npos ||
      getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res) != 0) {
    return bad("not a host:port address");
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
    std::string why = std::strerror(errno);
    freeaddrinfo(res);
    if (fd >= 0) close(fd);
    return bad(absl::StrCat("cannot listen: ", why));
  }
  freeaddrinfo(res);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  int bound_port = bound.ss_family == AF_INET6
                       ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                       : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listen_fd_ = fd;
  for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return bound_port;
}

void HttpsServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  for (int fd : pending_) close(fd);
  pending_.clear();
}

namespace {
constexpr size_t kMaxPending = 1024;
// How long a client may take to complete the TLS handshake, and to send one request.
constexpr std::chrono::seconds kRequestDeadline(10);

// A header name as RFC 9110 allows it (a token).
bool IsToken(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!(absl::ascii_isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr)) return false;
  }
  return true;
}
}  // namespace

void HttpsServer::AcceptLoop() {
  while (!stopping_) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EINVAL) return;  // listening socket shut down
      // Out of file descriptors: give the workers a moment instead of spinning.
      if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    timeval tv{options_.idle_timeout_seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.size() >= kMaxPending) {
      close(fd);  // overloaded: refuse rather than queue without bound
      continue;
    }
    pending_.push_back(fd);
    cv_.notify_one();
  }
}

void HttpsServer::WorkerLoop() {
  for (;;) {
    int fd;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping
      fd = pending_.front();
      pending_.pop_front();
    }
    Serve(fd);
    close(fd);
  }
}

void HttpsServer::Serve(int fd) {
  std::string peer = "unknown";
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    char buf[INET6_ADDRSTRLEN] = {0};
    const void* src = addr.ss_family == AF_INET6
                          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr)
                          : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&addr)->sin_addr);
    if (inet_ntop(addr.ss_family, src, buf, sizeof buf) != nullptr) peer = buf;
  }
  SSL* ssl = SSL_new(Ctx(ssl_ctx_.get()));
  if (ssl == nullptr) return;
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {
    ERR_clear_error();
    SSL_free(ssl);
    return;
  }
  std::string buffer;
  for (int served = 0; served < 1000 && !stopping_; ++served) {
    const auto deadline = std::chrono::steady_clock::now() + kRequestDeadline;
    size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (buffer.size() >= options_.max_header_bytes) {
        WriteAll(ssl, Render(PlainError(431, "request headers too large\n"), false));
        goto done;
      }
      if (!ReadMore(ssl, buffer, options_.max_header_bytes, deadline)) goto done;
    }
    HttpRequest req;
    req.peer = peer;
    std::vector<std::string> lines = absl::StrSplit(buffer.substr(0, header_end), "\r\n");
    std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
    if (first.size() != 3 || !absl::StartsWith(first[2], "HTTP/1.")) {
      WriteAll(ssl, Render(PlainError(400, "malformed request line\n"), false));
      goto done;
    }
    req.method = first[0];
    std::string target = first[1];
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      std::string name = colon == std::string::npos ? "" : absl::AsciiStrToLower(lines[i].substr(0, colon));
      // No folded lines, no names with spaces, no second Content-Length: whatever two
      // parsers could read differently is refused.
      if (!IsToken(name) || (name == "content-length" && req.headers.count(name))) {
        WriteAll(ssl, Render(PlainError(400, "malformed header\n"), false));
        goto done;
      }
      std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
      if (req.headers.count(name)) {
        req.headers[name] += (name == "cookie" ? "; " : ", ") + value;
      } else {
        req.headers[name] = std::move(value);
      }
    }
    buffer.erase(0, header_end + 4);
    if (req.headers.count("transfer-encoding")) {
      WriteAll(ssl, Render(PlainError(411, "send a Content-Length\n"), false));
      goto done;
    }
    size_t content_length = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
      if (it->second.empty() || it->second.size() > 12 ||
          it->second.find_first_not_of("0123456789") != std::string::npos ||
          !absl::SimpleAtoi(it->second, &content_length)) {
        WriteAll(ssl, Render(PlainError(400, "bad Content-Length\n"), false));
        goto done;
      }
      if (content_length > options_.max_body_bytes) {
        WriteAll(ssl, Render(PlainError(413, "request body too large\n"), false));
        goto done;
      }
    }
    while (buffer.size() < content_length) {
      if (!ReadMore(ssl, buffer, content_length + options_.max_header_bytes, deadline)) goto done;
    }
    req.body = buffer.substr(0, content_length);
    buffer.erase(0, content_length);

    bool keep_alive = first[2] == "HTTP/1.1" && absl::AsciiStrToLower(req.headers["connection"]) != "close";
    HttpResponse resp = Dispatch(req);
    if (!WriteAll(ssl, Render(resp, keep_alive)) || !keep_alive) break;
  }
done:
  SSL_shutdown(ssl);
  SSL_free(ssl);
  ERR_clear_error();
}

HttpResponse HttpsServer::Dispatch(const HttpRequest& request) const {
  const HttpHandler* handler = nullptr;
  if (auto it = routes_.find({request.method, request.path}); it != routes_.end()) {
    handler = &it->second;
  } else {
    size_t longest = 0;
    for (const auto& [key, h] : prefix_routes_) {
      if (key.first == request.method && key.second.size() > longest && absl::StartsWith(request.path, key.second)) {
        handler = &h;
        longest = key.second.size();
      }
    }
  }
  if (handler == nullptr) {
    bool path_known = false;
    for (const auto& [key, h] : routes_) path_known |= key.second == request.path;
    for (const auto& [key, h] : prefix_routes_) path_known |= absl::StartsWith(request.path, key.second);
    return PlainError(path_known ? 405 : 404, path_known ? "method not allowed\n" : "not found\n");
  }
  try {
    return (*handler)(request);
  } catch (const std::exception&) {
    log::Error("handler_failed", {{"path", request.path}});
    return PlainError(500, "internal error\n");
  }
}

}  // namespace cdp::portal
