#include "core/record_validator.hpp"

#include <fmt/format.h>
#include <re2/re2.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "base/json_string.hpp"
#include "base/text.hpp"
#include "base/utf8.hpp"
#include "core/detail/number.hpp"
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

constexpr std::uint32_t kNoNode = 0xFFFFFFFF;
// How deep the walk follows a record. DynamoDB refuses items nested deeper
// than 32 levels, so anything past that is rejected as too_large already; the
// walk stops a little further on, which bounds its stack of open containers.
constexpr std::size_t kMaxDepth = 2 * kDynamoMaxNestingDepth;
constexpr std::uint8_t bit(JsonType type) {
  return static_cast<std::uint8_t>(type);
}

// What the pass saw at a rule path.
struct Observation {
  bool present = false;
  JsonType type = JsonType::null;
  bool integer = false;
  // Strings: the unescaped value; numbers: the exact token.
  std::string_view text;
  // `text` is in the padded record buffer as it stands: a string's raw
  // content between its quotes (no escapes), or a number's token.
  bool raw = false;
};

// The rule paths as a tree of member names, so the pass follows it while it
// walks the record and records what it finds at each rule path.
struct PathNode {
  std::vector<std::pair<std::string, std::uint32_t>> children;
  std::string path;
  std::uint32_t parent = kNoNode;
};

struct PathSegment {
  std::string_view name;
  std::int64_t index = -1;  // array element index, or -1 for a member name
};

std::string_view trim_ascii_space(std::string_view text) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string_view describe(JsonType type, bool integer) {
  if (type == JsonType::number) return integer ? "an integer" : "a number";
  switch (type) {
    case JsonType::string:
      return "a string";
    case JsonType::boolean:
      return "a boolean";
    case JsonType::null:
      return "null";
    case JsonType::object:
      return "an object";
    case JsonType::array:
      return "an array";
    default:
      return "a value";
  }
}

std::string describe_types(std::uint8_t types) {
  std::string text;
  for (const JsonType type :
       {JsonType::string, JsonType::integer, JsonType::number, JsonType::boolean, JsonType::null,
        JsonType::object, JsonType::array}) {
    if ((types & bit(type)) == 0) continue;
    if (!text.empty()) text += " or ";
    text += to_string(type);
  }
  return text;
}

bool type_matches(std::uint8_t types, const Observation& seen) {
  if (types == 0) return true;
  if ((types & bit(seen.type)) != 0) return true;
  return seen.type == JsonType::number && seen.integer && (types & bit(JsonType::integer)) != 0;
}

// Bytes of item JSON the pass may write per byte of record: the worst case is
// a one-digit number with its separator, `0,` -> `{"N":"0"},` (5x); a
// one-byte number alone costs its 8 bytes of wrapping, hence 9x plus a little.
constexpr std::size_t kItemBytesPerRecordByte = 9;
constexpr std::size_t kItemBytesSlack = 64;

// One of 64 bits chosen by a name's length and last byte: equal names have
// the same bit, so an object whose names all have distinct bits has no
// repeated name and needs no comparing of names. (Cheap on purpose: it runs
// for every member; a shared bit only costs a comparison of the object's names.)
std::uint64_t name_bit(std::string_view name) {
  const unsigned last = name.empty() ? 0U : static_cast<unsigned char>(name.back());
  return std::uint64_t{1} << ((name.size() * 11 + last) & 63);
}

// Copies `size` bytes of the padded record buffer in fixed-size 32-byte
// moves (no library call), reading up to 31 bytes into the record's padding
// and writing into the item buffer's slack (kItemBytesSlack). Returns the end.
char* copy_padded(char* out, const char* from, std::size_t size) {
  static_assert(kItemBytesSlack >= 32 && simdjson::SIMDJSON_PADDING >= 32);
  std::memcpy(out, from, 32);
  for (std::size_t done = 32; done < size; done += 32) std::memcpy(out + done, from + done, 32);
  return out + size;
}

// Names compared per member of the records: most differ in length or in
// their first byte, which settles it without a library call.
bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || (a.front() == b.front() && a == b));
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

void append_key_encoding(std::string& out, std::string_view text) {
  append_decimal(out, text.size());
  out.push_back(':');
  out.append(text);
}

}  // namespace

struct RecordValidator::Impl {
  explicit Impl(Rules given) : rules(std::move(given)) {
    nodes.push_back(PathNode{});
    enforce_key_rule(rules.partition_key);
    if (rules.sort_key) enforce_key_rule(*rules.sort_key);
    for (const FieldRule& field : rules.fields) field_nodes.push_back(node_for(field.segments));
    for (const AtLeastOneRule& group : rules.at_least_one) {
      std::vector<std::uint32_t> members;
      for (const std::string& path : group.paths)
        members.push_back(node_for(*split_json_pointer(path)));
      group_nodes.push_back(std::move(members));
    }
    partition_node = node_for(*split_json_pointer(rules.partition_key.path));
    if (rules.sort_key) sort_node = node_for(*split_json_pointer(rules.sort_key->path));
    const auto key_prefix = [](const KeyAttribute& key) {
      std::string prefix;
      base::append_json_string(prefix, key.attribute);
      prefix.append(key.type == 'N' ? ":{\"N\":" : ":{\"S\":");
      return prefix;
    };
    partition_prefix = key_prefix(rules.partition_key);
    if (rules.sort_key) sort_prefix = key_prefix(*rules.sort_key);
    reserved_names = {rules.partition_key.attribute, rules.metadata.source,
                      rules.metadata.etag,           rules.metadata.version_id,
                      rules.metadata.record_index,   rules.metadata.ingested_at};
    if (rules.sort_key) reserved_names.push_back(rules.sort_key->attribute);
    observations.resize(nodes.size());
    ancestors.resize(nodes.size());
    for (std::uint32_t node = 0; node < nodes.size(); ++node) {
      for (std::uint32_t n = nodes[node].parent; n != kNoNode && n != 0; n = nodes[n].parent)
        ancestors[node].insert(ancestors[node].begin(), n);
    }
  }

  // A key attribute's source must be present, non-empty and of a type the key
  // attribute can hold; the rule for its path is tightened (or added) so.
  void enforce_key_rule(const KeyAttribute& key) {
    const std::uint8_t allowed = key.type == 'N' ? bit(JsonType::number) | bit(JsonType::integer)
                                                 : bit(JsonType::string) | bit(JsonType::integer);
    auto it = std::find_if(rules.fields.begin(), rules.fields.end(),
                           [&](const FieldRule& f) { return f.path == key.path; });
    if (it == rules.fields.end()) {
      FieldRule rule;
      rule.path = key.path;
      rule.segments = *split_json_pointer(key.path);
      rules.fields.push_back(std::move(rule));
      it = std::prev(rules.fields.end());
    }
    it->required = true;
    it->non_empty = true;
    it->types = it->types == 0 ? allowed : static_cast<std::uint8_t>(it->types & allowed);
    if (it->types == 0) it->types = allowed;
  }

  std::uint32_t node_for(const std::vector<std::string>& segments) {
    std::uint32_t node = 0;
    for (const std::string& name : segments) {
      std::uint32_t next = kNoNode;
      for (const auto& [child_name, child] : nodes[node].children)
        if (child_name == name) next = child;
      if (next == kNoNode) {
        next = static_cast<std::uint32_t>(nodes.size());
        PathNode child;
        child.path = nodes[node].path;
        append_pointer_segment(child.path, name);
        child.parent = node;
        nodes.push_back(std::move(child));
        nodes[node].children.emplace_back(name, next);
      }
      node = next;
    }
    return node;
  }

  std::uint32_t child_of(std::uint32_t node, std::string_view name) const {
    if (node == kNoNode) return kNoNode;
    for (const auto& [child_name, child] : nodes[node].children)
      if (same_name(child_name, name)) return child;
    return kNoNode;
  }

  // ---- reasons ----

  void add_reason(ReasonCode code, std::string path, std::string message) {
    if (verdict.reasons.size() >= rules.max_reasons) {
      ++dropped_reasons;
      last_dropped = code;
      return;
    }
    verdict.reasons.push_back(Reason{code, std::move(path), std::move(message)});
  }

  // The record is not JSON: one reason, and the walk stops. `at` is the
  // offending byte's position in the record.
  bool syntax_error(std::size_t at, std::string_view what) {
    add_reason(ReasonCode::malformed_json, current_path(),
               fmt::format("not valid JSON at byte {}: {}", at, what));
    return false;
  }

  // ---- item output ----

  static constexpr std::size_t kInitialItemBytes = 16 * 1024;

  // Makes room for `more` bytes at the cursor, keeping what is written.
  void make_room(std::size_t more) {
    const auto used = static_cast<std::size_t>(cursor - item_buffer.get());
    if (item_capacity - used >= more) return;
    const std::size_t capacity = std::max(used + more, item_capacity * 2);
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    std::memcpy(grown.get(), item_buffer.get(), used);
    item_buffer = std::move(grown);
    item_capacity = capacity;
    cursor = item_buffer.get() + used;
  }

  void put(char c) { *cursor++ = c; }
  void put(std::string_view text) {
    std::memcpy(cursor, text.data(), text.size());
    cursor += text.size();
  }

  void put_padded(const char* from, std::size_t size) { cursor = copy_padded(cursor, from, size); }

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
    char* out = cursor;
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
    node = frame.node == kNoNode ? kNoNode : child_of(frame.node, name);
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
    cursor = out;
    return true;
  }

  void report_unstorable_number(const NumberInfo& info) {
    add_reason(ReasonCode::invalid_number, current_path(),
               info.significant_digits > kDynamoMaxSignificantDigits
                   ? fmt::format("number has {} significant digits; DynamoDB stores at most 38",
                                 info.significant_digits)
                   : std::string("number magnitude is outside DynamoDB's range 1E-130 .. "
                                 "9.9999999999999999999999999999999999999E+125"));
  }

  // Returns whether `name` is the source member of a key attribute of the same name.
  bool check_top_level_name(std::string_view name) {
    if (name.empty()) {
      add_reason(ReasonCode::invalid_format, "/",
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
        add_reason(ReasonCode::invalid_format, current_path(),
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
      add_reason(ReasonCode::duplicate_member, std::move(path),
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
      add_reason(ReasonCode::too_large, current_path(),
                 fmt::format("value is nested {} levels deep; DynamoDB allows {}", depth,
                             kDynamoMaxNestingDepth));
    }
    return depth < static_cast<int>(kMaxDepth);
  }

  void observe(std::uint32_t node, JsonType type, bool integer, std::string_view text,
               bool raw = false) {
    if (node == kNoNode) return;
    observations[node] = Observation{true, type, integer, text, raw};
  }

  // ---- rules ----

  std::optional<std::string> ancestor_problem(std::uint32_t node, ReasonCode& code) const {
    // The outermost ancestor that is absent or not an object explains the problem.
    for (const std::uint32_t ancestor : ancestors[node]) {
      const Observation& seen = observations[ancestor];
      if (!seen.present) {
        code = ReasonCode::missing;
        return nodes[ancestor].path;
      }
      if (seen.type != JsonType::object) {
        code = ReasonCode::wrong_type;
        return nodes[ancestor].path;
      }
    }
    return std::nullopt;
  }

  // Problems of one field rule; empty when it is satisfied.
  void evaluate_field(const FieldRule& rule, std::uint32_t node, std::vector<Reason>& found) {
    ReasonCode code = ReasonCode::missing;
    if (auto ancestor = ancestor_problem(node, code)) {
      if (rule.required) {
        const Observation& seen = observations[node];
        (void)seen;
        found.push_back(Reason{code, *ancestor,
                               code == ReasonCode::missing
                                   ? std::string("required member is missing")
                                   : fmt::format("is {}, expected an object",
                                                 describe(observed_type(*ancestor), false))});
      }
      // An optional member that is absent is fine (and, being absent, does
      // not satisfy a group: member_ok() sees it is not present).
      return;
    }
    const Observation& seen = observations[node];
    if (!seen.present) {
      if (rule.required)
        found.push_back(Reason{ReasonCode::missing, rule.path, "required member is missing"});
      return;
    }
    if (!type_matches(rule.types, seen)) {
      found.push_back(Reason{ReasonCode::wrong_type, rule.path,
                             fmt::format("is {}, expected {}", describe(seen.type, seen.integer),
                                         describe_types(rule.types))});
      return;
    }
    if (seen.type == JsonType::string) {
      if (rule.non_empty && trim_ascii_space(seen.text).empty()) {
        found.push_back(
            Reason{ReasonCode::empty, rule.path,
                   seen.text.empty() ? "is an empty string" : "contains only whitespace"});
        return;
      }
      if (rule.regex &&
          !RE2::FullMatch(re2::StringPiece(seen.text.data(), seen.text.size()), *rule.regex))
        found.push_back(Reason{ReasonCode::invalid_format, rule.path,
                               fmt::format("does not match the pattern {}", rule.pattern)});
      if (!rule.allowed.empty() &&
          std::find(rule.allowed.begin(), rule.allowed.end(), seen.text) == rule.allowed.end())
        found.push_back(Reason{
            ReasonCode::invalid_format, rule.path,
            fmt::format("is not one of the allowed values ({})", fmt::join(rule.allowed, ", "))});
    } else if (seen.type == JsonType::number && (rule.min || rule.max)) {
      double number = 0;
      std::from_chars(seen.text.data(), seen.text.data() + seen.text.size(), number);
      if (rule.min && number < *rule.min)
        found.push_back(Reason{ReasonCode::invalid_format, rule.path,
                               fmt::format("{} is below the minimum {}", seen.text, *rule.min)});
      if (rule.max && number > *rule.max)
        found.push_back(Reason{ReasonCode::invalid_format, rule.path,
                               fmt::format("{} is above the maximum {}", seen.text, *rule.max)});
    }
  }

  JsonType observed_type(const std::string& path) const {
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].path == path) return observations[i].type;
    return JsonType::null;
  }

  void evaluate_rules() {
    const std::size_t field_count = rules.fields.size();
    field_reasons.resize(field_count);
    for (std::size_t i = 0; i < field_count; ++i) {
      field_reasons[i].clear();
      evaluate_field(rules.fields[i], field_nodes[i], field_reasons[i]);
    }
    // A member of a satisfied group is not held to its own rule.
    excused.assign(field_count, false);
    for (std::size_t g = 0; g < rules.at_least_one.size(); ++g) {
      bool satisfied = false;
      for (const std::uint32_t member : group_nodes[g]) satisfied |= member_ok(member);
      if (satisfied) {
        for (std::size_t i = 0; i < field_count; ++i)
          if (std::find(group_nodes[g].begin(), group_nodes[g].end(), field_nodes[i]) !=
              group_nodes[g].end())
            excused[i] = true;
        continue;
      }
      const std::uint32_t parent = nodes[group_nodes[g].front()].parent;
      ReasonCode code = ReasonCode::missing;
      if (ancestor_problem(group_nodes[g].front(), code))
        continue;  // reported by the parent's rule
      (void)parent;
      add_reason(ReasonCode::missing, nodes[parent].path.empty() ? "/" : nodes[parent].path,
                 fmt::format("needs at least one of {} present and valid",
                             fmt::join(rules.at_least_one[g].paths, ", ")));
    }
    reported.clear();
    for (std::size_t i = 0; i < field_count; ++i) {
      if (excused[i]) continue;
      for (Reason& reason : field_reasons[i]) {
        const std::string key = fmt::format("{}|{}", static_cast<int>(reason.code), reason.path);
        if (std::find(reported.begin(), reported.end(), key) != reported.end()) continue;
        reported.push_back(key);
        add_reason(reason.code, std::move(reason.path), std::move(reason.message));
      }
    }
  }

  // Uses field_reasons, which evaluate_rules() has filled for every field.
  bool member_ok(std::uint32_t node) const {
    if (!observations[node].present) return false;
    for (std::size_t i = 0; i < rules.fields.size(); ++i)
      if (field_nodes[i] == node && !field_reasons[i].empty()) return false;
    return true;
  }

  // ---- item completion ----

  // Appends a key attribute: `prefix` is its name and type, `"OrderId":{"S":`;
  // the value is the observed text, copied as it stands when it is raw (it
  // then needs no escaping).
  void append_key_attribute(std::string_view prefix, const Observation& seen,
                            std::size_t value_size, bool& first) {
    const std::string_view value = seen.text;
    make_room(1 + prefix.size() + base::json_string_bound(value.size()) + 1 + kItemBytesSlack);
    if (!first) put(',');
    first = false;
    put(prefix);
    if (seen.raw && seen.type == JsonType::string) {
      put_padded(value.data() - 1, value.size() + 2);  // with its quotes
    } else if (seen.raw) {
      put('"');
      put_padded(value.data(), value.size());
      put('"');
    } else {
      cursor = base::write_json_string(cursor, value);
    }
    put('}');
    verdict.item_size += value_size;
  }

  // The metadata attributes as item JSON around the record index's digits,
  // built once per object (they depend only on the rules and the object).
  struct MetadataText {
    bool built = false;
    Provenance provenance;     // what the text was built for
    std::string before_index;  // ,"_source":{"S":"s3://..."},...,"_record_index":{"N":"
    std::string after_index;   // "}[,"_ingested_at":{"S":"..."}]
    std::size_t size = 0;      // DynamoDB size of the attributes, less the index value's
  };

  const MetadataText& metadata_for(const Provenance& provenance) {
    const Provenance& built_for = metadata_text.provenance;
    if (metadata_text.built && built_for.bucket == provenance.bucket &&
        built_for.key == provenance.key && built_for.etag == provenance.etag &&
        built_for.version_id == provenance.version_id &&
        built_for.ingested_at == provenance.ingested_at)
      return metadata_text;
    MetadataText text;
    text.built = true;
    text.provenance = provenance;
    const MetadataNames& names = rules.metadata;
    const auto add = [&](std::string& out, std::string_view name, std::string_view value) {
      out.push_back(',');
      base::append_json_string(out, name);
      out.append(":{\"S\":");
      base::append_json_string(out, value);
      out.push_back('}');
      text.size += name.size() + value.size();
    };
    const std::string source = fmt::format("s3://{}/{}", provenance.bucket, provenance.key);
    add(text.before_index, names.source, source);
    if (!provenance.etag.empty()) add(text.before_index, names.etag, provenance.etag);
    if (!provenance.version_id.empty())
      add(text.before_index, names.version_id, provenance.version_id);
    text.before_index.push_back(',');
    base::append_json_string(text.before_index, names.record_index);
    text.before_index.append(":{\"N\":\"");
    text.size += names.record_index.size();
    text.after_index.append("\"}");
    if (!provenance.ingested_at.empty())
      add(text.after_index, names.ingested_at, provenance.ingested_at);
    metadata_text = std::move(text);
    return metadata_text;
  }

  std::size_t key_value_size(const KeyAttribute& key, std::string_view value) const {
    return key.type == 'N' ? analyze_number(value).dynamodb_size : value.size();
  }

  void finish_item(const RawRecord& record, const Provenance& provenance, bool empty_record) {
    bool first = empty_record;
    const auto& key_text = [&](std::uint32_t node) { return observations[node].text; };
    const std::string_view partition = key_text(partition_node);
    verdict.partition_key.assign(partition);
    append_key_encoding(verdict.key, partition);
    if (partition.size() > kDynamoMaxPartitionKeyBytes)
      add_reason(ReasonCode::too_large, rules.partition_key.path,
                 fmt::format("partition key is {} bytes; DynamoDB allows {}", partition.size(),
                             kDynamoMaxPartitionKeyBytes));
    append_key_attribute(
        partition_prefix, observations[partition_node],
        rules.partition_key.attribute.size() + key_value_size(rules.partition_key, partition),
        first);
    if (rules.sort_key) {
      const std::string_view sort = key_text(sort_node);
      verdict.sort_key.assign(sort);
      append_key_encoding(verdict.key, sort);
      if (sort.size() > kDynamoMaxSortKeyBytes)
        add_reason(ReasonCode::too_large, rules.sort_key->path,
                   fmt::format("sort key is {} bytes; DynamoDB allows {}", sort.size(),
                               kDynamoMaxSortKeyBytes));
      append_key_attribute(sort_prefix, observations[sort_node],
                           rules.sort_key->attribute.size() + key_value_size(*rules.sort_key, sort),
                           first);
    }
    // The partition key attribute always precedes the metadata attributes.
    const MetadataText& metadata = metadata_for(provenance);
    char index_text[24];
    const auto index_end = std::to_chars(index_text, index_text + sizeof index_text, record.index);
    const std::string_view index(index_text, static_cast<std::size_t>(index_end.ptr - index_text));
    make_room(metadata.before_index.size() + index.size() + metadata.after_index.size() + 1);
    put(metadata.before_index);
    put(index);
    put(metadata.after_index);
    put('}');
    verdict.item_size += metadata.size + analyze_number(index).dynamodb_size;
    if (verdict.item_size > kDynamoMaxItemBytes)
      add_reason(ReasonCode::too_large, "",
                 fmt::format("item would be {} bytes by DynamoDB's size rules; the limit is {}",
                             verdict.item_size, kDynamoMaxItemBytes));
  }

  // ---- entry point ----

  const Verdict& check(const RawRecord& record, const Provenance& provenance) {
    verdict.valid = false;
    verdict.reasons.clear();
    verdict.key.clear();
    verdict.partition_key.clear();
    verdict.sort_key.clear();
    verdict.item_json = {};
    verdict.item_size = 0;
    dropped_reasons = 0;
    depth_reported = false;
    path_depth = 0;
    member_names.clear();
    std::fill(observations.begin(), observations.end(), Observation{});
    cursor = item_buffer.get();
    run(record, provenance);
    if (dropped_reasons > 0)
      verdict.reasons.push_back(
          Reason{last_dropped, "", fmt::format("{} more reasons not listed", dropped_reasons)});
    verdict.valid = verdict.reasons.empty();
    if (verdict.valid)
      verdict.item_json =
          std::string_view(item_buffer.get(), static_cast<std::size_t>(cursor - item_buffer.get()));
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
        add_reason(ReasonCode::too_large, "",
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
    make_room(kItemBytesPerRecordByte * text.size() + kItemBytesSlack);
    // Stage 1 validates the whole record as UTF-8, finds its strings (and
    // rejects control characters inside them) and indexes its structure.
    if (auto error = stage1->stage1(reinterpret_cast<const std::uint8_t*>(buffer), text.size(),
                                    simdjson::stage1_mode::regular)) {
      add_reason(ReasonCode::malformed_json, "", stage1_problem(error));
      return;
    }
    structurals = stage1->structural_indexes.get();
    structural_count = stage1->n_structural_indexes;
    const char first = buffer[structurals[0]];
    std::size_t size = 0;
    if (!walk(size)) return;
    if (first != '{') {
      // Checked to be JSON all the same, then rejected for its type.
      add_reason(ReasonCode::wrong_type, "",
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
    evaluate_rules();
    if (!verdict.reasons.empty()) return;
    finish_item(record, provenance, cursor == item_buffer.get() + 1);
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
  std::vector<PathNode> nodes;
  std::vector<std::uint32_t> field_nodes;
  std::vector<std::vector<std::uint32_t>> group_nodes;
  std::uint32_t partition_node = kNoNode;
  std::uint32_t sort_node = kNoNode;
  std::string partition_prefix;  // the key attributes' names and types as item JSON
  std::string sort_prefix;
  std::vector<std::string> reserved_names;

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
  // The item is written here through `cursor`, then copied to
  // verdict.item_json once when the record is valid. Room is made up front
  // for the worst case, so the pass itself never checks or grows.
  std::unique_ptr<char[]> item_buffer = std::make_unique_for_overwrite<char[]>(kInitialItemBytes);
  std::size_t item_capacity = kInitialItemBytes;
  char* cursor = item_buffer.get();
  const char* record_end = nullptr;  // in `padded`
  MetadataText metadata_text;
  std::vector<Observation> observations;
  std::vector<std::vector<std::uint32_t>> ancestors;  // per node, outermost first, root excluded
  std::vector<bool> excused;
  std::vector<std::string> reported;
  std::vector<std::vector<Reason>> field_reasons;
  std::vector<std::string_view> member_names;
  std::vector<std::string_view> sort_scratch;
  // One frame per open container; the walk stops at kMaxDepth.
  std::vector<Frame> frames = std::vector<Frame>(kMaxDepth + 2);
  std::size_t path_depth = 0;
  std::size_t dropped_reasons = 0;
  ReasonCode last_dropped = ReasonCode::malformed_json;
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
