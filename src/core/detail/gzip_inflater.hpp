#pragma once
// Streaming gzip decompression with isa-l (igzip), CRC32 and length checked.
// Concatenated gzip members (`cat a.gz b.gz`) decompress to the concatenation
// of their contents, as with gzip(1).
//
// Cost: isa-l inflate (several GB/s of output per core on x86-64); output is
// handed out in pieces of up to kOutputBytes from an internal buffer, so memory
// is that buffer plus isa-l's state (~100 KiB), whatever the stream's size.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

struct inflate_state;  // <isa-l/igzip_lib.h>

namespace salesflow::core {

// Where decompressed bytes go.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // `bytes` is valid only during the call.
  virtual void on_bytes(std::string_view bytes) = 0;
};

// Why a gzip stream could not be decompressed to its end.
struct GzipError {
  std::string message;
  std::uint64_t compressed_offset = 0;    // bytes of input consumed when it broke
  std::uint64_t decompressed_offset = 0;  // bytes of output produced before it broke
};

// Whether `prefix` begins with the gzip magic bytes 1f 8b.
constexpr bool has_gzip_magic(std::string_view prefix) {
  return prefix.size() >= 2 && static_cast<unsigned char>(prefix[0]) == 0x1f &&
         static_cast<unsigned char>(prefix[1]) == 0x8b;
}

class GzipInflater {
 public:
  static constexpr std::size_t kOutputBytes = 256 * 1024;

  GzipInflater();
  ~GzipInflater();
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;
  GzipInflater(GzipInflater&&) noexcept;
  GzipInflater& operator=(GzipInflater&&) noexcept;

  // Decompresses `compressed` (any piece of the stream) into `sink`. After the
  // first error, every later call returns that error and produces nothing.
  [[nodiscard]] tl::expected<void, GzipError> feed(std::string_view compressed, ByteSink& sink);
  // End of input: an error if the stream is empty or its last member is cut short.
  [[nodiscard]] tl::expected<void, GzipError> finish();

  std::uint64_t compressed_bytes() const { return compressed_; }
  std::uint64_t decompressed_bytes() const { return decompressed_; }

 private:
  [[nodiscard]] tl::expected<void, GzipError> fail(std::string message);

  std::unique_ptr<inflate_state> state_;
  std::vector<unsigned char> output_;
  bool member_open_ = false;      // a member has begun and not yet ended
  bool member_finished_ = false;  // the last member ended; the next byte starts another
  std::uint64_t compressed_ = 0;
  std::uint64_t decompressed_ = 0;
  std::optional<GzipError> error_;
};

}  // namespace salesflow::core
