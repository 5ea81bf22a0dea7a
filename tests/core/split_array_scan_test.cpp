// scan_value_end against a byte-at-a-time state machine: the same value ends
// and the same state at every chunk boundary, whatever the chunks, including
// backslash runs and strings that cross the scanner's 64-byte blocks. Every
// block scanner the CPU can run is checked (the SSE2 one always).

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/detail/value_scan.hpp"

namespace salesflow::core {
namespace {

// The obvious reading of the contract, one byte at a time.
bool reference_scan(std::string_view data, std::size_t& pos, std::size_t limit,
                    NestingState& state) {
  for (; pos < limit; ++pos) {
    const char c = data[pos];
    if (state.escape) {
      state.escape = false;
    } else if (state.in_string) {
      if (c == '\\') {
        state.escape = true;
      } else if (c == '"') {
        state.in_string = false;
        if (state.depth == 0) {
          ++pos;
          return true;
        }
      }
    } else if (c == '"') {
      state.in_string = true;
    } else if (c == '{' || c == '[') {
      ++state.depth;
    } else if (c == '}' || c == ']') {
      if (--state.depth == 0) {
        ++pos;
        return true;
      }
    }
  }
  return false;
}

// What a scan reports: a value's end (absolute), or the state at the end of a
// chunk while a value goes on.
struct Event {
  bool ended;
  std::size_t position;
  NestingState state;
  bool operator==(const Event& o) const {
    return ended == o.ended && position == o.position && state.depth == o.state.depth &&
           state.in_string == o.state.in_string && state.escape == o.state.escape;
  }
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << (e.ended ? "end@" : "chunk@") << e.position << "{depth=" << e.state.depth
            << ",in_string=" << e.state.in_string << ",escape=" << e.state.escape << "}";
}

// A new value starts wherever the last one ended: after its opening bracket,
// or after its opening quote, as `strings` says (cyclically).
NestingState start_state(const std::vector<bool>& strings, std::size_t& n) {
  const bool string = !strings.empty() && strings[n++ % strings.size()];
  return string ? NestingState{0, true, false} : NestingState{1, false, false};
}

// The block scanners this CPU runs.
std::vector<ScanIsa> isas() {
  std::vector<ScanIsa> out{ScanIsa::sse2};
  if (scan_isa_supported(ScanIsa::avx2)) out.push_back(ScanIsa::avx2);
  return out;
}

// Cuts `input` into chunks of the given sizes (cyclically; the whole input
// when none), and scans each chunk copied behind `lead` unrelated bytes, so
// that `pos` is not 0 and a read past `size` is a read past the allocation.
std::vector<Event> scan_chunked(std::string_view input, const std::vector<std::size_t>& sizes,
                                const std::vector<bool>& strings, std::size_t lead,
                                std::optional<ScanIsa> isa) {
  std::vector<Event> events;
  std::size_t value = 0;
  NestingState state = start_state(strings, value);
  std::size_t chunk_begin = 0;
  for (std::size_t c = 0; chunk_begin < input.size(); ++c) {
    const std::size_t chunk_size =
        sizes.empty() ? input.size()
                      : std::min(sizes[c % sizes.size()], input.size() - chunk_begin);
    const std::string_view chunk = input.substr(chunk_begin, chunk_size);
    const std::size_t size = lead + chunk.size();
    std::vector<char> owned(size, 'x');
    std::copy(chunk.begin(), chunk.end(), owned.begin() + static_cast<std::ptrdiff_t>(lead));
    std::size_t pos = lead;
    while (pos < size) {
      bool ended = false;
      if (isa) {
        pos = scan_value_end(*isa, owned.data(), pos, size, state, ended);
      } else {
        ended = reference_scan(std::string_view(owned.data(), size), pos, size, state);
      }
      const std::size_t absolute = chunk_begin + pos - lead;
      if (!ended) {
        events.push_back({false, absolute, state});
        break;
      }
      events.push_back({true, absolute, state});
      state = start_state(strings, value);
    }
    chunk_begin += chunk_size;
  }
  return events;
}

void expect_same_as_reference(std::string_view input, const std::vector<std::size_t>& sizes,
                              const std::vector<bool>& strings = {}, std::size_t lead = 0) {
  const auto expected = scan_chunked(input, sizes, strings, lead, std::nullopt);
  for (const ScanIsa isa : isas()) {
    EXPECT_EQ(scan_chunked(input, sizes, strings, lead, isa), expected)
        << "isa " << static_cast<int>(isa) << ", input: " << input;
  }
}

constexpr std::string_view kAlphabet = "\"\\{}[]a ,:";

// Random text over kAlphabet with random weights per byte, so that some inputs
// are mostly strings, some mostly nesting, some full of backslash runs.
rc::Gen<std::string> scanner_text() {
  return rc::gen::mapcat(
      rc::gen::container<std::vector<int>>(kAlphabet.size(), rc::gen::inRange(0, 8)),
      [](std::vector<int> weights) {
        weights[6] += 1;  // never all zero
        int total = 0;
        for (const int w : weights) total += w;
        return rc::gen::map(rc::gen::container<std::vector<int>>(rc::gen::inRange(0, total)),
                            [weights](const std::vector<int>& codes) {
                              std::string out;
                              for (int code : codes) {
                                std::size_t i = 0;
                                while (code >= weights[i]) code -= weights[i++];
                                out.push_back(kAlphabet[i]);
                              }
                              return out;
                            });
      });
}

RC_GTEST_PROP(SplitArrayScan, MatchesTheByteMachineWhateverTheChunks, ()) {
  const auto input = *rc::gen::resize(700, scanner_text());
  const auto sizes = *rc::gen::container<std::vector<std::size_t>>(
      rc::gen::oneOf(rc::gen::element<std::size_t>(1, 15, 16, 17, 63, 64, 65, 127, 128, 129),
                     rc::gen::inRange<std::size_t>(1, 300)));
  const auto strings = *rc::gen::arbitrary<std::vector<bool>>();
  const auto lead = *rc::gen::inRange<std::size_t>(0, 70);
  const auto expected = scan_chunked(input, sizes, strings, lead, std::nullopt);
  for (const ScanIsa isa : isas()) {
    RC_ASSERT(scan_chunked(input, sizes, strings, lead, isa) == expected);
  }
}

// Many long inputs, for the blocks in the middle of values: values end rarely
// when closes are scarce and strings long.
TEST(SplitArrayScan, LongRandomInputsMatchTheByteMachine) {
  std::mt19937_64 rng(20240501);
  for (int round = 0; round < 3000; ++round) {
    std::vector<int> weights(kAlphabet.size());
    for (auto& w : weights) w = static_cast<int>(rng() % 9);
    weights[6] += 1 + static_cast<int>(rng() % 40);
    std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());
    std::string input(rng() % 4000, ' ');
    for (auto& c : input) c = kAlphabet[pick(rng)];
    std::vector<std::size_t> sizes;
    const std::size_t kinds = rng() % 4;
    for (int i = 0; i < 8; ++i) {
      const std::size_t fixed[] = {1, 63, 64, 65};
      sizes.push_back(kinds == 0 ? fixed[rng() % 4] : 1 + rng() % (kinds == 1 ? 200 : 5000));
    }
    std::vector<bool> strings;
    for (int i = 0; i < 5; ++i) strings.push_back(rng() % 3 == 0);
    expect_same_as_reference(input, sizes, strings, rng() % 8);
    if (HasFailure()) return;
  }
}

// One call from `state` over the whole of `data`, the same on every block
// scanner and through the default entry point.
Event scan_once(std::string_view data, NestingState& state) {
  const NestingState from = state;
  bool ended = false;
  const std::size_t end = scan_value_end(data.data(), 0, data.size(), state, ended);
  const Event result{ended, end, state};
  for (const ScanIsa isa : isas()) {
    NestingState other = from;
    bool other_ended = false;
    const std::size_t other_end =
        scan_value_end(isa, data.data(), 0, data.size(), other, other_ended);
    EXPECT_EQ((Event{other_ended, other_end, other}), result) << "isa " << static_cast<int>(isa);
  }
  return result;
}

// `{"aaa…a\\…\"]"}` after its '{': an even run of backslashes leaves the quote
// closing the string and the ']' ends the value; an odd run escapes the quote.
// Moving the run across the 64-byte block boundary, in every two-chunk cut and
// in 1-byte chunks.
TEST(SplitArrayScan, BackslashRunsAcrossBlockBoundaries) {
  for (std::size_t before = 56; before <= 72; ++before) {
    for (std::size_t run = 1; run <= 6; ++run) {
      const std::string input =
          "\"" + std::string(before, 'a') + std::string(run, '\\') + "\"]\"}   ";
      const std::size_t bracket = 1 + before + run + 1;
      const std::size_t expected = run % 2 == 0 ? bracket + 1 : bracket + 3;
      NestingState state{1, false, false};
      EXPECT_EQ(scan_once(input, state), (Event{true, expected, {}}))
          << "before=" << before << " run=" << run;
      expect_same_as_reference(input, {});
      expect_same_as_reference(input, {1});
      for (std::size_t cut = 1; cut < input.size(); ++cut) {
        expect_same_as_reference(input, {cut, input.size()});
      }
      // The same run inside a string value.
      const std::string string_value = std::string(before, 'a') + std::string(run, '\\') + "\"x\"";
      expect_same_as_reference(string_value, {}, {true});
      for (std::size_t cut = 1; cut < string_value.size(); ++cut) {
        expect_same_as_reference(string_value, {cut, string_value.size()}, {true});
      }
      if (HasFailure()) return;
    }
  }
}

// A run of backslashes longer than a block, so that the parity is carried
// through a block made only of backslashes.
TEST(SplitArrayScan, BackslashRunLongerThanABlock) {
  for (std::size_t run = 120; run <= 200; ++run) {
    const std::string input = "\"" + std::string(run, '\\') + "\"}\"]";
    NestingState state{1, false, false};
    EXPECT_EQ(scan_once(input, state), (Event{true, run % 2 == 0 ? run + 3 : input.size(), {}}))
        << "run=" << run;
    expect_same_as_reference(input, {64});
    expect_same_as_reference(input, {63});
    expect_same_as_reference(input, {65});
  }
}

TEST(SplitArrayScan, BackslashAsTheLastByteCarriesTheEscape) {
  // The chunk ends right after a backslash, at the end of a full block: the
  // next chunk's first byte is the escaped one.
  const std::string first = "\"" + std::string(62, 'a') + "\\";
  NestingState state{1, false, false};
  EXPECT_EQ(scan_once(first, state), (Event{false, first.size(), {1, true, true}}));
  EXPECT_EQ(scan_once("\"]\"]", state), (Event{true, 4, {}}));

  // The same with the backslash as the last byte of a block that is not the
  // chunk's last: the escape crosses blocks, not calls.
  state = NestingState{1, false, false};
  EXPECT_EQ(scan_once(first + "\"]\"]" + std::string(64, ' '), state),
            (Event{true, first.size() + 4, {}}));

  // An escaped backslash before the quote: the quote closes the string.
  state = NestingState{1, false, false};
  EXPECT_EQ(scan_once("\"\\\\\"]" + std::string(80, ' '), state), (Event{true, 5, {}}));

  // A chunk that is only the pending escape's byte, and one that is empty.
  state = NestingState{1, true, true};
  EXPECT_EQ(scan_once("", state), (Event{false, 0, {1, true, true}}));
  EXPECT_EQ(scan_once("\"", state), (Event{false, 1, {1, true, false}}));
}

TEST(SplitArrayScan, ValuesEndMidBlockAtTheExactByte) {
  for (std::size_t length = 1; length < 200; ++length) {
    // {"k":[ "[", "}" ]} ... after the '{', padded to `length`.
    std::string value = "\"k\":[\"[\",\"}\"]";
    value += std::string(length, ' ') + "}";
    const std::string input = value + ",{\"x\":1}" + std::string(100, ' ');
    NestingState state{1, false, false};
    EXPECT_EQ(scan_once(input, state), (Event{true, value.size(), {}}));
  }
}

TEST(SplitArrayScan, BackslashOutsideAStringEscapesNothing) {
  // Malformed, but scanned as the splitter always has: the backslash is an
  // ordinary byte there, so the quote after it opens a string.
  for (std::size_t before = 0; before < 70; ++before) {
    const std::string input = std::string(before, ' ') + "\\\"]\"]" + std::string(70, ' ');
    NestingState state{1, false, false};
    EXPECT_EQ(scan_once(input, state), (Event{true, before + 5, {}}));
    expect_same_as_reference(input, {64});
  }
}

// Deep nesting closed all at once: a block with more closing brackets than the
// depth, the depth only reached in a later block, and strings at the top.
TEST(SplitArrayScan, DeepNestingAndStringValues) {
  for (std::size_t depth = 1; depth < 140; ++depth) {
    const std::string input = std::string(depth, '{') + std::string(depth + 1, '}') + "]]";
    NestingState state{1, false, false};
    EXPECT_EQ(scan_once(input, state), (Event{true, 2 * depth + 1, {}})) << "depth=" << depth;
    expect_same_as_reference(input, {64});
    expect_same_as_reference(input, {65});
  }
  for (std::size_t length = 0; length < 200; ++length) {
    const std::string input = std::string(length, '{') + "\"]" + std::string(70, '}');
    NestingState state{0, true, false};
    EXPECT_EQ(scan_once(input, state), (Event{true, length + 1, {}})) << "length=" << length;
  }
}

}  // namespace
}  // namespace salesflow::core
