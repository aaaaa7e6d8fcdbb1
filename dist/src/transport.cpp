#include "transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace spindle::dist {

asio::awaitable<void> Transport::start(bool client, const std::string& host) {
  auto* tls = std::get_if<TlsStream>(&stream_);
  if (tls == nullptr) co_return;
  if (client) {
    SSL* handle = tls->native_handle();
    error_code not_an_address;
    (void)asio::ip::make_address(host, not_an_address);
    if (!not_an_address) {
      // An IP address: no SNI (RFC 6066 allows host names only); the certificate must
      // carry it as an iPAddress subjectAltName.
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), host.c_str());
    } else {
      // SSL_set_tlsext_host_name, without the macro's C cast.
      SSL_ctrl(handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
      SSL_set1_host(handle, host.c_str());
    }
  }
  co_await tls->async_handshake(client ? ssl::stream_base::client : ssl::stream_base::server, asio::use_awaitable);
}

}  // namespace spindle::dist
