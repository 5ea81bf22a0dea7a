#include "core/detail/split_common.hpp"

#include <utility>

#include "base/text.hpp"
#include "base/utf8.hpp"
#include "core/detail/emitter.hpp"

namespace salesflow::core {

void Emitter::fault(std::uint64_t begin, std::uint64_t end, ReasonCode code, std::string message,
                    std::string_view raw_excerpt) {
  handler_.on_fault(FileFault{begin, end, records_, Reason{code, "", std::move(message)},
                              make_excerpt(raw_excerpt)});
}

namespace {

// Reads the 4 hex digits at s[pos..pos+4) as a code unit, or -1.
long read_hex4(std::string_view s, std::size_t pos) {
  if (pos + 4 > s.size()) return -1;
  long value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const int digit = base::hex_value(s[pos + i]);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

std::string make_excerpt(std::string_view raw) {
  raw = raw.substr(0, kExcerptBytes);
  std::string out;
  out.reserve(raw.size());
  std::size_t i = 0;
  while (i < raw.size()) {
    const auto byte = static_cast<unsigned char>(raw[i]);
    if (byte >= 0x20 && byte < 0x7F) {
      out.push_back(static_cast<char>(byte));
      ++i;
    } else if (byte == '\n' || byte == '\r' || byte == '\t') {
      out.push_back(' ');
      ++i;
    } else if (const std::size_t length =
                   byte >= 0x80 ? base::utf8_sequence_length(raw.substr(i)) : 0;
               length > 0) {
      out.append(raw.substr(i, length));
      i += length;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

bool json_string_equals(std::string_view escaped, std::string_view name) {
  if (escaped.find('\\') == std::string_view::npos) {
    return escaped == name;
  }
  std::string decoded;
  decoded.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\') {
      decoded.push_back(escaped[i]);
      continue;
    }
    if (++i == escaped.size()) return false;
    switch (escaped[i]) {
      case '"':
        decoded.push_back('"');
        break;
      case '\\':
        decoded.push_back('\\');
        break;
      case '/':
        decoded.push_back('/');
        break;
      case 'b':
        decoded.push_back('\b');
        break;
      case 'f':
        decoded.push_back('\f');
        break;
      case 'n':
        decoded.push_back('\n');
        break;
      case 'r':
        decoded.push_back('\r');
        break;
      case 't':
        decoded.push_back('\t');
        break;
      case 'u': {
        long unit = read_hex4(escaped, i + 1);
        if (unit < 0) return false;
        i += 4;
        unsigned long cp = static_cast<unsigned long>(unit);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // A high surrogate must be followed by an escaped low surrogate.
          if (i + 2 >= escaped.size() || escaped[i + 1] != '\\' || escaped[i + 2] != 'u') {
            return false;
          }
          const long low = read_hex4(escaped, i + 3);
          if (low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<unsigned long>(low) - 0xDC00);
          i += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;
        }
        append_utf8(decoded, cp);
        break;
      }
      default:
        return false;
    }
  }
  return decoded == name;
}

}  // namespace salesflow::core
