#include "core/detail/value_scan.hpp"

#include <emmintrin.h>
#include <immintrin.h>

namespace salesflow::core {

namespace {

// The scan's state at a 64-byte block boundary, in the form the masks use.
struct BlockCarry {
  std::uint64_t depth;
  std::uint64_t in_string;  // all ones when the block starts inside a string
  std::uint64_t escape;     // 1 when the block's first byte is escaped
};

constexpr std::size_t kGoesOn = ~std::size_t{0};
constexpr std::uint64_t kEvenBits = 0x5555555555555555ULL;

// Bytes of a block that follow an odd run of backslashes, as if every
// backslash were inside a string; `carry` is 1 when the block's first byte is
// escaped by a run from the block before, and comes back as whether the last
// run escapes the next block's first byte. Adding a run's first bit to the
// backslash mask ripples through the run and lands just past it, so the run's
// length parity is the parity of where it started against where it ended.
inline std::uint64_t escaped_bytes(std::uint64_t backslashes, std::uint64_t& carry) {
  const std::uint64_t escaped_first = carry;
  const std::uint64_t runs = backslashes & ~escaped_first;  // an escaped backslash starts no run
  const std::uint64_t starts = runs & ~(runs << 1);
  const std::uint64_t from_even = runs + (starts & kEvenBits);
  std::uint64_t from_odd = 0;
  // Only a run from an odd bit that reaches bit 63 has odd length and so
  // escapes past the block.
  carry = __builtin_add_overflow(runs, starts & ~kEvenBits, &from_odd) ? 1 : 0;
  return (((from_even & ~kEvenBits) | (from_odd & kEvenBits)) & ~runs) | escaped_first;
}

// The byte machine over one block, for the blocks the masks cannot describe.
// Returns the offset just past the byte that ends the value, or kGoesOn.
std::size_t scan_block_bytes(const char* block, BlockCarry& carry) {
  bool in_string = carry.in_string != 0;
  bool escape = carry.escape != 0;
  std::uint64_t depth = carry.depth;
  for (std::size_t i = 0; i < 64; ++i) {
    const char c = block[i];
    if (escape) {
      escape = false;
    } else if (in_string) {
      if (c == '\\') {
        escape = true;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) return i + 1;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1;
    }
  }
  carry = BlockCarry{depth, in_string ? ~std::uint64_t{0} : 0, escape ? 1U : 0U};
  return kGoesOn;
}

// Follows the depth through a block's brackets outside strings, in order.
// Returns the offset just past the bracket that closes the value, or kGoesOn.
inline std::size_t visit_brackets(const char* block, std::uint64_t brackets, std::uint64_t& depth) {
  for (; brackets != 0; brackets &= brackets - 1) {
    const auto bit = static_cast<std::size_t>(__builtin_ctzll(brackets));
    // '{' and '[' have bit 1 set, '}' and ']' do not.
    depth += (block[bit] & 2) != 0 ? 1 : ~std::uint64_t{0};
    if (depth == 0) return bit + 1;
  }
  return kGoesOn;
}

// Scans whole 64-byte blocks from `pos` while one is left, leaving `pos` at
// the first byte not scanned. Returns the index just past the byte that ends
// the value, or kGoesOn. Per block: bit masks of the quotes, backslashes and
// brackets; the escaped bytes from the backslash runs; the bytes inside
// strings as the prefix XOR of the unescaped quotes; then only the brackets
// outside strings are looked at. Where a backslash lies outside a string (in
// malformed input: the masks took it to escape its next byte) the block goes
// to the byte machine.
using BlockScanner = std::size_t (*)(const char* data, std::size_t& pos, std::size_t size,
                                     BlockCarry& carry);

inline std::uint64_t mask64(__m128i m0, __m128i m1, __m128i m2, __m128i m3) {
  const auto b0 = static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(m0)));
  const auto b1 = static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(m1)));
  const auto b2 = static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(m2)));
  const auto b3 = static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(m3)));
  return b0 | (b1 << 16) | (b2 << 32) | (b3 << 48);
}

inline std::uint64_t prefix_xor(std::uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// What is left of a block once its masks are known, before its brackets.
enum class BlockStep { brackets, next_block, ended };

// Both kernels: a backslash outside a string (malformed input only) sends the
// block through the byte machine, which treats it as the old splitter did; a
// string value at depth 0 ends at its first unescaped quote. Updates the
// carried state; `end` is set when the value ends in this block.
inline BlockStep settle_block(const char* block, std::uint64_t backslashes, std::uint64_t quotes,
                              std::uint64_t strings, std::uint64_t escape_in, std::uint64_t& depth,
                              std::uint64_t& in_string, std::uint64_t& escape, std::size_t& end) {
  if ((backslashes & ~strings) != 0) {
    BlockCarry bytes_carry{depth, in_string, escape_in};
    end = scan_block_bytes(block, bytes_carry);
    if (end != kGoesOn) return BlockStep::ended;
    depth = bytes_carry.depth;
    in_string = bytes_carry.in_string;
    escape = bytes_carry.escape;
    return BlockStep::next_block;
  }
  in_string = static_cast<std::uint64_t>(static_cast<std::int64_t>(strings) >> 63);
  if (depth != 0) return BlockStep::brackets;
  if (quotes == 0) return BlockStep::next_block;
  end = static_cast<std::size_t>(__builtin_ctzll(quotes)) + 1;
  return BlockStep::ended;
}

// Every x86-64 CPU: 16-byte compares, four movemasks per 64-bit mask, and the
// brackets visited one by one (counting them takes longer without POPCNT).
std::size_t scan_blocks_sse2(const char* data, std::size_t& pos, std::size_t size,
                             BlockCarry& carry) {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  // '[' | 0x20 == '{' and ']' | 0x20 == '}', and no other byte folds onto
  // either, so two compares find all four brackets.
  const __m128i case_bit = _mm_set1_epi8(0x20);
  const __m128i open = _mm_set1_epi8('{');
  const __m128i close = _mm_set1_epi8('}');
  // In locals: the block's bytes are chars, which may alias `carry`.
  std::uint64_t depth = carry.depth;
  std::uint64_t in_string = carry.in_string;
  std::uint64_t escape = carry.escape;
  std::size_t end = kGoesOn;
  for (; size - pos >= 64; pos += 64) {
    const char* block = data + pos;
    const __m128i bytes0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block));
    const __m128i bytes1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16));
    const __m128i bytes2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 32));
    const __m128i bytes3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 48));
    const __m128i backslashes0 = _mm_cmpeq_epi8(bytes0, backslash);
    const __m128i backslashes1 = _mm_cmpeq_epi8(bytes1, backslash);
    const __m128i backslashes2 = _mm_cmpeq_epi8(bytes2, backslash);
    const __m128i backslashes3 = _mm_cmpeq_epi8(bytes3, backslash);
    const std::uint64_t escape_in = escape;
    std::uint64_t backslashes = 0;
    std::uint64_t escaped = 0;
    // Most blocks hold no backslash, and one movemask tells.
    if (escape_in != 0 ||
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(backslashes0, backslashes1),
                                       _mm_or_si128(backslashes2, backslashes3))) != 0) {
      backslashes = mask64(backslashes0, backslashes1, backslashes2, backslashes3);
      escaped = escaped_bytes(backslashes, escape);
    }
    const std::uint64_t quotes =
        mask64(_mm_cmpeq_epi8(bytes0, quote), _mm_cmpeq_epi8(bytes1, quote),
               _mm_cmpeq_epi8(bytes2, quote), _mm_cmpeq_epi8(bytes3, quote)) &
        ~escaped;
    const std::uint64_t strings = prefix_xor(quotes) ^ in_string;
    const BlockStep step =
        settle_block(block, backslashes, quotes, strings, escape_in, depth, in_string, escape, end);
    if (step == BlockStep::ended) break;
    if (step == BlockStep::next_block) continue;
    const auto brackets_in = [&](__m128i bytes) {
      const __m128i folded = _mm_or_si128(bytes, case_bit);
      return _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close));
    };
    const std::uint64_t brackets =
        mask64(brackets_in(bytes0), brackets_in(bytes1), brackets_in(bytes2), brackets_in(bytes3));
    end = visit_brackets(block, brackets & ~strings, depth);
    if (end != kGoesOn) break;
  }
  if (end != kGoesOn) return pos + end;
  carry = BlockCarry{depth, in_string, escape};
  return kGoesOn;
}

// A target attribute rather than a build flag, so that the binary still runs
// on baseline x86-64: block_scanner takes this path only where the CPU has it.
#define SALESFLOW_AVX2_TARGET __attribute__((target("avx2,bmi,popcnt,pclmul")))

SALESFLOW_AVX2_TARGET inline std::uint64_t mask64_avx2(__m256i low, __m256i high) {
  return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(low))) |
         (static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(high))) << 32);
}

// CPUs with AVX2, BMI, POPCNT and PCLMUL (since 2013): 32-byte compares, the
// prefix XOR as one carry-less multiplication by all ones, and the brackets
// counted, so that they are visited one by one only in a block where the
// count of closing brackets reaches the depth.
SALESFLOW_AVX2_TARGET std::size_t scan_blocks_avx2(const char* data, std::size_t& pos,
                                                   std::size_t size, BlockCarry& carry) {
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i case_bit = _mm256_set1_epi8(0x20);
  const __m256i open = _mm256_set1_epi8('{');
  const __m256i close = _mm256_set1_epi8('}');
  const __m128i all_ones = _mm_set1_epi8(-1);
  std::uint64_t depth = carry.depth;
  std::uint64_t in_string = carry.in_string;
  std::uint64_t escape = carry.escape;
  std::size_t end = kGoesOn;
  for (; size - pos >= 64; pos += 64) {
    const char* block = data + pos;
    const __m256i low = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block));
    const __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32));
    const std::uint64_t backslashes =
        mask64_avx2(_mm256_cmpeq_epi8(low, backslash), _mm256_cmpeq_epi8(high, backslash));
    const std::uint64_t escape_in = escape;
    std::uint64_t escaped = 0;
    // A branch, not the arithmetic on every block: most blocks have no backslash.
    if ((backslashes | escape_in) != 0) escaped = escaped_bytes(backslashes, escape);
    const std::uint64_t quotes =
        mask64_avx2(_mm256_cmpeq_epi8(low, quote), _mm256_cmpeq_epi8(high, quote)) & ~escaped;
    const std::uint64_t strings =
        static_cast<std::uint64_t>(_mm_cvtsi128_si64(
            _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<long long>(quotes)), all_ones, 0))) ^
        in_string;
    const BlockStep step =
        settle_block(block, backslashes, quotes, strings, escape_in, depth, in_string, escape, end);
    if (step == BlockStep::ended) break;
    if (step == BlockStep::next_block) continue;
    const __m256i folded_low = _mm256_or_si256(low, case_bit);
    const __m256i folded_high = _mm256_or_si256(high, case_bit);
    const std::uint64_t opens =
        mask64_avx2(_mm256_cmpeq_epi8(folded_low, open), _mm256_cmpeq_epi8(folded_high, open)) &
        ~strings;
    const std::uint64_t closes =
        mask64_avx2(_mm256_cmpeq_epi8(folded_low, close), _mm256_cmpeq_epi8(folded_high, close)) &
        ~strings;
    const auto close_count = static_cast<std::uint64_t>(__builtin_popcountll(closes));
    if (depth > close_count) {
      depth += static_cast<std::uint64_t>(__builtin_popcountll(opens)) - close_count;
      continue;
    }
    end = visit_brackets(block, opens | closes, depth);
    if (end != kGoesOn) break;
  }
  if (end != kGoesOn) return pos + end;
  carry = BlockCarry{depth, in_string, escape};
  return kGoesOn;
}

#undef SALESFLOW_AVX2_TARGET

bool cpu_has_avx2_kernel() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("pclmul");
}

BlockScanner block_scanner(ScanIsa isa) {
  static const bool has_avx2 = cpu_has_avx2_kernel();
  return isa == ScanIsa::avx2 && has_avx2 ? scan_blocks_avx2 : scan_blocks_sse2;
}

}  // namespace

bool scan_isa_supported(ScanIsa isa) {
  return isa == ScanIsa::sse2 || block_scanner(ScanIsa::avx2) == scan_blocks_avx2;
}

std::size_t scan_value_end(ScanIsa isa, const char* data, std::size_t pos, std::size_t size,
                           NestingState& state, bool& ended) {
  ended = false;
  if (state.escape) {
    if (pos >= size) return size;
    state.escape = false;
    ++pos;
  }
  BlockCarry carry{state.depth, state.in_string ? ~std::uint64_t{0} : 0, 0};
  if (size - pos >= 64) {
    const std::size_t end = block_scanner(isa)(data, pos, size, carry);
    if (end != kGoesOn) {
      state = NestingState{0, false, false};
      ended = true;
      return end;
    }
  }
  std::uint64_t depth = carry.depth;
  bool in_string = carry.in_string != 0;
  if (carry.escape != 0) {
    if (pos >= size) {
      state = NestingState{depth, true, true};
      return size;
    }
    ++pos;
  }

  // The tail, shorter than a block (met once per chunk, so not worth masks):
  // 16 bytes at a time, then byte by byte.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i case_bit = _mm_set1_epi8(0x20);
  const __m128i open = _mm_set1_epi8('{');
  const __m128i close = _mm_set1_epi8('}');
  while (pos + 16 <= size) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos));
    const __m128i folded = _mm_or_si128(block, case_bit);
    const __m128i hits =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(block, quote), _mm_cmpeq_epi8(block, backslash)),
                     _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close)));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
    std::size_t next = pos + 16;
    while (mask != 0) {
      const auto bit = static_cast<unsigned>(__builtin_ctz(mask));
      mask &= mask - 1;
      const char c = data[pos + bit];
      if (in_string) {
        if (c == '"') {
          in_string = false;
          if (depth == 0) {
            state = NestingState{depth, false, false};
            ended = true;
            return pos + bit + 1;
          }
        } else if (c == '\\') {
          // The escaped byte is skipped, whatever it is.
          if (bit == 15) {
            next = pos + 17;
          } else {
            mask &= ~(1U << (bit + 1));
          }
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          state = NestingState{0, false, false};
          ended = true;
          return pos + bit + 1;
        }
      }
    }
    pos = next;
  }
  if (pos > size) {  // a backslash ended the data: its byte is still to come
    state = NestingState{depth, in_string, true};
    return size;
  }
  while (pos < size) {
    const char c = data[pos];
    if (in_string) {
      if (c == '"') {
        in_string = false;
        if (depth == 0) {
          state = NestingState{depth, false, false};
          ended = true;
          return pos + 1;
        }
      } else if (c == '\\') {
        if (pos + 1 >= size) {
          state = NestingState{depth, in_string, true};
          return size;
        }
        ++pos;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        state = NestingState{0, false, false};
        ended = true;
        return pos + 1;
      }
    }
    ++pos;
  }
  state = NestingState{depth, in_string, false};
  return size;
}

}  // namespace salesflow::core
