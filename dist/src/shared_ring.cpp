#include "shared_ring.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace spindle::dist {

// The shared page before the data: each field on its own cache line, so the writer's
// stores and the reader's do not contend for one line. Positions count bytes since the
// start and never wrap (2^64 bytes is centuries of traffic).
struct SharedRing::Control {
  alignas(64) std::uint64_t written;        // by the writer
  alignas(64) std::uint64_t read;           // by the reader
  alignas(64) std::uint32_t reader_waiting;  // set by the reader, taken by the writer
  alignas(64) std::uint32_t writer_waiting;  // set by the writer, taken by the reader
};

namespace {

constexpr std::size_t kControlBytes = 4096;
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free && std::atomic_ref<std::uint32_t>::is_always_lock_free,
              "the two processes share these positions through lock-free atomics only");
constexpr unsigned kSeals = F_SEAL_SHRINK | F_SEAL_GROW;

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

std::uint8_t* map_shared(int fd, std::size_t bytes) {
  void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) throw_errno("mmap of a shared-memory ring");
  return static_cast<std::uint8_t*>(map);
}

std::atomic_ref<std::uint64_t> shared(std::uint64_t& field) noexcept { return std::atomic_ref<std::uint64_t>(field); }
std::atomic_ref<std::uint32_t> shared(std::uint32_t& field) noexcept { return std::atomic_ref<std::uint32_t>(field); }

}  // namespace

SharedRing SharedRing::create(std::size_t capacity) {
  capacity = std::bit_ceil(std::clamp(capacity, kMinCapacity, kMaxCapacity));
  const int fd = ::memfd_create("spindle-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw_errno("memfd_create");
  // Zero-filled by the kernel: positions and flags start at 0.
  if (::ftruncate(fd, static_cast<off_t>(kControlBytes + capacity)) != 0 || ::fcntl(fd, F_ADD_SEALS, kSeals | F_SEAL_SEAL) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::system_error(error, std::generic_category(), "sizing and sealing a shared-memory ring");
  }
  try {
    return SharedRing(fd, map_shared(fd, kControlBytes + capacity), capacity, true);
  } catch (...) {
    ::close(fd);
    throw;
  }
}

SharedRing SharedRing::adopt(int fd) {
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } owned{fd};
  const int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0) throw std::runtime_error("the peer's ring is not a sealable memfd");
  if ((static_cast<unsigned>(seals) & kSeals) != kSeals)
    throw std::runtime_error("the peer's ring is not sealed against resizing (seals " + std::to_string(seals) + ")");
  struct stat about {};
  if (::fstat(fd, &about) != 0) throw_errno("fstat of the peer's ring");
  const auto size = static_cast<std::uint64_t>(about.st_size);
  const std::uint64_t capacity = size > kControlBytes ? size - kControlBytes : 0;
  if (capacity < kMinCapacity || capacity > kMaxCapacity || !std::has_single_bit(capacity))
    throw std::runtime_error("the peer's ring has " + std::to_string(size) + " bytes: not 4096 plus a power of two from " +
                             std::to_string(kMinCapacity) + " to " + std::to_string(kMaxCapacity));
  std::uint8_t* map = map_shared(fd, size);
  owned.fd = -1;
  return SharedRing(fd, map, capacity, false);
}

SharedRing::SharedRing(SharedRing&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      map_(std::exchange(other.map_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      writer_(other.writer_),
      written_(other.written_),
      read_(other.read_) {}

SharedRing::~SharedRing() {
  if (map_ != nullptr) ::munmap(map_, kControlBytes + capacity_);
  release_fd();
}

void SharedRing::release_fd() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

SharedRing::Control& SharedRing::control() const noexcept { return *reinterpret_cast<Control*>(map_); }
std::uint8_t* SharedRing::data() const noexcept { return map_ + kControlBytes; }

void SharedRing::bad_position(const char* whose, std::uint64_t seen) const {
  throw std::runtime_error(std::string("shared-memory ring: the peer set the ") + whose + " position to " +
                           std::to_string(seen) + ", outside the " + std::to_string(capacity_) +
                           " bytes after position " + std::to_string(writer_ ? written_ : read_));
}

// ----- the sleep flags -----
// A side about to sleep sets its flag, then looks again (announce); the other side, after
// its own publication, takes the flag (take). The seq_cst fences between each side's
// store and its load make sure at least one sees the other: no wake-up is lost.

bool SharedRing::take(std::uint32_t& field) noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  auto flag = shared(field);
  return flag.load(std::memory_order_relaxed) != 0 && flag.exchange(0, std::memory_order_relaxed) != 0;
}

template <class StillNothing>
bool SharedRing::announce(std::uint32_t& field, StillNothing still_nothing) {
  shared(field).store(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (still_nothing()) return true;
  shared(field).store(0, std::memory_order_relaxed);
  return false;
}

// ----- writer -----

std::size_t SharedRing::room() const {
  const std::uint64_t read = shared(control().read).load(std::memory_order_acquire);
  // The reader can only have read what was written: anything else is the peer lying.
  if (read > written_ || written_ - read > capacity_) bad_position("read", read);
  return capacity_ - static_cast<std::size_t>(written_ - read);
}

SharedRing::Span SharedRing::at(std::uint64_t position, std::size_t n) const noexcept {
  const std::size_t offset = static_cast<std::size_t>(position) & (capacity_ - 1);
  const std::size_t first = std::min(n, capacity_ - offset);
  return {data() + offset, first, n - first};
}

std::size_t SharedRing::write(const std::uint8_t* bytes, std::size_t n) {
  n = std::min(n, room());
  if (n == 0) return 0;
  const Span to = at(written_, n);
  std::memcpy(to.first, bytes, to.first_bytes);
  std::memcpy(data(), bytes + to.first_bytes, to.wrapped_bytes);
  written_ += n;
  shared(control().written).store(written_, std::memory_order_release);
  return n;
}

bool SharedRing::take_reader_waiting() noexcept { return take(control().reader_waiting); }

bool SharedRing::announce_writer_waiting() {
  return announce(control().writer_waiting, [this] { return room() == 0; });
}

// ----- reader -----

std::size_t SharedRing::readable() const {
  const std::uint64_t written = shared(control().written).load(std::memory_order_acquire);
  if (written < read_ || written - read_ > capacity_) bad_position("written", written);
  return static_cast<std::size_t>(written - read_);
}

std::size_t SharedRing::read(std::uint8_t* into, std::size_t n) {
  n = std::min(n, readable());
  if (n == 0) return 0;
  const Span from = at(read_, n);
  std::memcpy(into, from.first, from.first_bytes);
  std::memcpy(into + from.first_bytes, data(), from.wrapped_bytes);
  read_ += n;
  shared(control().read).store(read_, std::memory_order_release);
  return n;
}

bool SharedRing::take_writer_waiting() noexcept { return take(control().writer_waiting); }

bool SharedRing::announce_reader_waiting() {
  return announce(control().reader_waiting, [this] { return readable() == 0; });
}

}  // namespace spindle::dist
