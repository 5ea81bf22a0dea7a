#pragma once
// Finds where a JSON value ends: the byte scanner the array and concatenated
// splitters delimit their records with (an internal of the reader).
//
// What it finds. Given the state of a scan inside one value (its nesting
// depth for `[]{}` together, whether it is inside a string, whether the next
// byte is escaped), the index just past the byte that closes the value: the
// bracket that takes the depth back to 0, or for a string at depth 0 its
// first unescaped quote. Only strings, escapes and one depth counter are
// tracked; the inside of the value is not validated (`{"a":]` balances, and
// the validator rejects it). A value that goes on past the data leaves its
// state to continue from with the next chunk, whatever the cut (inside a
// string, between a backslash and the byte it escapes).
//
// How, and the kernels. 64-byte blocks, as simdjson's stage 1 does: bit masks
// of the quotes, backslashes and brackets; the escaped bytes from the
// backslash runs (a branch first, since most blocks hold no backslash); the
// bytes inside strings as the prefix XOR of the unescaped quotes; then only
// the brackets outside strings are looked at. Two block kernels, one picked
// once per process from the CPU (scan_isa_supported):
//   - avx2 (AVX2, BMI, POPCNT and PCLMUL; compiled with a target attribute,
//     so the binary still runs on baseline x86-64): 32-byte compares, the
//     prefix XOR as one carry-less multiplication, and the brackets counted,
//     so that they are visited one by one only in a block where the count of
//     closing brackets reaches the depth;
//   - sse2 (every x86-64 CPU): 16-byte compares, the prefix XOR as a
//     shift-xor cascade, the brackets outside strings visited one by one.
// A block with a backslash outside a string (malformed input only) goes
// through a byte-at-a-time state machine, and so do the last bytes of the
// data, shorter than a block (16 bytes at a time, then byte by byte).
//
// Cost per byte: no branch per byte on the many quotes of a record, a few
// instructions per 64 bytes plus one per bracket visited. Measured through
// the array splitter (BM_SplitArray in bench/readers.cpp, ~1 KB records, one
// Zen 4 core, see bench/README.md): ~9 GiB/s (~0.1 ns per byte) with the avx2
// kernel, ~6 GiB/s with the sse2 one. Tested against a byte-at-a-time
// reference, every kernel the CPU runs (tests/core/split_array_scan_test.cpp).

#include <cstddef>
#include <cstdint>

namespace salesflow::core {

// The state of a scan over one JSON value: its nesting depth and whether the
// scan is inside a string or right after a backslash in one.
struct NestingState {
  std::uint64_t depth = 0;
  bool in_string = false;
  bool escape = false;
};

// The instruction sets scan_value_end has a block scanner for; it uses the
// best one the CPU has. Tests pick one with the overload that takes one,
// which falls back to SSE2 where the CPU lacks the one asked for.
enum class ScanIsa { sse2, avx2 };
[[nodiscard]] bool scan_isa_supported(ScanIsa isa);
[[nodiscard]] std::size_t scan_value_end(ScanIsa isa, const char* data, std::size_t pos,
                                         std::size_t size, NestingState& state, bool& ended);

// Scans data[pos, size) for the end of the value whose state is `state` (a
// composite value after its opening bracket: depth 1; a string after its
// opening quote: depth 0 and in_string). Returns the index just past the byte
// that ends the value, or `size` with `state` updated when the value goes on.
// `ended` tells the two apart. Inline, being only a forwarder: a splitter's
// call per record goes straight to the overload above.
[[nodiscard]] inline std::size_t scan_value_end(const char* data, std::size_t pos, std::size_t size,
                                                NestingState& state, bool& ended) {
  return scan_value_end(ScanIsa::avx2, data, pos, size, state, ended);
}

}  // namespace salesflow::core
