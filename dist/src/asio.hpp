#pragma once
// The one place dist/ includes Boost.Asio. Boost 1.74's awaitable.hpp uses std::exchange
// without including <utility>, so that comes first. It also turns co_await on for Clang
// only with libc++'s <experimental/coroutine>: Clang 14 with libstdc++'s <coroutine>
// (Debian 12, the fuzz build) works as GCC does, so it is turned on here.

#include <utility>

#if defined(__clang__) && !defined(BOOST_ASIO_HAS_CO_AWAIT) && defined(__cpp_impl_coroutine) && __has_include(<coroutine>)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

namespace spindle::dist {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
/// Unix domain stream sockets: the local carrier between Spindle nodes on one machine.
using local_stream = asio::local::stream_protocol;
using boost::system::error_code;
}  // namespace spindle::dist
