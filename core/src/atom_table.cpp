// The process-wide atom table.
//
// Reads (interning an atom that exists, `Atom::text()`) take no lock: the hash index
// is an open-addressing array of atomic slots and entries are never moved or freed.
// Inserts take one mutex. When the index grows, readers still probing the old array
// may miss an atom inserted meanwhile; they then take the insert path, which looks
// again under the mutex, so a miss is never wrong, only slower.

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "hash_mix.hpp"
#include "spindle/atom.hpp"
#include "utf8.hpp"

namespace spindle {
namespace {

constexpr std::size_t kMaxAtomChars = 255;
constexpr std::size_t kDefaultLimit = 1u << 20;  // Erlang's default
constexpr std::uint32_t kChunkBits = 12;
constexpr std::uint32_t kChunkSize = 1u << kChunkBits;
constexpr std::uint32_t kMaxChunks = 1u << 14;  // 67,108,864 atoms at most
constexpr std::size_t kHardLimit = std::size_t{kChunkSize} * kMaxChunks;

struct AtomEntry {
  std::uint64_t hash;
  std::uint32_t size;  // bytes of UTF-8
  bool latin1;
  bool bare;
  char text[1];  // `size` bytes follow, then a NUL
};

bool is_reserved_word(std::string_view s) {
  static constexpr std::string_view kReserved[] = {
      "after", "and",  "andalso", "band",  "begin",   "bnot", "bor",  "bsl",     "bsr",
      "bxor",  "case", "catch",   "cond",  "div",     "end",  "fun",  "if",      "let",
      "not",   "of",   "or",      "orelse", "receive", "rem", "try",  "when",    "xor",
      "maybe", "else"};
  return std::find(std::begin(kReserved), std::end(kReserved), s) != std::end(kReserved);
}

// Erlang prints an atom bare when it starts with a lower-case Latin-1 letter and
// continues with letters, digits, '_' or '@', and is not a reserved word.
bool prints_bare(std::string_view utf8) {
  if (utf8.empty() || is_reserved_word(utf8)) return false;
  std::size_t pos = 0;
  bool first = true;
  while (pos < utf8.size()) {
    const std::int32_t cp = detail::utf8_next(utf8, pos);
    const bool lower = (cp >= 'a' && cp <= 'z') || (cp >= 0xDF && cp <= 0xFF && cp != 0xF7);
    const bool upper = (cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7);
    const bool digit = cp >= '0' && cp <= '9';
    if (first ? !lower : !(lower || upper || digit || cp == '_' || cp == '@')) return false;
    first = false;
  }
  return true;
}

class AtomTable {
 public:
  AtomTable() {
    index_.store(make_index(1024), std::memory_order_relaxed);
    for (std::string_view name : detail::kWellKnownAtoms) intern(name);
  }
  AtomTable(const AtomTable&) = delete;
  AtomTable& operator=(const AtomTable&) = delete;

  static AtomTable& instance() {
    // Never destroyed: atoms may be used by static destructors of other objects.
    static AtomTable* table = new AtomTable;
    return *table;
  }

  std::uint32_t intern(std::string_view utf8) {
    const std::uint64_t hash = detail::hash_bytes(utf8.data(), utf8.size());
    if (auto found = find(utf8, hash, *index_.load(std::memory_order_acquire))) return *found;
    validate(utf8);
    return insert(utf8, hash);
  }

  std::optional<std::uint32_t> existing(std::string_view utf8) const {
    const std::uint64_t hash = detail::hash_bytes(utf8.data(), utf8.size());
    if (auto found = find(utf8, hash, *index_.load(std::memory_order_acquire))) return found;
    std::lock_guard lock(insert_mutex_);
    return find(utf8, hash, *index_.load(std::memory_order_relaxed));
  }

  const AtomEntry& entry(std::uint32_t index) const noexcept {
    AtomEntry** chunk = chunks_[index >> kChunkBits].load(std::memory_order_acquire);
    return *chunk[index & (kChunkSize - 1)];
  }

  std::size_t count() const noexcept { return count_.load(std::memory_order_acquire); }
  std::size_t limit() const noexcept { return limit_.load(std::memory_order_relaxed); }

  void set_limit(std::size_t limit) {
    std::lock_guard lock(insert_mutex_);
    if (limit < count() || limit > kHardLimit)
      throw std::invalid_argument("atom limit must lie between the current atom count (" +
                                  std::to_string(count()) + ") and " + std::to_string(kHardLimit));
    limit_.store(limit, std::memory_order_relaxed);
  }

 private:
  // Slot layout: high 32 bits of the hash, then atom index + 1 (0 marks an empty slot).
  struct Index {
    std::size_t mask;
    std::unique_ptr<std::atomic<std::uint64_t>[]> slots;
  };

  static Index* make_index(std::size_t capacity) {
    auto* ix = new Index{capacity - 1, std::make_unique<std::atomic<std::uint64_t>[]>(capacity)};
    for (std::size_t i = 0; i < capacity; ++i) ix->slots[i].store(0, std::memory_order_relaxed);
    return ix;
  }

  std::optional<std::uint32_t> find(std::string_view utf8, std::uint64_t hash, const Index& ix) const {
    const std::uint64_t tag = hash >> 32;
    for (std::size_t i = hash & ix.mask;; i = (i + 1) & ix.mask) {
      const std::uint64_t slot = ix.slots[i].load(std::memory_order_acquire);
      if (slot == 0) return std::nullopt;
      if ((slot >> 32) != tag) continue;
      const auto index = static_cast<std::uint32_t>(slot) - 1;
      const AtomEntry& e = entry(index);
      if (std::string_view(e.text, e.size) == utf8) return index;
    }
  }

  static void validate(std::string_view utf8) {
    std::size_t bad = 0;
    const std::int64_t chars = detail::utf8_count(utf8, bad);
    if (chars < 0)
      throw AtomError(AtomError::Kind::InvalidUtf8,
                      "atom text is not valid UTF-8 (byte " + std::to_string(bad) + ")");
    if (static_cast<std::size_t>(chars) > kMaxAtomChars)
      throw AtomError(AtomError::Kind::TooLong, "atom has " + std::to_string(chars) +
                                                    " characters; the limit is 255");
  }

  std::uint32_t insert(std::string_view utf8, std::uint64_t hash) {
    std::lock_guard lock(insert_mutex_);
    Index* ix = index_.load(std::memory_order_relaxed);
    if (auto found = find(utf8, hash, *ix)) return *found;
    const std::size_t n = count_.load(std::memory_order_relaxed);
    if (n >= limit())
      throw AtomError(AtomError::Kind::TableFull,
                      "atom table full (" + std::to_string(n) + " atoms, the configured limit)");

    const auto index = static_cast<std::uint32_t>(n);
    std::uint32_t chunk_no = index >> kChunkBits;
    if (chunks_[chunk_no].load(std::memory_order_relaxed) == nullptr)
      chunks_[chunk_no].store(new AtomEntry*[kChunkSize](), std::memory_order_release);
    chunks_[chunk_no].load(std::memory_order_relaxed)[index & (kChunkSize - 1)] = new_entry(utf8, hash);

    if ((n + 1) * 2 > ix->mask + 1) ix = grow(*ix);
    place(*ix, hash, index);
    count_.store(n + 1, std::memory_order_release);
    return index;
  }

  AtomEntry* new_entry(std::string_view utf8, std::uint64_t hash) {
    const std::size_t bytes = (offsetof(AtomEntry, text) + utf8.size() + 1 + 7) & ~std::size_t{7};
    if (arena_left_ < bytes) {
      arena_blocks_.push_back(std::make_unique<std::byte[]>(kArenaBlock));
      arena_next_ = arena_blocks_.back().get();
      arena_left_ = kArenaBlock;
    }
    auto* e = new (arena_next_) AtomEntry;
    arena_next_ += bytes;
    arena_left_ -= bytes;
    e->hash = hash;
    e->size = static_cast<std::uint32_t>(utf8.size());
    e->latin1 = true;
    for (std::size_t pos = 0; pos < utf8.size();)
      if (detail::utf8_next(utf8, pos) > 0xFF) e->latin1 = false;
    e->bare = prints_bare(utf8);
    if (!utf8.empty()) std::memcpy(e->text, utf8.data(), utf8.size());
    e->text[utf8.size()] = '\0';
    return e;
  }

  static void place(Index& ix, std::uint64_t hash, std::uint32_t index) {
    std::size_t i = hash & ix.mask;
    while (ix.slots[i].load(std::memory_order_relaxed) != 0) i = (i + 1) & ix.mask;
    ix.slots[i].store(((hash >> 32) << 32) | (std::uint64_t{index} + 1), std::memory_order_release);
  }

  Index* grow(const Index& old) {
    Index* bigger = make_index((old.mask + 1) * 2);
    for (std::size_t i = 0; i <= old.mask; ++i) {
      const std::uint64_t slot = old.slots[i].load(std::memory_order_relaxed);
      if (slot != 0) {
        const auto index = static_cast<std::uint32_t>(slot) - 1;
        place(*bigger, entry(index).hash, index);
      }
    }
    // Readers may still be probing the old array: keep it alive (it is at most
    // half the size of the new one, so retired arrays cost less than the live one).
    retired_.emplace_back(index_.load(std::memory_order_relaxed));
    index_.store(bigger, std::memory_order_release);
    return bigger;
  }

  static constexpr std::size_t kArenaBlock = 64 * 1024;

  std::atomic<AtomEntry**> chunks_[kMaxChunks] = {};
  std::atomic<Index*> index_{nullptr};
  std::atomic<std::size_t> count_{0};
  std::atomic<std::size_t> limit_{kDefaultLimit};
  mutable std::mutex insert_mutex_;
  std::vector<std::unique_ptr<Index>> retired_;
  std::vector<std::unique_ptr<std::byte[]>> arena_blocks_;
  std::byte* arena_next_ = nullptr;
  std::size_t arena_left_ = 0;
};

}  // namespace

Atom::Atom(std::string_view utf8) : index_(AtomTable::instance().intern(utf8)) {}

Atom Atom::from_latin1(std::string_view latin1) {
  const bool ascii = std::all_of(latin1.begin(), latin1.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  return ascii ? Atom(latin1) : Atom(detail::latin1_to_utf8(latin1));
}

std::optional<Atom> Atom::existing(std::string_view utf8) noexcept {
  if (auto index = AtomTable::instance().existing(utf8)) return from_index(*index);
  return std::nullopt;
}

std::string_view Atom::text() const noexcept {
  const AtomEntry& e = AtomTable::instance().entry(index_);
  return {e.text, e.size};
}

bool Atom::is_latin1() const noexcept { return AtomTable::instance().entry(index_).latin1; }
bool Atom::prints_bare() const noexcept { return AtomTable::instance().entry(index_).bare; }

std::strong_ordering Atom::operator<=>(const Atom& other) const noexcept {
  if (index_ == other.index_) return std::strong_ordering::equal;
  const int c = text().compare(other.text());
  return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
}

std::size_t atom_count() noexcept { return AtomTable::instance().count(); }
std::size_t atom_limit() noexcept { return AtomTable::instance().limit(); }
void set_atom_limit(std::size_t limit) { AtomTable::instance().set_limit(limit); }
std::size_t max_atom_limit() noexcept { return kHardLimit; }

}  // namespace spindle
