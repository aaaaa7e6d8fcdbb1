// The EPMD client and the embedded EPMD over real sockets: against each other, against OTP's
// own epmd program, and with real erl nodes. Each test runs an io_context on its own thread
// (as a node does); test bodies that do I/O are coroutines run there, and every program a
// test starts is stopped by its pid when the test ends, failed or not.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "free_port.hpp"
#include "epmd_client.hpp"
#include "epmd_server.hpp"

namespace spindle::dist {
namespace {

using namespace std::chrono_literals;
using Names = std::vector<std::pair<std::string, std::uint16_t>>;
using Reason = EpmdIoError::Reason;
using Clock = std::chrono::steady_clock;

const std::string kLocalhost = "127.0.0.1";
const asio::ip::address kLoopback = asio::ip::make_address_v4("127.0.0.1");

using spindle::test::free_port;

bool program_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  const std::string dirs(path);
  for (std::size_t start = 0; start <= dirs.size();) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(dirs.substr(start, end - start)) / program, ec)) return true;
    start = end + 1;
  }
  return false;
}

epmd::NodeEntry node_entry(std::string name, std::uint16_t port) {
  epmd::NodeEntry entry;
  entry.name = std::move(name);
  entry.port = port;
  return entry;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Awaits `operation` and returns the EpmdIoError it threw, or nothing when it succeeded.
template <class T>
asio::awaitable<std::optional<EpmdIoError>> failure_of(asio::awaitable<T> operation) {
  std::optional<EpmdIoError> failure;
  try {
    co_await std::move(operation);
  } catch (const EpmdIoError& e) {
    failure = e;
  }
  co_return failure;
}

// Calls the coroutine `probe` every 20 ms until it yields true; false if `limit` passes first.
template <class Probe>
asio::awaitable<bool> eventually(Probe probe, std::chrono::milliseconds limit = 5s) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  const auto give_up = Clock::now() + limit;
  for (;;) {
    if (co_await probe()) co_return true;
    if (Clock::now() >= give_up) co_return false;
    pause.expires_after(20ms);
    co_await pause.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<bool> is_registered(std::uint16_t epmd_port, std::string name) {
  co_return (co_await epmd_port_please(kLocalhost, epmd_port, std::move(name))).has_value();
}

// A probe for eventually(): true once EPMD no longer knows `name`.
auto is_gone(std::uint16_t epmd_port, std::string name) {
  return [epmd_port, name]() -> asio::awaitable<bool> { co_return !co_await is_registered(epmd_port, name); };
}

// ----- raw clients, for what a well-behaved client never sends -----

asio::awaitable<tcp::socket> connect_raw(std::uint16_t port) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(tcp::endpoint(kLoopback, port), asio::use_awaitable);
  co_return socket;
}

struct ServerVerdict {
  epmd::Bytes answer;  // everything the server sent
  bool closed_by_server = false;
  std::chrono::milliseconds after{0};  // since `since`
};

// Reads until the server closes `socket`, or `limit` passes (then closed_by_server is false).
asio::awaitable<ServerVerdict> wait_for_close(tcp::socket& socket, Clock::time_point since,
                                              std::chrono::milliseconds limit = 5s) {
  detail::Deadline deadline(socket.get_executor(), limit, [&socket] {
    error_code ignored;
    socket.close(ignored);
  });
  ServerVerdict verdict;
  error_code ec;
  co_await asio::async_read(socket, asio::dynamic_buffer(verdict.answer),
                            asio::redirect_error(asio::use_awaitable, ec));
  verdict.after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since);
  verdict.closed_by_server = !deadline.expired() && (ec == asio::error::eof || ec == asio::error::connection_reset);
  co_return verdict;
}

enum class ThenClose { no, our_side };

// Sends `bytes` on a fresh connection, then waits for the server to close it.
asio::awaitable<ServerVerdict> send_raw(std::uint16_t port, epmd::Bytes bytes, ThenClose then = ThenClose::no) {
  tcp::socket socket = co_await connect_raw(port);
  const auto sent = Clock::now();
  co_await asio::async_write(socket, asio::buffer(bytes), asio::use_awaitable);
  if (then == ThenClose::our_side) socket.shutdown(tcp::socket::shutdown_send);
  co_return co_await wait_for_close(socket, sent);
}

// ----- fixtures -----

// An io_context on its own thread, with at most one embedded EPMD on it.
class IoThreadTest : public ::testing::Test {
 protected:
  ~IoThreadTest() override { stop_io(); }  // then `server_` goes, with the io_context stopped

  std::uint16_t start_server(EpmdServerOptions options = {}) {
    server_ = std::make_unique<EpmdServer>(io_, tcp::endpoint(kLoopback, 0), options);
    server_->start();
    return server_->port();
  }

  // Runs the coroutine that `make_coroutine` returns on the I/O thread and waits for it;
  // what it throws is rethrown here.
  template <class MakeCoroutine>
  void on_io(MakeCoroutine make_coroutine, std::chrono::seconds limit = 60s) {
    std::future<void> done = asio::co_spawn(io_, make_coroutine(), asio::use_future);
    if (done.wait_for(limit) == std::future_status::timeout) {
      stop_io();  // the coroutine never resumes, so what it refers to may go
      FAIL() << "the test's I/O did not finish within " << limit.count() << " s";
    }
    done.get();
  }

  void stop_io() {
    work_.reset();
    io_.stop();
    if (io_thread_.joinable()) io_thread_.join();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::unique_ptr<EpmdServer> server_;
  std::thread io_thread_{[this] { io_.run(); }};
};

class EmbeddedEpmdTest : public IoThreadTest {};
class EpmdClientTest : public IoThreadTest {};

// Tests that start OTP's programs (epmd, erl); CMake labels them "interop".
class EpmdInteropTest : public IoThreadTest {
 protected:
  void SetUp() override {
    if (!program_on_path("epmd") || !program_on_path("erl")) GTEST_SKIP() << "Erlang/OTP (epmd, erl) is not installed";
  }
};

// ----- the client and the embedded server together -----

TEST_F(EmbeddedEpmdTest, RegistersFindsListsAndRefusesATakenName) {
  const std::uint16_t port = start_server();
  on_io([&]() -> asio::awaitable<void> {
    epmd::NodeEntry alpha_entry = node_entry("alpha", 40001);
    alpha_entry.node_type = 77;
    alpha_entry.lowest_version = 5;
    alpha_entry.extra = "extra";
    const auto alpha = co_await EpmdRegistration::register_node(kLocalhost, port, alpha_entry);
    EXPECT_TRUE(alpha->is_open());
    EXPECT_GE(alpha->creation(), 4u) << "0 means unknown, 1-3 are old 2-bit creations";

    const std::optional<epmd::NodeEntry> found = co_await epmd_port_please(kLocalhost, port, "alpha");
    EXPECT_TRUE(found.has_value());
    if (found) {
      EXPECT_EQ(found->name, "alpha");
      EXPECT_EQ(found->port, 40001);
      EXPECT_EQ(found->node_type, 77);
      EXPECT_EQ(found->protocol, 0);
      EXPECT_EQ(found->highest_version, 6);
      EXPECT_EQ(found->lowest_version, 5);
      EXPECT_EQ(found->extra, "extra");
    }
    EXPECT_FALSE((co_await epmd_port_please(kLocalhost, port, "nobody")).has_value());
    Names names = co_await epmd_names(kLocalhost, port);
    EXPECT_EQ(names, (Names{{"alpha", 40001}}));

    const auto taken =
        co_await failure_of(EpmdRegistration::register_node(kLocalhost, port, node_entry("alpha", 40002)));
    EXPECT_TRUE(taken.has_value());
    if (taken) {
      EXPECT_EQ(taken->reason(), Reason::registration_refused);
      EXPECT_PRED_FORMAT2(::testing::IsSubstring, "127.0.0.1:" + std::to_string(port), taken->what());
      EXPECT_PRED_FORMAT2(::testing::IsSubstring, "\"alpha\"", taken->what());
      EXPECT_PRED_FORMAT2(::testing::IsSubstring, "in use", taken->what());
    }
    names = co_await epmd_names(kLocalhost, port);
    EXPECT_EQ(names, (Names{{"alpha", 40001}})) << "the refusal changed nothing";

    alpha->close();
    EXPECT_FALSE(alpha->is_open());
    EXPECT_TRUE(co_await eventually(is_gone(port, "alpha"))) << "closing the registration unregisters the node";
    names = co_await epmd_names(kLocalhost, port);
    EXPECT_TRUE(names.empty());
  });
}

TEST_F(EmbeddedEpmdTest, EveryRegistrationGetsItsOwnCreation) {
  const std::uint16_t port = start_server();
  on_io([&]() -> asio::awaitable<void> {
    auto first = co_await EpmdRegistration::register_node(kLocalhost, port, node_entry("first", 41001));
    const auto second = co_await EpmdRegistration::register_node(kLocalhost, port, node_entry("second", 41002));
    EXPECT_NE(first->creation(), second->creation());
    const Names names = co_await epmd_names(kLocalhost, port);
    EXPECT_EQ(names, (Names{{"first", 41001}, {"second", 41002}}));

    // The same name again, as a node that restarted: a new creation, so its old pids stay stale.
    const std::uint32_t first_creation = first->creation();
    first.reset();
    EXPECT_TRUE(co_await eventually(is_gone(port, "first")));
    const auto again = co_await EpmdRegistration::register_node(kLocalhost, port, node_entry("first", 41003));
    EXPECT_NE(again->creation(), first_creation);
    EXPECT_NE(again->creation(), second->creation());
    const auto found = co_await epmd_port_please(kLocalhost, port, "first");
    EXPECT_EQ(found ? found->port : 0, 41003);
  });
}

TEST_F(EmbeddedEpmdTest, ARegistrationLearnsThatItsEpmdWentAway) {
  const std::uint16_t port = start_server();
  on_io([&]() -> asio::awaitable<void> {
    const auto node = co_await EpmdRegistration::register_node(kLocalhost, port, node_entry("orphan", 41100));
    server_->close();
    co_await node->wait_until_lost();
    EXPECT_FALSE(node->is_open());
    const auto refused = co_await failure_of(epmd_names(kLocalhost, port));
    EXPECT_TRUE(refused && refused->connection_refused()) << "the closed server no longer listens";
  });
}

TEST_F(EmbeddedEpmdTest, AnswersDumpKillAndStopAsEpmdDoes) {
  const std::uint16_t port = start_server();
  on_io([&]() -> asio::awaitable<void> {
    const auto node = co_await EpmdRegistration::register_node(kLocalhost, port, node_entry("dumped", 41200));

    // Built apart from the co_await: GCC 12 cannot keep an initializer list's array across one.
    const epmd::Bytes dump_request{0, 1, 'd'}, kill_request{0, 1, 'k'},
        stop_request{0, 7, 's', 'd', 'u', 'm', 'p', 'e', 'd'};
    const ServerVerdict dump = co_await send_raw(port, dump_request);
    EXPECT_TRUE(dump.closed_by_server);
    const std::string dump_text(dump.answer.begin(), dump.answer.end());
    EXPECT_GE(dump.answer.size(), 4u);
    if (dump.answer.size() >= 4) {
      EXPECT_EQ((dump.answer[2] << 8) | dump.answer[3], port) << "DUMP_RESP starts with EPMD's port";
    }
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "active name     <dumped> at port 41200, fd = ", dump_text);
    EXPECT_EQ(dump.answer.back(), 0) << "epmd ends every dump line with its C string's NUL";

    const ServerVerdict kill = co_await send_raw(port, kill_request);
    EXPECT_TRUE(kill.closed_by_server);
    EXPECT_EQ(kill.answer, (epmd::Bytes{'N', 'O'})) << "an embedded EPMD is not killed from outside";

    const ServerVerdict stop = co_await send_raw(port, stop_request);
    EXPECT_TRUE(stop.closed_by_server);
    EXPECT_TRUE(stop.answer.empty());
    EXPECT_TRUE(co_await is_registered(port, "dumped"))
        << "STOP_REQ is refused, as by epmd without -relaxed_command_check";
  });
}

// Each bad client loses its own connection, at once or when its request deadline passes, while a
// registered node and other clients are served throughout.
TEST_F(EmbeddedEpmdTest, BadClientsLoseOnlyTheirOwnConnection) {
  constexpr auto kRequestTimeout = 1000ms;
  const std::uint16_t port = start_server({.request_timeout = kRequestTimeout});
  on_io([&]() -> asio::awaitable<void> {
    const auto steady = co_await EpmdRegistration::register_node(kLocalhost, port, node_entry("steady", 42000));

    // A client that connects and says nothing; meanwhile the server answers others.
    tcp::socket silent = co_await connect_raw(port);
    const auto silent_since = Clock::now();
    EXPECT_TRUE(co_await is_registered(port, "steady"));
    Names names = co_await epmd_names(kLocalhost, port);
    EXPECT_EQ(names, (Names{{"steady", 42000}}));

    struct BadRequest {
      const char* what;
      epmd::Bytes bytes;
      ThenClose then;
    };
    const BadRequest dropped_at_once[] = {
        {"an unknown request type", {0, 4, 0xFF, 1, 2, 3}, ThenClose::no},
        {"a zero length", {0, 0}, ThenClose::no},
        {"a length beyond the limit", {0xFF, 0xFF, 'z'}, ThenClose::no},
        {"an ALIVE2_REQ whose name runs past its end",
         {0, 13, 120, 0xA4, 0x10, 72, 0, 0, 6, 0, 6, 0, 200, 'x', 'y'},
         ThenClose::no},
        {"an ALIVE2_REQ with an empty name", {0, 13, 120, 0xA4, 0x10, 72, 0, 0, 6, 0, 6, 0, 0, 0, 0}, ThenClose::no},
        {"a PORT_PLEASE2_REQ without a name", {0, 1, 'z'}, ThenClose::no},
        {"a truncated request, then end of stream", {0, 32, 'z', 's', 't'}, ThenClose::our_side},
        {"half a length field, then end of stream", {0}, ThenClose::our_side},
    };
    for (const BadRequest& bad : dropped_at_once) {
      const ServerVerdict verdict = co_await send_raw(port, bad.bytes, bad.then);
      EXPECT_TRUE(verdict.closed_by_server) << bad.what;
      EXPECT_TRUE(verdict.answer.empty()) << bad.what;
      EXPECT_LT(verdict.after, kRequestTimeout) << bad.what << ": dropped without waiting for the deadline";
    }

    // Requests that stall half way are dropped when the deadline passes.
    const BadRequest stalled[] = {
        {"a truncated request that stalls", {0, 32, 'z', 's'}, ThenClose::no},
        {"half a length field that stalls", {0}, ThenClose::no},
    };
    for (const BadRequest& bad : stalled) {
      const ServerVerdict verdict = co_await send_raw(port, bad.bytes, bad.then);
      EXPECT_TRUE(verdict.closed_by_server) << bad.what;
      EXPECT_GE(verdict.after, kRequestTimeout - 100ms) << bad.what;
    }

    const ServerVerdict silence = co_await wait_for_close(silent, silent_since);
    EXPECT_TRUE(silence.closed_by_server) << "the silent client";
    EXPECT_GE(silence.after, kRequestTimeout - 100ms);

    EXPECT_TRUE(steady->is_open());
    EXPECT_TRUE(co_await is_registered(port, "steady"));
    names = co_await epmd_names(kLocalhost, port);
    EXPECT_EQ(names, (Names{{"steady", 42000}}));
  });
}

TEST(EmbeddedEpmd, ATakenPortIsASystemError) {
  asio::io_context io;
  const tcp::acceptor other_program(io, tcp::endpoint(kLoopback, 0));
  const tcp::endpoint taken = other_program.local_endpoint();
  try {
    EpmdServer server(io, taken);
    ADD_FAILURE() << "listened on a port another socket listens on";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use) << e.what();
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "127.0.0.1:" + std::to_string(taken.port()), e.what());
  }
}

// ----- the client against EPMDs that misbehave -----

TEST_F(EpmdClientTest, NoEpmdIsConnectionRefused) {
  const std::uint16_t port = free_port();
  on_io([&]() -> asio::awaitable<void> {
    std::vector<std::optional<EpmdIoError>> failures;
    failures.push_back(co_await failure_of(epmd_port_please(kLocalhost, port, "any")));
    failures.push_back(co_await failure_of(epmd_names(kLocalhost, port)));
    failures.push_back(co_await failure_of(EpmdRegistration::register_node(kLocalhost, port, node_entry("any", 1))));
    for (const auto& failure : failures) {
      EXPECT_TRUE(failure && failure->connection_refused());
      if (failure) {
        EXPECT_PRED_FORMAT2(::testing::IsSubstring, "EPMD at 127.0.0.1:" + std::to_string(port), failure->what());
      }
    }
  });
}

TEST_F(EpmdClientTest, AnEpmdThatNeverAnswersTimesOut) {
  // Accepts every connection and keeps it, saying nothing.
  struct MuteEpmd {
    explicit MuteEpmd(asio::io_context& io) : acceptor(io, tcp::endpoint(kLoopback, 0)) {}
    tcp::acceptor acceptor;
    std::vector<tcp::socket> held;
  };
  on_io([&]() -> asio::awaitable<void> {
    const auto mute = std::make_shared<MuteEpmd>(io_);
    asio::co_spawn(
        io_,
        [mute]() -> asio::awaitable<void> {
          for (;;) {
            error_code ec;
            tcp::socket socket = co_await mute->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            mute->held.push_back(std::move(socket));
          }
        },
        asio::detached);
    const std::uint16_t port = mute->acceptor.local_endpoint().port();

    constexpr auto kTimeout = 300ms;
    const auto started = Clock::now();
    std::vector<std::optional<EpmdIoError>> failures;
    failures.push_back(co_await failure_of(epmd_port_please(kLocalhost, port, "any", kTimeout)));
    failures.push_back(co_await failure_of(epmd_names(kLocalhost, port, kTimeout)));
    failures.push_back(
        co_await failure_of(EpmdRegistration::register_node(kLocalhost, port, node_entry("any", 1), kTimeout)));
    EXPECT_LT(Clock::now() - started, 3 * kTimeout + 2s);
    for (const auto& failure : failures) {
      EXPECT_TRUE(failure && failure->reason() == Reason::timeout);
      if (failure) {
        EXPECT_PRED_FORMAT2(::testing::IsSubstring, "within 300 ms", failure->what());
      }
    }
    mute->acceptor.close();
  });
}

// ----- with OTP's programs -----

// Pids of epmd programs serving `port` because they inherited ERL_EPMD_PORT from an erl that
// started one itself (erl runs `epmd -daemon` when no EPMD answers, unless -start_epmd false).
std::vector<pid_t> stray_epmds_serving(std::uint16_t port) {
  const std::string marker = "ERL_EPMD_PORT=" + std::to_string(port);
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid_text = entry.path().filename().string();
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string program;
    std::getline(std::ifstream(entry.path() / "comm"), program);
    if (program != "epmd") continue;
    std::ifstream environ_file(entry.path() / "environ", std::ios::binary);
    const std::string environ_text((std::istreambuf_iterator<char>(environ_file)), std::istreambuf_iterator<char>());
    if (contains('\0' + environ_text, '\0' + marker + '\0')) found.push_back(static_cast<pid_t>(std::stoi(pid_text)));
  }
  return found;
}

// Kills (by pid) any epmd an erl of this test left behind on `port`, and fails the test if so.
class StrayEpmdGuard {
 public:
  explicit StrayEpmdGuard(std::uint16_t port) : port_(port) {}
  StrayEpmdGuard(const StrayEpmdGuard&) = delete;
  StrayEpmdGuard& operator=(const StrayEpmdGuard&) = delete;
  ~StrayEpmdGuard() {
    for (const pid_t pid : stray_epmds_serving(port_)) {
      ::kill(pid, SIGKILL);
      ADD_FAILURE() << "an erl started epmd (pid " << pid << ") for port " << port_ << "; killed it";
    }
  }

 private:
  std::uint16_t port_;
};

TEST_F(EpmdInteropTest, ClientWorksWithOtpEpmd) {
  const std::uint16_t port = free_port();
  test::ChildProcess epmd({"epmd", "-port", std::to_string(port)});
  on_io([&]() -> asio::awaitable<void> {
    const bool listening = co_await eventually(
        [&]() -> asio::awaitable<bool> { co_return !(co_await failure_of(epmd_names(kLocalhost, port))).has_value(); });
    EXPECT_TRUE(listening) << epmd.output();
    if (!listening) co_return;

    const auto one = co_await EpmdRegistration::register_node(kLocalhost, port, node_entry("spindle_one", 43001));
    const auto two = co_await EpmdRegistration::register_node(kLocalhost, port, node_entry("spindle_two", 43002));
    EXPECT_NE(one->creation(), 0u);

    const auto found = co_await epmd_port_please(kLocalhost, port, "spindle_one");
    EXPECT_TRUE(found.has_value());
    if (found) {
      EXPECT_EQ(found->port, 43001);
      EXPECT_EQ(found->node_type, 72);
      EXPECT_EQ(found->highest_version, 6);
    }
    EXPECT_FALSE((co_await epmd_port_please(kLocalhost, port, "nobody")).has_value());
    Names names = co_await epmd_names(kLocalhost, port);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (Names{{"spindle_one", 43001}, {"spindle_two", 43002}}));

    const auto taken =
        co_await failure_of(EpmdRegistration::register_node(kLocalhost, port, node_entry("spindle_one", 1)));
    EXPECT_TRUE(taken && taken->reason() == Reason::registration_refused);

    // OTP's epmd gives each name its own creation sequence: a name registered again gets the next one.
    const std::uint32_t first_creation = one->creation();
    one->close();
    EXPECT_TRUE(co_await eventually(is_gone(port, "spindle_one")));
    const auto again = co_await EpmdRegistration::register_node(kLocalhost, port, node_entry("spindle_one", 43003));
    EXPECT_NE(again->creation(), first_creation);

    epmd.signal(SIGKILL);  // the OS closes epmd's sockets: the registration hears of it
    co_await two->wait_until_lost();
    EXPECT_FALSE(two->is_open());
  });
}

TEST_F(EpmdInteropTest, ErlangNodesUseTheEmbeddedEpmd) {
  const std::uint16_t port = start_server();
  const StrayEpmdGuard no_stray_epmd(port);
  const std::string epmd_port_env = "ERL_EPMD_PORT=" + std::to_string(port);
  // The server listens already, and -start_epmd false: erl must never start an epmd of its own.
  test::ChildProcess erl(
      {"erl", "-noshell", "-sname", "spindle_probe", "-setcookie", "spindle", "-start_epmd", "false"}, {epmd_port_env});

  std::uint16_t erl_port = 0;
  on_io([&]() -> asio::awaitable<void> {
    const bool registered = co_await eventually([&] { return is_registered(port, "spindle_probe"); }, 30s);
    EXPECT_TRUE(registered) << erl.output();
    if (!registered) co_return;
    const auto found = co_await epmd_port_please(kLocalhost, port, "spindle_probe");
    EXPECT_TRUE(found.has_value());
    if (!found) co_return;
    erl_port = found->port;
    EXPECT_NE(erl_port, 0);
    EXPECT_EQ(found->node_type, 77) << "a visible node";
    EXPECT_EQ(found->highest_version, 6);
    const Names names = co_await epmd_names(kLocalhost, port);
    EXPECT_EQ(names, (Names{{"spindle_probe", erl_port}}));
  });
  ASSERT_NE(erl_port, 0);

  // OTP's epmd program as a client of the embedded server (NAMES_REQ).
  std::string names_output;
  EXPECT_EQ(test::run_command({"epmd", "-port", std::to_string(port), "-names"}, 30s, &names_output), 0)
      << names_output;
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "name spindle_probe at port " + std::to_string(erl_port), names_output);

  // BEAM's own EPMD client (erl_epmd: PORT_PLEASE2_REQ, NAMES_REQ) in a second, non-distributed erl.
  test::ChildProcess asker({"erl", "-noshell", "-start_epmd", "false", "-eval",
                            "io:format(\"~p~n~p~n\", [erl_epmd:port_please(\"spindle_probe\", {127,0,0,1}), "
                            "erl_epmd:names({127,0,0,1})]), halt()."},
                           {epmd_port_env});
  EXPECT_EQ(asker.wait(30s), 0) << asker.output();
  const std::string asked = asker.output();
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "{port," + std::to_string(erl_port) + ",6}", asked);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "{ok,[{\"spindle_probe\"," + std::to_string(erl_port) + "}]}", asked);

  // The node dies: the server sees its registration connection close.
  erl.signal(SIGKILL);
  on_io([&]() -> asio::awaitable<void> { EXPECT_TRUE(co_await eventually(is_gone(port, "spindle_probe"), 10s)); });
}

}  // namespace
}  // namespace spindle::dist
