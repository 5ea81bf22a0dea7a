#include "core/dedup.hpp"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

namespace salesflow::core {
namespace {

constexpr std::size_t kInitialSlots = 1024;

bool is_empty(const Digest128& slot) {
  return slot.low == 0 && slot.high == 0;
}

// Inserts into a power-of-two table with linear probing; grows at half full.
bool insert(std::vector<Digest128>& table, std::size_t& count, const Digest128& value) {
  if ((count + 1) * 2 > table.size()) {
    std::vector<Digest128> grown(table.empty() ? kInitialSlots : table.size() * 2);
    const std::size_t mask = grown.size() - 1;
    for (const Digest128& old : table) {
      if (is_empty(old)) continue;
      std::size_t slot = old.low & mask;
      while (!is_empty(grown[slot])) slot = (slot + 1) & mask;
      grown[slot] = old;
    }
    table = std::move(grown);
  }
  const std::size_t mask = table.size() - 1;
  std::size_t slot = value.low & mask;
  while (!is_empty(table[slot])) {
    if (table[slot] == value) return false;
    slot = (slot + 1) & mask;
  }
  table[slot] = value;
  ++count;
  return true;
}

}  // namespace

// A reusable OpenSSL digest context (fetching the algorithm once).
struct DuplicateTracker::Hasher {
  Hasher() : md(EVP_MD_fetch(nullptr, "SHA256", nullptr)), context(EVP_MD_CTX_new()) {}
  ~Hasher() {
    EVP_MD_CTX_free(context);
    EVP_MD_free(md);
  }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  EVP_MD* md;
  EVP_MD_CTX* context;
};

DuplicateTracker::DuplicateTracker() : hasher_(std::make_unique<Hasher>()) {}
DuplicateTracker::~DuplicateTracker() = default;
DuplicateTracker::DuplicateTracker(DuplicateTracker&&) noexcept = default;
DuplicateTracker& DuplicateTracker::operator=(DuplicateTracker&&) noexcept = default;

Digest128 DuplicateTracker::digest(std::string_view text) {
  unsigned char full[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (hasher_->md == nullptr || hasher_->context == nullptr ||
      EVP_DigestInit_ex2(hasher_->context, hasher_->md, nullptr) != 1 ||
      EVP_DigestUpdate(hasher_->context, text.data(), text.size()) != 1 ||
      EVP_DigestFinal_ex(hasher_->context, full, &length) != 1) {
    // Without SHA-256 the process cannot keep its guarantees at all.
    std::abort();
  }
  Digest128 result;
  std::memcpy(&result.low, full, 8);
  std::memcpy(&result.high, full + 8, 8);
  if (is_empty(result)) result.low = 1;  // keep the empty-slot marker free
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
  if (!insert_record(digest(trimmed_raw))) return Seen::same_record;
  if (key.empty()) return Seen::first;
  return insert_key(digest(key)) ? Seen::first : Seen::same_key_different_record;
}

std::size_t DuplicateTracker::memory_bytes() const {
  return (records_.capacity() + keys_.capacity()) * sizeof(Digest128);
}

}  // namespace salesflow::core
