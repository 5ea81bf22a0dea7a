#include "core/detail/duplicate_tracker.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

namespace salesflow::core {
namespace {

constexpr std::size_t kInitialSlots = 1024;

bool is_empty(const Digest128& slot) {
  return slot.low == 0 && slot.high == 0;
}

// Keys held as they are share prefixes, so the slot mixes all 128 bits.
std::size_t slot_of(const Digest128& value, std::size_t mask) {
  std::uint64_t mix = value.low ^ (value.high * 0x9E3779B97F4A7C15ULL);
  mix ^= mix >> 31;
  mix *= 0xBF58476D1CE4E5B9ULL;
  mix ^= mix >> 29;
  return static_cast<std::size_t>(mix) & mask;
}

bool contains(const std::vector<Digest128>& table, const Digest128& value) {
  if (table.empty()) return false;
  const std::size_t mask = table.size() - 1;
  for (std::size_t slot = slot_of(value, mask); !is_empty(table[slot]); slot = (slot + 1) & mask) {
    if (table[slot] == value) return true;
  }
  return false;
}

// Inserts into a power-of-two table with linear probing; grows at half full.
bool insert(std::vector<Digest128>& table, std::size_t& count, const Digest128& value) {
  if ((count + 1) * 2 > table.size()) {
    std::vector<Digest128> grown(table.empty() ? kInitialSlots : table.size() * 2);
    const std::size_t mask = grown.size() - 1;
    for (const Digest128& old : table) {
      if (is_empty(old)) continue;
      std::size_t slot = slot_of(old, mask);
      while (!is_empty(grown[slot])) slot = (slot + 1) & mask;
      grown[slot] = old;
    }
    table = std::move(grown);
  }
  const std::size_t mask = table.size() - 1;
  std::size_t slot = slot_of(value, mask);
  while (!is_empty(table[slot])) {
    if (table[slot] == value) return false;
    slot = (slot + 1) & mask;
  }
  table[slot] = value;
  ++count;
  return true;
}

}  // namespace

// The digest is AES-128-GCM's authentication tag over the text as additional
// data (GMAC): GHASH, a polynomial hash keyed by a secret, then masked. With a
// fresh random key per tracker the chance that two different texts of at most
// L 16-byte blocks get one digest is at most (L + 1) / 2^128, whatever the
// texts, because whoever wrote them cannot know the key (it never leaves the
// process). That is the guarantee a cryptographic hash gives here, at 2-3x
// SHA-256's speed on 1 KB records (AES-NI and carry-less multiply; bench/README.md).
// The IV is fixed: the tags are never shown to anyone, so IV reuse reveals nothing.
struct DuplicateTracker::Hasher {
  Hasher()
      : cipher(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr)), context(EVP_CIPHER_CTX_new()) {
    unsigned char key[16];
    if (cipher == nullptr || context == nullptr || RAND_bytes(key, sizeof key) != 1 ||
        EVP_EncryptInit_ex2(context, cipher, key, kIv, nullptr) != 1) {
      // Without its digest the tracker cannot keep its guarantees at all.
      std::abort();
    }
    OPENSSL_cleanse(key, sizeof key);
  }
  ~Hasher() {
    EVP_CIPHER_CTX_free(context);
    EVP_CIPHER_free(cipher);
  }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  Digest128 digest(std::string_view text) {
    unsigned char tag[16];
    int written = 0;
    if (EVP_EncryptInit_ex2(context, nullptr, nullptr, kIv, nullptr) != 1 ||
        (!text.empty() && EVP_EncryptUpdate(context, nullptr, &written,
                                            reinterpret_cast<const unsigned char*>(text.data()),
                                            static_cast<int>(text.size())) != 1) ||
        EVP_EncryptFinal_ex(context, tag, &written) != 1 ||
        EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, sizeof tag, tag) != 1) {
      std::abort();
    }
    Digest128 result;
    std::memcpy(&result.low, tag, 8);
    std::memcpy(&result.high, tag + 8, 8);
    return result;
  }

  static constexpr unsigned char kIv[12] = {};
  EVP_CIPHER* cipher;
  EVP_CIPHER_CTX* context;
};

DuplicateTracker::DuplicateTracker() : hasher_(std::make_unique<Hasher>()) {}
DuplicateTracker::~DuplicateTracker() = default;
DuplicateTracker::DuplicateTracker(DuplicateTracker&&) noexcept = default;
DuplicateTracker& DuplicateTracker::operator=(DuplicateTracker&&) noexcept = default;

// Hashed digests have the top bit set; a key of at most 15 bytes is instead
// its own digest, bytes then length (the top byte is 0..15): exact, no hashing
// for the usual short order ids, and never equal to a hashed digest or to the
// all-zero empty slot (an empty key is never claimed).
Digest128 DuplicateTracker::digest(std::string_view text) {
  Digest128 result = hasher_->digest(text);
  result.high |= std::uint64_t{1} << 63;
  return result;
}

Digest128 DuplicateTracker::key_digest(std::string_view key) {
  if (key.size() > 15) return digest(key);
  unsigned char bytes[16] = {};
  std::memcpy(bytes, key.data(), key.size());
  Digest128 result;
  std::memcpy(&result.low, bytes, 8);
  std::memcpy(&result.high, bytes + 8, 8);
  result.high = (result.high & ~(std::uint64_t{0xFF} << 56)) | (std::uint64_t{key.size()} << 56);
  return result;
}

bool DuplicateTracker::insert_record(const Digest128& record) {
  return insert(records_, record_count_, record);
}

bool DuplicateTracker::insert_key(const Digest128& key) {
  return insert(keys_, key_count_, key);
}

DuplicateTracker::Seen DuplicateTracker::observe(std::string_view key,
                                                 std::string_view trimmed_raw) {
  const Digest128 record = digest(trimmed_raw);
  if (contains(records_, record)) return Seen::same_record;
  // A clash is not remembered: a repeat of it is rejected again, in its own envelope.
  if (!key.empty() && !insert_key(key_digest(key))) return Seen::same_key_different_record;
  insert_record(record);
  return Seen::first;
}

std::size_t DuplicateTracker::memory_bytes() const {
  return (records_.capacity() + keys_.capacity()) * sizeof(Digest128);
}

}  // namespace salesflow::core
