#include "services/common/tls.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "openssl/bio.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "services/common/file_util.h"

namespace cdp::rpc {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, " is not set"));
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat(flag, " ", text.status().message()));
  return text;
}

struct BioDeleter { void operator()(BIO* b) const { BIO_free(b); } };
struct X509Deleter { void operator()(X509* x) const { X509_free(x); } };
struct KeyDeleter { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };

std::unique_ptr<BIO, BioDeleter> MemBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioDeleter>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

}  // namespace

absl::StatusOr<TlsMaterial> LoadTls(const TlsPaths& paths) {
  TlsMaterial m;
  auto cert = ReadFile("--tls_cert", paths.cert);
  if (!cert.ok()) return cert.status();
  auto key = ReadFile("--tls_key", paths.key);
  if (!key.ok()) return key.status();
  auto ca = ReadFile("--tls_ca", paths.ca);
  if (!ca.ok()) return ca.status();
  m.cert_pem = *std::move(cert);
  m.key_pem = *std::move(key);
  m.ca_pem = *std::move(ca);

  std::unique_ptr<X509, X509Deleter> x509(
      PEM_read_bio_X509(MemBio(m.cert_pem).get(), nullptr, nullptr, nullptr));
  if (!x509) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_cert ", paths.cert, ": not a PEM certificate"));
  }
  std::unique_ptr<X509, X509Deleter> ca_x509(
      PEM_read_bio_X509(MemBio(m.ca_pem).get(), nullptr, nullptr, nullptr));
  if (!ca_x509) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_ca ", paths.ca, ": not a PEM certificate"));
  }
  std::unique_ptr<EVP_PKEY, KeyDeleter> pkey(
      PEM_read_bio_PrivateKey(MemBio(m.key_pem).get(), nullptr, nullptr, nullptr));
  if (!pkey) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_key ", paths.key, ": not an unencrypted PEM private key"));
  }
  if (X509_check_private_key(x509.get(), pkey.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key ", paths.key, ": does not match the certificate in ", paths.cert));
  }
  return m;
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsMaterial& tls) {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls.ca_pem;
  options.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, const TlsMaterial& tls) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.ca_pem;
  options.pem_private_key = tls.key_pem;
  options.pem_cert_chain = tls.cert_pem;
  grpc::ChannelArguments args;
  // Peers are platform services that restart in seconds: retry connecting soon and often,
  // and give up on a connection attempt that hangs after 5 s rather than gRPC's default
  // 20 s (readers behind a consent replica are refused while it cannot connect). Not much
  // shorter: the limit covers the TLS handshake, which takes a while on a busy machine.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(options), args);
}

}  // namespace cdp::rpc
