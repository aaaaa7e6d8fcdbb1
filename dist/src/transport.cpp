#include "transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace spindle::dist {

std::string Transport::peer_address() const {
  if (is_local()) return "local socket";
  if (is_shared_memory()) return "shared memory";
  const tcp::socket& socket = is_tls() ? std::get<TlsStream>(stream_).next_layer() : std::get<tcp::socket>(stream_);
  error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  return ec ? std::string("?") : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

void Transport::set_no_delay() noexcept {
  error_code ignored;
  if (auto* tls = std::get_if<TlsStream>(&stream_)) tls->next_layer().set_option(tcp::no_delay(true), ignored);
  if (auto* socket = std::get_if<tcp::socket>(&stream_)) socket->set_option(tcp::no_delay(true), ignored);
}

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
