#pragma once
// One direction of the shared-memory carrier (ring_carrier.hpp): a byte ring in a sealed
// memfd that one process writes and the other reads. A 64 KB binary crosses it with two
// copies into memory that stays in cache, where a socket costs two copies into fresh
// kernel buffers plus a system call, an allocation and a wake-up each way.
//
// The peer is another process, so nothing it writes into the shared pages is trusted:
// each side keeps its own position privately and only reads the other's, checked (a
// position outside the ring is a protocol error, never a wild copy); bytes are copied out
// before anything parses them; and the memfd is sealed against resizing, so the peer
// cannot shrink the mapping under us (which would fault on the next access).

#include <cstddef>
#include <cstdint>
#include <string>

namespace spindle::dist {

class SharedRing {
 public:
  /// Capacities a ring may have: powers of two in this range.
  static constexpr std::size_t kMinCapacity = std::size_t{64} << 10;
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 30;

  /// A new ring of `capacity` bytes (rounded up to a power of two in range), in a memfd
  /// sealed against resizing. Throws std::system_error.
  static SharedRing create(std::size_t capacity);
  /// The peer's ring, from its descriptor (which this takes and closes): refused with
  /// std::runtime_error unless it is a memfd sealed against resizing, of a valid size.
  static SharedRing adopt(int fd);

  SharedRing(SharedRing&& other) noexcept;
  SharedRing& operator=(SharedRing&&) = delete;
  SharedRing(const SharedRing&) = delete;
  SharedRing& operator=(const SharedRing&) = delete;
  ~SharedRing();

  /// The memfd, for handing to the peer; -1 once adopted or released.
  int fd() const noexcept { return fd_; }
  /// Closes the descriptor (the mapping stays): after the peer has its own.
  void release_fd() noexcept;
  std::size_t capacity() const noexcept { return capacity_; }

  // ----- the writer's side -----

  /// Copies as much of [bytes, bytes + n) as there is room for and publishes it; the
  /// count copied. Throws std::runtime_error if the reader's position is impossible.
  std::size_t write(const std::uint8_t* bytes, std::size_t n);
  /// Whether the reader said it sleeps until more comes (the flag is cleared): after a
  /// write, the writer then wakes it.
  bool take_reader_waiting() noexcept;
  /// Says the writer sleeps until there is room; false (and the flag cleared) when there
  /// is room already, so it must not sleep.
  bool announce_writer_waiting();

  // ----- the reader's side -----

  /// Copies up to `n` published bytes into `into` and frees their room; the count.
  /// Throws std::runtime_error if the writer's position is impossible.
  std::size_t read(std::uint8_t* into, std::size_t n);
  /// Whether the writer said it sleeps until there is room (the flag is cleared): after a
  /// read, the reader then wakes it.
  bool take_writer_waiting() noexcept;
  /// Says the reader sleeps until more comes; false (and the flag cleared) when bytes are
  /// there already, so it must not sleep.
  bool announce_reader_waiting();

 private:
  SharedRing(int fd, std::uint8_t* map, std::size_t capacity, bool writer) noexcept
      : fd_(fd), map_(map), capacity_(capacity), writer_(writer) {}
  struct Control;
  Control& control() const noexcept;
  std::uint8_t* data() const noexcept;
  // The ring's bytes for `n` bytes from `position`: up to its end, then the rest wrapped
  // around to its start.
  struct Span {
    std::uint8_t* first;
    std::size_t first_bytes;
    std::size_t wrapped_bytes;
  };
  Span at(std::uint64_t position, std::size_t n) const noexcept;
  std::size_t readable() const;  // published bytes not yet read (reader)
  std::size_t room() const;      // free bytes (writer)
  [[noreturn]] void bad_position(const char* whose, std::uint64_t seen) const;
  // The sleep flags (in the shared page): take one the other side set; set one's own,
  // unless `still_nothing` says there is no reason to sleep after all.
  static bool take(std::uint32_t& field) noexcept;
  template <class StillNothing>
  bool announce(std::uint32_t& field, StillNothing still_nothing);

  int fd_ = -1;
  std::uint8_t* map_ = nullptr;
  std::size_t capacity_ = 0;
  bool writer_ = false;
  std::uint64_t written_ = 0;  // the writer's own count of bytes published (never read back from the ring)
  std::uint64_t read_ = 0;     // the reader's own count of bytes consumed
};

}  // namespace spindle::dist
