#pragma once
// The one place dist/ includes Boost.Asio. Boost 1.74's awaitable.hpp uses std::exchange
// without including <utility>, so that comes first.

#include <utility>

#include <boost/asio.hpp>

namespace spindle::dist {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
}  // namespace spindle::dist
