#pragma once
// Certificates for the TLS distribution tests, made with the openssl tool in a fresh
// directory: an authority, and node certificates it signs for 127.0.0.1 (which OTP and
// Spindle check against the host part of the node name); and
// the same from a second authority nobody trusts. Also the ssl_dist_optfile that gives
// an `erl -proto_dist inet_tls` node one of them.

#include <filesystem>
#include <string>

#include "child_process.hpp"
#include "spindle/dist/distribution.hpp"

namespace spindle::test {

class TlsCertificates {
 public:
  struct Identity {
    std::filesystem::path certfile, keyfile, cacertfile;
  };

  /// Makes everything (throws with openssl's output if it cannot).
  TlsCertificates();

  /// Signed by the authority the tests trust, for 127.0.0.1.
  const Identity& trusted() const noexcept { return trusted_; }
  /// Signed by another authority (and trusting only that one), for 127.0.0.1.
  const Identity& untrusted() const noexcept { return untrusted_; }

  /// TlsOptions for a Spindle node with `who`'s certificate.
  static dist::TlsOptions options(const Identity& who);
  /// A file for `erl -ssl_dist_optfile`: `who`'s certificate, verification on both ways.
  std::filesystem::path erlang_optfile(const Identity& who, const std::string& name) const;

 private:
  Identity make_identity(const std::string& authority);

  TempDir dir_;
  Identity trusted_;
  Identity untrusted_;
};

}  // namespace spindle::test
