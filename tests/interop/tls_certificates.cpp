#include "tls_certificates.hpp"

#include <fstream>
#include <stdexcept>
#include <vector>

namespace spindle::test {
namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string output;
  if (run_command(argv, std::chrono::seconds(60), &output) != 0)
    throw std::runtime_error("openssl " + args.at(0) + " failed:\n" + output);
}

// P-256 keys: quick to make, and OTP 25's TLS 1.2 takes ECDSA certificates.
const std::vector<std::string> kNewKey = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};

}  // namespace

TlsCertificates::TlsCertificates() : trusted_(make_identity("trusted")), untrusted_(make_identity("untrusted")) {}

TlsCertificates::Identity TlsCertificates::make_identity(const std::string& authority) {
  const auto path = [&](const std::string& file) { return (dir_ / (authority + "-" + file)).string(); };
  std::vector<std::string> ca = {"req", "-x509", "-days", "2", "-subj", "/CN=spindle test " + authority + " CA",
                                 "-keyout", path("ca.key"), "-out", path("ca.pem")};
  ca.insert(ca.begin() + 1, kNewKey.begin(), kNewKey.end());
  openssl(ca);
  std::vector<std::string> request = {"req", "-subj", "/CN=127.0.0.1", "-keyout", path("node.key"), "-out",
                                      path("node.csr")};
  request.insert(request.begin() + 1, kNewKey.begin(), kNewKey.end());
  openssl(request);
  // OTP 25 checks the host part of the node name as a DNS name even when it is an
  // address (dns_id "127.0.0.1"); Spindle checks an address as an iPAddress. Both here.
  std::ofstream(path("node.ext")) << "subjectAltName = IP:127.0.0.1, DNS:127.0.0.1, DNS:localhost\n"
                                     "basicConstraints = CA:FALSE\n"
                                     "keyUsage = digitalSignature, keyEncipherment\n"
                                     "extendedKeyUsage = serverAuth, clientAuth\n";
  openssl({"x509", "-req", "-days", "2", "-in", path("node.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
           "-CAcreateserial", "-extfile", path("node.ext"), "-out", path("node.pem")});
  return {path("node.pem"), path("node.key"), path("ca.pem")};
}

dist::TlsOptions TlsCertificates::options(const Identity& who) {
  return {.certfile = who.certfile.string(), .keyfile = who.keyfile.string(), .cacertfile = who.cacertfile.string()};
}

std::filesystem::path TlsCertificates::erlang_optfile(const Identity& who, const std::string& name) const {
  const auto file = dir_ / (name + ".conf");
  const std::string common = "{certfile, \"" + who.certfile.string() + "\"}, {keyfile, \"" + who.keyfile.string() +
                             "\"}, {cacertfile, \"" + who.cacertfile.string() + "\"}, {verify, verify_peer}";
  std::ofstream(file) << "[{server, [" << common << ", {fail_if_no_peer_cert, true}]},\n"
                      << " {client, [" << common << "]}].\n";
  return file;
}

}  // namespace spindle::test
