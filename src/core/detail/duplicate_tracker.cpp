#include "core/detail/duplicate_tracker.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <span>

namespace salesflow::core {
namespace {

constexpr std::size_t kInitialSlots = 1024;
constexpr std::size_t kMinimumSlots = 16;
constexpr std::size_t kMinimumBlockEntries = 128;  // 4 KB: one page per lookup
constexpr std::size_t kMinimumMergeChunk = 128;

// A key digest and the digest of the record that claimed it. An all-zero key
// marks an empty slot: no key digest is zero (see key_digest).
struct Entry {
  Digest128 key;
  Digest128 record;
};
static_assert(sizeof(Entry) == 32);

bool is_empty(const Entry& slot) {
  return slot.key.low == 0 && slot.key.high == 0;
}

// The order of runs: any total order works; high word first.
bool key_less(const Digest128& a, const Digest128& b) {
  return a.high != b.high ? a.high < b.high : a.low < b.low;
}

std::uint64_t mix64(std::uint64_t value) {
  value ^= value >> 31;
  value *= 0xBF58476D1CE4E5B9ULL;
  value ^= value >> 29;
  value *= 0x94D049BB133111EBULL;
  value ^= value >> 32;
  return value;
}

// Keys held as they are share prefixes, so the hash mixes all 128 bits.
std::uint64_t hash_of(const Digest128& key) {
  return mix64(key.low ^ (key.high * 0x9E3779B97F4A7C15ULL));
}

std::span<const std::byte> bytes_of(std::span<const Entry> entries) {
  return std::as_bytes(entries);
}

std::span<std::byte> bytes_of(std::span<Entry> entries) {
  return std::as_writable_bytes(entries);
}

// The open-addressing table of entries not yet spilled.
class EntryTable {
 public:
  explicit EntryTable(std::size_t max_slots) : max_slots_(max_slots) {}

  const Entry* find(const Digest128& key) const {
    if (slots_.empty()) return nullptr;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hash_of(key) & mask; !is_empty(slots_[slot]);
         slot = (slot + 1) & mask) {
      if (slots_[slot].key == key) return &slots_[slot];
    }
    return nullptr;
  }

  // Whether one more entry fits without spilling (growing the table if it may).
  bool make_room() {
    if ((count_ + 1) * 4 <= slots_.size() * 3) return true;
    if (slots_.size() >= max_slots_) return false;
    grow();
    return true;
  }

  // `entry.key` must be absent, and make_room() true.
  void insert(const Entry& entry) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t slot = hash_of(entry.key) & mask;
    while (!is_empty(slots_[slot])) slot = (slot + 1) & mask;
    slots_[slot] = entry;
    ++count_;
  }

  // The entries, sorted by key, at the front of the slots; the table is
  // unusable for lookups until clear().
  std::span<const Entry> sort_for_spill() {
    const auto end = std::partition(slots_.begin(), slots_.end(),
                                    [](const Entry& slot) { return !is_empty(slot); });
    std::sort(slots_.begin(), end,
              [](const Entry& a, const Entry& b) { return key_less(a.key, b.key); });
    return {slots_.data(), count_};
  }

  // Empties the table, keeping its slots (and their pages).
  void clear() {
    std::fill(slots_.begin(), slots_.end(), Entry{});
    count_ = 0;
  }

  std::size_t count() const { return count_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Entry); }

 private:
  void grow() {
    std::vector<Entry> grown(slots_.empty() ? std::min(kInitialSlots, max_slots_)
                                            : slots_.size() * 2);
    const std::size_t mask = grown.size() - 1;
    for (const Entry& old : slots_) {
      if (is_empty(old)) continue;
      std::size_t slot = hash_of(old.key) & mask;
      while (!is_empty(grown[slot])) slot = (slot + 1) & mask;
      grown[slot] = old;
    }
    slots_ = std::move(grown);
  }

  std::vector<Entry> slots_;  // a power of two, or empty
  std::size_t count_ = 0;
  std::size_t max_slots_;
};

// A blocked Bloom filter over the spilled keys: each key sets 3 bits in one
// 64-byte block, so a probe costs one cache line. Its size is fixed, so its
// false-positive rate rises with the keys it holds (~1% at 13 bits per key,
// ~30% at 2.7); it never says "absent" for a key it holds.
class KeyFilter {
 public:
  explicit KeyFilter(std::size_t bytes) : blocks_(std::max<std::size_t>(1, bytes / 64)) {}

  void add(const Digest128& key) {
    const auto [block, bits] = locate(key);
    for (int word = 0; word < 8; ++word) blocks_[block].words[word] |= bits.words[word];
  }

  bool may_contain(const Digest128& key) const {
    const auto [block, bits] = locate(key);
    for (int word = 0; word < 8; ++word) {
      if ((blocks_[block].words[word] & bits.words[word]) != bits.words[word]) return false;
    }
    return true;
  }

  std::size_t memory_bytes() const { return blocks_.capacity() * sizeof(Block); }

 private:
  struct Block {
    std::uint64_t words[8] = {};
  };

  std::pair<std::size_t, Block> locate(const Digest128& key) const {
    const std::uint64_t first = hash_of(key);
    const std::uint64_t second = mix64(first ^ key.high);
    // The high 32 bits, scaled to the block count (no division).
    const auto block = static_cast<std::size_t>(((first >> 32) * blocks_.size()) >> 32);
    Block bits;
    for (int i = 0; i < 3; ++i) {
      const auto bit = static_cast<unsigned>((second >> (i * 9)) & 511U);
      bits.words[bit / 64] |= std::uint64_t{1} << (bit % 64);
    }
    return {block, bits};
  }

  std::vector<Block> blocks_;
};

// One sorted run on disk and its fence index in memory.
struct Run {
  std::unique_ptr<base::ScratchFile> file;
  std::size_t entries = 0;
  std::size_t block_entries = kMinimumBlockEntries;
  std::vector<Digest128> fences;  // the first key of each block
};

// Appends sorted entries to a new run, building its fence index.
class RunWriter {
 public:
  RunWriter(std::unique_ptr<base::ScratchFile> file, std::size_t block_entries) {
    run_.file = std::move(file);
    run_.block_entries = block_entries;
  }

  tl::expected<void, base::FileError> append(std::span<const Entry> entries) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if ((run_.entries + i) % run_.block_entries == 0) run_.fences.push_back(entries[i].key);
    }
    run_.entries += entries.size();
    return run_.file->append(bytes_of(entries));
  }

  Run finish() && {
    run_.fences.shrink_to_fit();
    return std::move(run_);
  }

 private:
  Run run_;
};

// Reads one run front to back in chunks, for a merge.
class RunCursor {
 public:
  RunCursor(Run& run, std::size_t chunk_entries) : run_(&run), chunk_(chunk_entries) {}

  // Loads the first chunk (none of an empty run).
  tl::expected<void, base::FileError> start() { return refill(); }
  bool done() const { return position_ == buffer_.size(); }
  const Entry& head() const { return buffer_[position_]; }
  tl::expected<void, base::FileError> pop() {
    ++position_;
    return done() ? refill() : tl::expected<void, base::FileError>{};
  }

 private:
  tl::expected<void, base::FileError> refill() {
    const std::size_t left = run_->entries - next_;
    buffer_.resize(std::min(chunk_, left));
    position_ = 0;
    if (buffer_.empty()) return {};
    auto read = run_->file->read_at(next_ * sizeof(Entry), bytes_of(std::span<Entry>(buffer_)));
    next_ += buffer_.size();
    return read;
  }

  Run* run_;
  std::size_t chunk_;
  std::size_t next_ = 0;  // the first entry not yet loaded
  std::vector<Entry> buffer_;
  std::size_t position_ = 0;
};

// The digest is AES-128-GCM's authentication tag over the text as additional
// data (GMAC): GHASH, a polynomial hash keyed by a secret, then masked. With a
// fresh random key per tracker the chance that two different texts of at most
// L 16-byte blocks get one digest is at most (L + 1) / 2^128, whatever the
// texts, because whoever wrote them cannot know the key (it never leaves the
// process). That is the guarantee a cryptographic hash gives here, at 2-3x
// SHA-256's speed on 1 KB records (AES-NI and carry-less multiply; bench/README.md).
// The IV is fixed: the tags are never shown to anyone, so IV reuse reveals nothing.
class Hasher {
 public:
  Hasher()
      : cipher_(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr)), context_(EVP_CIPHER_CTX_new()) {
    unsigned char key[16];
    if (cipher_ == nullptr || context_ == nullptr || RAND_bytes(key, sizeof key) != 1 ||
        EVP_EncryptInit_ex2(context_, cipher_, key, kIv, nullptr) != 1) {
      // Without its digest the tracker cannot keep its guarantees at all.
      std::abort();
    }
    OPENSSL_cleanse(key, sizeof key);
  }
  ~Hasher() {
    EVP_CIPHER_CTX_free(context_);
    EVP_CIPHER_free(cipher_);
  }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  Digest128 digest(std::string_view text) {
    unsigned char tag[16];
    int written = 0;
    if (EVP_EncryptInit_ex2(context_, nullptr, nullptr, kIv, nullptr) != 1 ||
        (!text.empty() && EVP_EncryptUpdate(context_, nullptr, &written,
                                            reinterpret_cast<const unsigned char*>(text.data()),
                                            static_cast<int>(text.size())) != 1) ||
        EVP_EncryptFinal_ex(context_, tag, &written) != 1 ||
        EVP_CIPHER_CTX_ctrl(context_, EVP_CTRL_GCM_GET_TAG, sizeof tag, tag) != 1) {
      std::abort();
    }
    Digest128 result;
    std::memcpy(&result.low, tag, 8);
    std::memcpy(&result.high, tag + 8, 8);
    return result;
  }

 private:
  static constexpr unsigned char kIv[12] = {};
  EVP_CIPHER* cipher_;
  EVP_CIPHER_CTX* context_;
};

}  // namespace

struct DuplicateTracker::State {
  explicit State(DuplicateTrackingOptions options)
      : budget(options.memory_budget_bytes),
        scratch(std::move(options.scratch)),
        table(budget == 0 ? SIZE_MAX : table_slots(budget)) {}

  // The largest power of two of entries in half the budget.
  static std::size_t table_slots(std::size_t budget) {
    return std::max(kMinimumSlots, std::bit_floor(budget / 2 / sizeof(Entry)));
  }

  // Hashed digests have the top bit set; a key of at most 15 bytes is instead
  // its own digest, bytes then length (the top byte is 1..15): exact, no
  // hashing for the usual short order ids, and never equal to a hashed digest
  // or to the all-zero empty slot. A record without a key is identified by
  // its text: its record digest with bit 62 flipped, apart from its own
  // record digest (and from a long key's digest but with probability 2^-127).
  Digest128 record_digest(std::string_view text) {
    Digest128 result = hasher.digest(text);
    result.high |= std::uint64_t{1} << 63;
    return result;
  }

  Digest128 key_digest(std::string_view key, const Digest128& record) {
    if (key.empty()) return Digest128{record.low, record.high ^ (std::uint64_t{1} << 62)};
    if (key.size() > 15) return record_digest(key);
    unsigned char bytes[16] = {};
    std::memcpy(bytes, key.data(), key.size());
    Digest128 result;
    std::memcpy(&result.low, bytes, 8);
    std::memcpy(&result.high, bytes + 8, 8);
    result.high = (result.high & ~(std::uint64_t{0xFF} << 56)) | (std::uint64_t{key.size()} << 56);
    return result;
  }

  // The record digest stored under `key` on disk, if any.
  tl::expected<std::optional<Digest128>, base::FileError> find_spilled(const Digest128& key) {
    if (runs.empty() || !filter->may_contain(key)) return std::nullopt;
    for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
      auto found = find_in_run(*run, key);
      if (!found || found->has_value()) return found;
    }
    return std::nullopt;
  }

  tl::expected<std::optional<Digest128>, base::FileError> find_in_run(Run& run,
                                                                      const Digest128& key) {
    const auto after = std::upper_bound(run.fences.begin(), run.fences.end(), key, key_less);
    if (after == run.fences.begin()) return std::nullopt;
    const auto block = static_cast<std::size_t>(after - run.fences.begin()) - 1;
    const std::size_t first = block * run.block_entries;
    block_buffer.resize(std::min(run.block_entries, run.entries - first));
    auto read = run.file->read_at(first * sizeof(Entry), bytes_of(std::span<Entry>(block_buffer)));
    if (!read) return tl::make_unexpected(read.error());
    const auto at = std::lower_bound(
        block_buffer.begin(), block_buffer.end(), key,
        [](const Entry& entry, const Digest128& wanted) { return key_less(entry.key, wanted); });
    if (at == block_buffer.end() || !(at->key == key)) return std::nullopt;
    return at->record;
  }

  // Entries per block of a run built when `spilled` records are on disk:
  // fence index i gets at most (budget / 16) * entries_i / spilled_i bytes,
  // and since each run is larger than all newer ones together, the sum of
  // entries_i / spilled_i over the runs stays below 2: all fences within 1/8.
  std::size_t block_entries_for(std::size_t spilled) const {
    const std::size_t fence_share = std::max<std::size_t>(1, budget / 16);
    const std::size_t wanted = (spilled * sizeof(Digest128) + fence_share - 1) / fence_share;
    return std::bit_ceil(std::max(kMinimumBlockEntries, wanted));
  }

  tl::expected<std::unique_ptr<base::ScratchFile>, base::FileError> create_file() {
    if (scratch == nullptr) {
      return tl::make_unexpected(
          base::FileError{base::FileError::Operation::create, ENOENT, "(no scratch directory)"});
    }
    return scratch->create();
  }

  // Writes the table out as a run, empties it, then merges runs as needed.
  tl::expected<void, base::FileError> spill() {
    const std::span<const Entry> sorted = table.sort_for_spill();
    if (filter == nullptr) filter = std::make_unique<KeyFilter>(budget / 4);
    auto file = create_file();
    if (!file) return tl::make_unexpected(file.error());
    spilled += sorted.size();
    RunWriter writer(std::move(*file), block_entries_for(spilled));
    if (auto written = writer.append(sorted); !written) return written;
    for (const Entry& entry : sorted) filter->add(entry.key);
    runs.push_back(std::move(writer).finish());
    table.clear();
    return merge_if_needed();
  }

  // Restores "each run holds more entries than all newer runs together": the
  // oldest run breaking it is merged with every newer one, in one pass.
  tl::expected<void, base::FileError> merge_if_needed() {
    std::size_t newer = 0;
    std::optional<std::size_t> oldest_breaking;
    for (std::size_t i = runs.size(); i-- > 0;) {
      if (i + 1 < runs.size() && runs[i].entries <= newer) oldest_breaking = i;
      newer += runs[i].entries;
    }
    if (!oldest_breaking) return {};
    return merge_from(*oldest_breaking);
  }

  tl::expected<void, base::FileError> merge_from(std::size_t first) {
    const std::size_t inputs = runs.size() - first;
    const std::size_t chunk =
        std::max(kMinimumMergeChunk, budget / 8 / (inputs + 1) / sizeof(Entry));
    std::vector<RunCursor> cursors;
    cursors.reserve(inputs);
    for (std::size_t i = first; i < runs.size(); ++i) {
      cursors.emplace_back(runs[i], chunk);
      if (auto started = cursors.back().start(); !started) return started;
    }
    auto file = create_file();
    if (!file) return tl::make_unexpected(file.error());
    RunWriter writer(std::move(*file), block_entries_for(spilled));
    std::vector<Entry> out;
    out.reserve(chunk);
    for (;;) {
      // Few runs (log2 of the spills): a scan for the smallest head beats a heap.
      RunCursor* smallest = nullptr;
      for (RunCursor& cursor : cursors) {
        if (!cursor.done() &&
            (smallest == nullptr || key_less(cursor.head().key, smallest->head().key))) {
          smallest = &cursor;
        }
      }
      if (smallest == nullptr || out.size() == chunk) {
        if (auto written = writer.append(out); !written) return written;
        out.clear();
        if (smallest == nullptr) break;
      }
      out.push_back(smallest->head());
      if (auto popped = smallest->pop(); !popped) return popped;
    }
    cursors.clear();
    runs.erase(runs.begin() + static_cast<std::ptrdiff_t>(first), runs.end());
    runs.push_back(std::move(writer).finish());
    return {};
  }

  tl::expected<Seen, DuplicateTrackingError> observe(std::string_view key_text,
                                                     std::string_view trimmed_raw) {
    if (failure) return tl::make_unexpected(*failure);
    const Digest128 record = record_digest(trimmed_raw);
    const Digest128 key = key_digest(key_text, record);
    // A clash is not remembered: a repeat of it is rejected again, in its own envelope.
    if (const Entry* entry = table.find(key); entry != nullptr) {
      return entry->record == record ? Seen::same_record : Seen::same_key_different_record;
    }
    auto spilled_record = find_spilled(key);
    if (!spilled_record) return fail(spilled_record.error());
    if (*spilled_record) {
      return **spilled_record == record ? Seen::same_record : Seen::same_key_different_record;
    }
    if (!table.make_room()) {
      if (auto spilled_table = spill(); !spilled_table) return fail(spilled_table.error());
      if (!table.make_room()) std::abort();  // an empty table always has room
    }
    table.insert(Entry{key, record});
    return Seen::first;
  }

  tl::unexpected<DuplicateTrackingError> fail(base::FileError error) {
    failure = DuplicateTrackingError{std::move(error)};
    return tl::make_unexpected(*failure);
  }

  std::size_t memory_bytes() const {
    std::size_t bytes = table.memory_bytes() + block_buffer.capacity() * sizeof(Entry);
    if (filter != nullptr) bytes += filter->memory_bytes();
    for (const Run& run : runs) bytes += run.fences.capacity() * sizeof(Digest128);
    return bytes;
  }

  std::size_t budget;  // 0: none
  std::shared_ptr<base::ScratchSpace> scratch;
  Hasher hasher;
  EntryTable table;
  std::unique_ptr<KeyFilter> filter;              // made at the first spill
  std::vector<Run> runs;                          // oldest first
  std::size_t spilled = 0;                        // entries in runs
  std::vector<Entry> block_buffer;                // one block of a run, being searched
  std::optional<DuplicateTrackingError> failure;  // once set, every call answers it
};

DuplicateTracker::DuplicateTracker(DuplicateTrackingOptions options)
    : state_(std::make_unique<State>(std::move(options))) {}
DuplicateTracker::~DuplicateTracker() = default;
DuplicateTracker::DuplicateTracker(DuplicateTracker&&) noexcept = default;
DuplicateTracker& DuplicateTracker::operator=(DuplicateTracker&&) noexcept = default;

tl::expected<DuplicateTracker::Seen, DuplicateTrackingError> DuplicateTracker::observe(
    std::string_view key, std::string_view trimmed_raw) {
  return state_->observe(key, trimmed_raw);
}

std::size_t DuplicateTracker::records_seen() const {
  return state_->table.count() + state_->spilled;
}
std::size_t DuplicateTracker::spilled_runs() const {
  return state_->runs.size();
}
std::size_t DuplicateTracker::spilled_records() const {
  return state_->spilled;
}
std::size_t DuplicateTracker::memory_bytes() const {
  return state_->memory_bytes();
}

}  // namespace salesflow::core
