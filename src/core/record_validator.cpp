#include "core/record_validator.hpp"

// The grammar walk over simdjson's stage 1 index, which writes the item JSON
// and notes what it sees at the rule paths as it goes. After it, the rules
// are applied (detail/rule_evaluation.cpp) and a valid record's item is
// completed (detail/item_completion.cpp).

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/json_string.hpp"
#include "base/text.hpp"
#include "base/utf8.hpp"
#include "core/detail/item_completion.hpp"
#include "core/detail/number.hpp"
#include "core/detail/reason_list.hpp"
#include "core/detail/rule_evaluation.hpp"
#include "core/detail/rule_paths.hpp"
#include "core/item_json.hpp"

// The validator is built on simdjson's internal stage-1 API
// (internal::dom_parser_implementation), which changes between releases; this
// holds even for a build that bypasses the CMake version check.
static_assert(simdjson::SIMDJSON_VERSION_MAJOR == 3 && simdjson::SIMDJSON_VERSION_MINOR == 0 &&
                  simdjson::SIMDJSON_VERSION_REVISION == 1,
              "salesflow's validator supports simdjson 3.0.1 only: it uses simdjson's internal "
              "stage-1 API (internal::dom_parser_implementation), which is not stable across "
              "releases");

namespace salesflow::core {
namespace {

// How deep the walk follows a record. DynamoDB refuses items nested deeper
// than 32 levels, so anything past that is rejected as too_large already; the
// walk stops a little further on, which bounds its stack of open containers.
constexpr std::size_t kMaxDepth = 2 * kDynamoMaxNestingDepth;

struct PathSegment {
  std::string_view name;
  std::int64_t index = -1;  // array element index, or -1 for a member name
};

// One of 64 bits chosen by a name's length and last byte: equal names have
// the same bit, so an object whose names all have distinct bits has no
// repeated name and needs no comparing of names. (Cheap on purpose: it runs
// for every member; a shared bit only costs a comparison of the object's names.)
std::uint64_t name_bit(std::string_view name) {
  const unsigned last = name.empty() ? 0U : static_cast<unsigned char>(name.back());
  return std::uint64_t{1} << ((name.size() * 11 + last) & 63);
}

// How much of a token that is not JSON a reason quotes.
constexpr std::size_t kTokenExcerptBytes = 40;

std::unique_ptr<simdjson::internal::dom_parser_implementation> make_stage1() {
  std::unique_ptr<simdjson::internal::dom_parser_implementation> stage1;
  if (simdjson::get_active_implementation()->create_dom_parser_implementation(
          std::size_t{64} * 1024, kMaxDepth, stage1) != simdjson::SUCCESS) {
    // Only an allocation failure gets here.
    std::abort();
  }
  return stage1;
}

}  // namespace

struct RecordValidator::Impl {
  explicit Impl(Rules given)
      : rules(with_key_rules(std::move(given))), paths(rules), completion(rules) {
    reserved_names = {rules.partition_key.attribute, rules.metadata.source,
                      rules.metadata.etag,           rules.metadata.version_id,
                      rules.metadata.record_index,   rules.metadata.ingested_at,
                      rules.metadata.corrected_at};
    if (rules.sort_key) reserved_names.push_back(rules.sort_key->attribute);
    observations.resize(paths.nodes.size());
  }

  // The record is not JSON: one reason, and the walk stops. `at` is the
  // offending byte's position in the record.
  bool syntax_error(std::size_t at, std::string_view what) {
    reasons.add(ReasonCode::malformed_json, current_path(),
                fmt::format("not valid JSON at byte {}: {}", at, what));
    return false;
  }

  // ---- raw strings ----
  //
  // Stage 1 has rejected control characters inside strings, so a string or
  // member name without a backslash reads the same raw and unescaped, and its
  // raw bytes are valid JSON string content as they stand.

  // Unescapes the string whose content starts at `content` (just after its
  // opening quote) into the record's string arena; a null view when an
  // escape is invalid (unknown escape, bad \u digits, unpaired surrogate).
  std::string_view unescape(const char* content) {
    auto* const begin = reinterpret_cast<std::uint8_t*>(string_cursor);
    const std::uint8_t* const end =
        stage1->parse_string(reinterpret_cast<const std::uint8_t*>(content), begin);
    if (end == nullptr) return {};
    const auto size = static_cast<std::size_t>(end - begin);
    string_cursor += size;
    return {reinterpret_cast<const char*>(begin), size};
  }

  // ---- the pass ----
  //
  // The walk reads simdjson's stage 1 output directly: `structurals` holds the
  // positions of every {}[]:, and of the first byte of every scalar, in
  // document order, followed by two entries at the record's end (where the
  // padding is spaces). The grammar is checked here, one structural at a
  // time, as simdjson's own stage 2 does. A scalar's bytes run from its
  // structural to the next one, less the whitespace in between: anything
  // else would have been a structural of its own.
  //
  // The walk is one loop over a stack of open containers (no recursion), with
  // the output cursor, the structural cursor and the record in locals: writes
  // through a char pointer may alias any member, so members would be
  // reloaded after every write.

  // An open object or array.
  struct Frame {
    std::uint32_t node = kNoNode;  // rule node of the container
    bool object = false;
    bool top_level = false;  // the record itself
    bool first = true;       // no member written yet
    bool first_before = true;
    bool key_member = false;  // top level: the current member is a key's source
    bool names_may_repeat = false;
    std::uint64_t name_bits = 0;
    std::size_t names_begin = 0;  // in member_names
    std::size_t size = 0;         // DynamoDB size so far
    std::size_t name_size = 0;    // the current member's name
    char* member_start = nullptr;
    PathSegment segment;  // the current member or element
  };

  // The reasons' path: the current member or element of each open container
  // below `path_depth`.
  std::string current_path() const {
    std::string path;
    for (std::size_t i = 0; i < path_depth; ++i) {
      const PathSegment& segment = frames[i].segment;
      if (segment.index >= 0) {
        path.push_back('/');
        append_decimal(path, static_cast<unsigned long long>(segment.index));
      } else {
        append_pointer_segment(path, segment.name);
      }
    }
    return path;
  }

  // Walks the value at the first structural to the record's end and writes
  // it as item JSON: an object at the top level as the item's members (after
  // `{`, without the closing `}`), anything else as an AttributeValue.
  // `root_size` is then the top-level object's DynamoDB size. False when the
  // walk stopped early: the record is not JSON or nests too deep.
  bool walk(std::size_t& root_size) {
    const char* const buf = buffer;
    const std::uint32_t* idx = structurals;
    const std::uint32_t* const idx_end = structurals + structural_count;
    char* out = item.cursor();
    std::size_t depth = 0;   // open containers
    std::uint32_t node = 0;  // rule node of the value at `idx`
    std::size_t value_size = 0;

    // Whether [begin, end) holds a backslash. Strings are visited in
    // document order, so `next_backslash` (the first backslash at or after
    // the last position searched) moves forward only: one memchr pass over
    // the record in all.
    const char* next_backslash = buf;
    const auto has_backslash = [&](const char* begin, const char* end) {
      if (next_backslash < begin) {
        const void* found = std::memchr(begin, '\\', static_cast<std::size_t>(record_end - begin));
        next_backslash = found != nullptr ? static_cast<const char*>(found) : record_end;
      }
      return next_backslash < end;
    };
    // The end of the scalar at `idx`.
    const auto scalar_end = [&] {
      const char* end = buf + idx[1];
      while (base::is_json_space(end[-1])) --end;
      return end;
    };
    const auto fail = [&](std::uint32_t position, std::string_view what) {
      path_depth = depth;
      return syntax_error(position, idx < idx_end ? what : "the record ends early");
    };
    const auto fail_token = [&](std::uint32_t position, std::string_view token) {
      return fail(position, fmt::format("`{}` is not a JSON value",
                                        base::to_valid_utf8(token.substr(0, kTokenExcerptBytes))));
    };
    const auto put_literal = [&]<std::size_t N>(const char(&text)[N]) {
      std::memcpy(out, text, N - 1);
      out += N - 1;
    };
    const auto put_padded = [&](const char* from, std::size_t size) {
      out = copy_padded(out, from, size);
    };
    const auto observe = [&](JsonType type, bool integer, std::string_view text, bool raw)
        __attribute__((always_inline)) {
      if (node != kNoNode) observations[node] = Observation{true, type, integer, text, raw};
    };
    // Opens the container at `idx`; false when it nests too deep to follow.
    const auto open = [&](bool object) __attribute__((always_inline)) {
      path_depth = depth;
      if (!note_depth(static_cast<int>(depth))) return false;
      observe(object ? JsonType::object : JsonType::array, false, {}, false);
      Frame& frame = frames[depth++];
      frame = Frame{};
      frame.node = node;
      frame.object = object;
      frame.top_level = object && depth == 1;
      frame.names_begin = member_names.size();
      if (frame.top_level) {
        *out++ = '{';
      } else {
        frame.size = 3;
        if (object)
          put_literal("{\"M\":{");
        else
          put_literal("{\"L\":[");
      }
      ++idx;
      return true;
    };

  value:
    switch (buf[*idx]) {
      case '{':
        if (!open(true)) return false;
        if (buf[*idx] == '}') {
          ++idx;
          goto close_object;
        }
        goto member;
      case '[':
        if (!open(false)) return false;
        if (buf[*idx] == ']') {
          ++idx;
          goto close_array;
        }
        frames[depth - 1].segment = PathSegment{{}, 0};
        node = kNoNode;
        goto value;
      case '"': {
        const char* const quote = buf + *idx;
        const char* const close = scalar_end() - 1;  // the closing quote
        ++idx;
        if (!has_backslash(quote + 1, close)) {
          // Raw and unescaped read the same: copy it as it stands.
          const std::string_view text(quote + 1, static_cast<std::size_t>(close - quote - 1));
          observe(JsonType::string, false, text, true);
          put_literal("{\"S\":");
          put_padded(quote, text.size() + 2);
          *out++ = '}';
          value_size = text.size();
          goto after_value;
        }
        const std::string_view text = unescape(quote + 1);
        if (text.data() == nullptr)
          return fail(static_cast<std::uint32_t>(quote - buf),
                      "invalid escape sequence in a string");
        observe(JsonType::string, false, text, false);
        put_literal("{\"S\":");
        out = base::write_json_string(out, text);
        *out++ = '}';
        value_size = text.size();
        goto after_value;
      }
      case 't':
      case 'f':
      case 'n': {
        const std::uint32_t position = *idx;
        const std::string_view token(buf + position,
                                     static_cast<std::size_t>(scalar_end() - buf - position));
        ++idx;
        if (token == "true" || token == "false") {
          observe(JsonType::boolean, false, {}, false);
          if (token.size() == 4)
            put_literal("{\"BOOL\":true}");
          else
            put_literal("{\"BOOL\":false}");
        } else if (token == "null") {
          observe(JsonType::null, false, {}, false);
          put_literal("{\"NULL\":true}");
        } else {
          return fail_token(position, token);
        }
        value_size = 1;
        goto after_value;
      }
      case '-':
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9': {
        const std::uint32_t position = *idx;
        const std::string_view token(buf + position,
                                     static_cast<std::size_t>(scalar_end() - buf - position));
        ++idx;
        const NumberInfo info = analyze_number(token);
        if (!info.well_formed) return fail_token(position, token);
        if (!info.dynamodb_storable) {
          path_depth = depth;
          report_unstorable_number(info);
        }
        observe(JsonType::number, info.integer, token, true);
        put_literal("{\"N\":\"");
        put_padded(token.data(), token.size());
        put_literal("\"}");
        value_size = info.dynamodb_size;
        goto after_value;
      }
      default:
        return fail(*idx, "expected a value");
    }

  member : {
    Frame& frame = frames[depth - 1];
    const std::uint32_t name_position = *idx;
    if (buf[name_position] != '"') return fail(name_position, "expected a member name in quotes");
    if (buf[idx[1]] != ':') return fail(idx[1], "expected ':' after a member name");
    const char* const name_begin = buf + name_position + 1;
    const char* const name_end = scalar_end() - 1;
    idx += 2;
    // A name without a backslash is copied raw; only one with escapes is
    // unescaped (and re-escaped).
    const bool plain = !has_backslash(name_begin, name_end);
    const std::string_view name =
        plain ? std::string_view(name_begin, static_cast<std::size_t>(name_end - name_begin))
              : unescape(name_begin);
    if (name.data() == nullptr)
      return fail(name_position, "invalid escape sequence in a member name");
    member_names.push_back(name);
    const std::uint64_t bit = name_bit(name);
    frame.names_may_repeat |= (frame.name_bits & bit) != 0;
    frame.name_bits |= bit;
    frame.segment = PathSegment{name, -1};
    frame.name_size = name.size();
    if (frame.top_level) {
      // A top-level member that is itself a key's source becomes the key
      // attribute (added at the end), so its own encoding is dropped.
      path_depth = depth;
      frame.key_member = check_top_level_name(name);
      frame.member_start = out;
      frame.first_before = frame.first;
    }
    if (!frame.first) *out++ = ',';
    frame.first = false;
    if (plain)
      put_padded(name_begin - 1, name.size() + 2);
    else
      out = base::write_json_string(out, name);
    *out++ = ':';
    node = frame.node == kNoNode ? kNoNode : paths.child_of(frame.node, name);
    goto value;
  }

  after_value : {
    if (depth == 0) goto done;  // the record is a scalar
    Frame& frame = frames[depth - 1];
    const char next = buf[*idx];
    if (frame.object) {
      if (frame.key_member) {
        out = frame.member_start;
        frame.first = frame.first_before;
      } else {
        frame.size += frame.name_size + value_size + (frame.top_level ? 0 : 1);
      }
      ++idx;
      if (next == ',') goto member;
      if (next == '}') goto close_object;
      --idx;
      return fail(*idx, "expected ',' or '}' after a member");
    }
    frame.size += value_size + 1;
    ++idx;
    if (next == ',') {
      *out++ = ',';
      ++frame.segment.index;
      node = kNoNode;
      goto value;
    }
    if (next == ']') goto close_array;
    --idx;
    return fail(*idx, "expected ',' or ']' after an array element");
  }

  close_object : {
    Frame& frame = frames[depth - 1];
    if (frame.names_may_repeat) {
      path_depth = depth - 1;
      check_duplicate_names(frame.names_begin);
    }
    member_names.resize(frame.names_begin);
    value_size = frame.size;
    --depth;
    if (frame.top_level) {
      root_size = frame.size;
      goto done;
    }
    put_literal("}}");
    goto after_value;
  }

  close_array:
    value_size = frames[--depth].size;
    put_literal("]}");
    goto after_value;

  done:
    if (idx < idx_end) return fail(*idx, "content after the record's end");
    item.set_cursor(out);
    return true;
  }

  void report_unstorable_number(const NumberInfo& info) {
    reasons.add(ReasonCode::invalid_number, current_path(),
                info.significant_digits > kDynamoMaxSignificantDigits
                    ? fmt::format("number has {} significant digits; DynamoDB stores at most 38",
                                  info.significant_digits)
                    : std::string("number magnitude is outside DynamoDB's range 1E-130 .. "
                                  "9.9999999999999999999999999999999999999E+125"));
  }

  // Returns whether `name` is the source member of a key attribute of the same name.
  bool check_top_level_name(std::string_view name) {
    if (name.empty()) {
      reasons.add(ReasonCode::invalid_format, "/",
                  "member name is empty; DynamoDB attribute names must not be empty");
      return false;
    }
    const auto is_source_of = [&](const KeyAttribute& key) {
      return key.attribute == name && key.path.size() == name.size() + 1 &&
             split_json_pointer(key.path)->front() == name;
    };
    if (is_source_of(rules.partition_key) || (rules.sort_key && is_source_of(*rules.sort_key)))
      return true;
    for (const std::string& reserved : reserved_names) {
      if (same_name(name, reserved)) {
        reasons.add(ReasonCode::invalid_format, current_path(),
                    fmt::format("top-level member `{}` collides with the item's key or metadata "
                                "attribute of that name",
                                name));
        return false;
      }
    }
    return false;
  }

  // Members of the object being closed are member_names[begin..]. Small
  // objects compare pairwise; large ones sort a copy (O(n log n)).
  void check_duplicate_names(std::size_t begin) {
    const std::size_t count = member_names.size() - begin;
    if (count < 2) return;
    const auto report = [&](std::string_view name) {
      std::string path = current_path();
      append_pointer_segment(path, name);
      reasons.add(ReasonCode::duplicate_member, std::move(path),
                  "member appears more than once in its object");
    };
    if (count <= 16) {
      for (std::size_t i = begin + 1; i < member_names.size(); ++i) {
        for (std::size_t j = begin; j < i; ++j) {
          if (member_names[i] == member_names[j]) {
            // Report a name once, at its second appearance.
            bool earlier = false;
            for (std::size_t k = j + 1; k < i && !earlier; ++k)
              earlier = member_names[k] == member_names[i];
            if (!earlier) report(member_names[i]);
            break;
          }
        }
      }
      return;
    }
    sort_scratch.assign(member_names.begin() + static_cast<std::ptrdiff_t>(begin),
                        member_names.end());
    std::sort(sort_scratch.begin(), sort_scratch.end());
    for (std::size_t i = 1; i < sort_scratch.size(); ++i) {
      if (sort_scratch[i] == sort_scratch[i - 1] &&
          (i < 2 || sort_scratch[i - 2] != sort_scratch[i]))
        report(sort_scratch[i]);
    }
  }

  // Reports nesting deeper than DynamoDB allows (once); false when the walk
  // must stop (kMaxDepth; the record is rejected long before).
  bool note_depth(int depth) {
    if (depth > kDynamoMaxNestingDepth && !depth_reported) {
      depth_reported = true;
      reasons.add(ReasonCode::too_large, current_path(),
                  fmt::format("value is nested {} levels deep; DynamoDB allows {}", depth,
                              kDynamoMaxNestingDepth));
    }
    return depth < static_cast<int>(kMaxDepth);
  }

  // ---- entry point ----

  const Verdict& check(const RawRecord& record, const Provenance& provenance) {
    verdict.valid = false;
    reasons.clear();
    verdict.key.clear();
    verdict.partition_key.clear();
    verdict.sort_key.clear();
    verdict.item_json = {};
    verdict.item_size = 0;
    depth_reported = false;
    path_depth = 0;
    member_names.clear();
    std::fill(observations.begin(), observations.end(), Observation{});
    item.clear();
    run(record, provenance);
    reasons.close();
    verdict.valid = reasons.empty();
    if (verdict.valid) verdict.item_json = item.text();
    return verdict;
  }

  void run(const RawRecord& record, const Provenance& provenance) {
    const std::string_view text = record.text;
    const std::size_t needed = text.size() + simdjson::SIMDJSON_PADDING;
    if (padded_capacity < needed) {
      padded_capacity = std::max(needed, padded_capacity * 2);
      padded = std::make_unique<char[]>(padded_capacity);
      strings = std::make_unique_for_overwrite<char[]>(padded_capacity);
    }
    if (stage1->capacity() < text.size()) {
      if (auto error = stage1->set_capacity(std::max(text.size(), 2 * stage1->capacity()))) {
        reasons.add(ReasonCode::too_large, "",
                    fmt::format("record of {} bytes cannot be parsed: {}", text.size(),
                                simdjson::error_message(error)));
        return;
      }
    }
    std::memcpy(padded.get(), text.data(), text.size());
    std::memset(padded.get() + text.size(), ' ', simdjson::SIMDJSON_PADDING);
    buffer = padded.get();
    record_end = buffer + text.size();
    string_cursor = strings.get();
    item.make_room(kItemBytesPerRecordByte * text.size() + kItemBytesSlack);
    // Stage 1 validates the whole record as UTF-8, finds its strings (and
    // rejects control characters inside them) and indexes its structure.
    if (auto error = stage1->stage1(reinterpret_cast<const std::uint8_t*>(buffer), text.size(),
                                    simdjson::stage1_mode::regular)) {
      reasons.add(ReasonCode::malformed_json, "", stage1_problem(error));
      return;
    }
    structurals = stage1->structural_indexes.get();
    structural_count = stage1->n_structural_indexes;
    const char first = buffer[structurals[0]];
    std::size_t size = 0;
    if (!walk(size)) return;
    if (first != '{') {
      // Checked to be JSON all the same, then rejected for its type.
      reasons.add(ReasonCode::wrong_type, "",
                  fmt::format("record is {}, expected an object",
                              describe(first == '['                   ? JsonType::array
                                       : first == '"'                 ? JsonType::string
                                       : first == 't' || first == 'f' ? JsonType::boolean
                                       : first == 'n'                 ? JsonType::null
                                                                      : JsonType::number,
                                       false)));
      return;
    }
    verdict.item_size = size;
    evaluation.evaluate(rules, paths, observations, reasons);
    if (!reasons.empty()) return;
    completion.complete(observations[paths.partition_node],
                        rules.sort_key ? &observations[paths.sort_node] : nullptr, record,
                        provenance, item, verdict, reasons);
  }

  static std::string stage1_problem(simdjson::error_code error) {
    switch (error) {
      case simdjson::UTF8_ERROR:
        return "record is not valid UTF-8";
      case simdjson::EMPTY:
        return "not valid JSON: the record is empty";
      case simdjson::UNCLOSED_STRING:
        return "not valid JSON: a string is not closed";
      case simdjson::UNESCAPED_CHARS:
        return "not valid JSON: a control character inside a string is not escaped";
      default:
        return fmt::format("not valid JSON: {}", simdjson::error_message(error));
    }
  }

  Rules rules;
  RulePaths paths;
  ItemCompletion completion;
  RuleEvaluation evaluation;
  std::vector<std::string> reserved_names;  // top-level names the item's own attributes take

  // simdjson's stage 1 for the CPU it runs on (chosen at run time).
  std::unique_ptr<simdjson::internal::dom_parser_implementation> stage1 = make_stage1();
  std::unique_ptr<char[]> padded;
  std::unique_ptr<char[]> strings;  // unescaped strings and names of the record, same size
  char* string_cursor = nullptr;
  const char* buffer = nullptr;  // the padded record
  const std::uint32_t* structurals = nullptr;
  std::uint32_t structural_count = 0;
  std::size_t padded_capacity = 0;
  Verdict verdict;
  ReasonList reasons{verdict.reasons, rules.max_reasons};
  // The item is written here, then viewed by verdict.item_json when the
  // record is valid.
  ItemBuffer item;
  const char* record_end = nullptr;       // in `padded`
  std::vector<Observation> observations;  // per node of `paths`
  std::vector<std::string_view> member_names;
  std::vector<std::string_view> sort_scratch;
  // One frame per open container; the walk stops at kMaxDepth.
  std::vector<Frame> frames = std::vector<Frame>(kMaxDepth + 2);
  std::size_t path_depth = 0;
  bool depth_reported = false;
};

RecordValidator::RecordValidator(Rules rules) : impl_(std::make_unique<Impl>(std::move(rules))) {}
RecordValidator::~RecordValidator() = default;
RecordValidator::RecordValidator(RecordValidator&&) noexcept = default;
RecordValidator& RecordValidator::operator=(RecordValidator&&) noexcept = default;

const Verdict& RecordValidator::check(const RawRecord& record, const Provenance& provenance) {
  return impl_->check(record, provenance);
}

const Rules& RecordValidator::rules() const {
  return impl_->rules;
}

}  // namespace salesflow::core
