#include "tls.hpp"

#include <stdexcept>

namespace spindle::dist {
namespace {

void check(const error_code& ec, const std::string& what) {
  if (ec) throw std::runtime_error("TLS: " + what + ": " + ec.message());
}

}  // namespace

std::unique_ptr<ssl::context> make_tls_context(const TlsOptions& options) {
  if (options.certfile.empty()) throw std::runtime_error("TLS: no certificate file (certfile) given");
  if (options.verify && options.cacertfile.empty())
    throw std::runtime_error("TLS: verification is on but no CA file (cacertfile) says whom to trust");
  auto context = std::make_unique<ssl::context>(ssl::context::tls);
  error_code ec;
  // OTP's inet_tls_dist speaks TLS 1.2 unless told otherwise; nothing older is allowed.
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       ec);
  check(ec, "setting the protocol versions");
  context->use_certificate_chain_file(options.certfile, ec);
  check(ec, "cannot use the certificate file " + options.certfile);
  const std::string& keyfile = options.keyfile.empty() ? options.certfile : options.keyfile;
  context->use_private_key_file(keyfile, ssl::context::pem, ec);
  check(ec, "cannot use the private key in " + keyfile);  // also when it is not the certificate's
  if (!options.cacertfile.empty()) {
    context->load_verify_file(options.cacertfile, ec);
    check(ec, "cannot use the CA file " + options.cacertfile);
  }
  context->set_verify_mode(options.verify ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert : ssl::verify_none, ec);
  check(ec, "setting the verification mode");
  return context;
}

}  // namespace spindle::dist
