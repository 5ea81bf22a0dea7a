#include "core/detail/gzip_inflater.hpp"

#include <fmt/format.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace salesflow::core {

namespace {

std::string_view describe(int status) {
  switch (status) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid deflate distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC32 or length mismatch";
    default:
      return "inflate error";
  }
}

}  // namespace

GzipInflater::GzipInflater() : state_(std::make_unique<inflate_state>()), output_(kOutputBytes) {}
GzipInflater::~GzipInflater() = default;
GzipInflater::GzipInflater(GzipInflater&&) noexcept = default;
GzipInflater& GzipInflater::operator=(GzipInflater&&) noexcept = default;

tl::expected<void, GzipError> GzipInflater::fail(std::string message) {
  error_ = GzipError{std::move(message), compressed_, decompressed_};
  return tl::make_unexpected(*error_);
}

tl::expected<void, GzipError> GzipInflater::feed(std::string_view compressed, ByteSink& sink) {
  if (error_) return tl::make_unexpected(*error_);
  while (true) {
    if (!member_open_) {
      if (compressed.empty()) return {};
      // A new member starts here (the first one, or one after a complete member).
      isal_inflate_init(state_.get());
      state_->crc_flag = ISAL_GZIP;
      member_open_ = true;
      member_finished_ = false;
    }
    state_->next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(compressed.data()));
    state_->avail_in = static_cast<std::uint32_t>(
        std::min<std::size_t>(compressed.size(), std::numeric_limits<std::uint32_t>::max()));
    const std::uint32_t offered = state_->avail_in;
    state_->next_out = output_.data();
    state_->avail_out = static_cast<std::uint32_t>(output_.size());
    const int status = isal_inflate(state_.get());
    const std::size_t consumed = offered - state_->avail_in;
    const std::size_t produced = output_.size() - state_->avail_out;
    compressed.remove_prefix(consumed);
    compressed_ += consumed;
    if (produced > 0) {
      decompressed_ += produced;
      sink.on_bytes(std::string_view(reinterpret_cast<const char*>(output_.data()), produced));
    }
    if (status < 0) {
      return fail(
          fmt::format("corrupt gzip stream: {} (isa-l status {})", describe(status), status));
    }
    if (state_->block_state == ISAL_BLOCK_FINISH) {
      member_open_ = false;
      member_finished_ = true;
      continue;
    }
    // A full output buffer may leave more output inside isa-l; otherwise the
    // input is used up and the member goes on in the next piece.
    if (produced < output_.size() && compressed.empty()) return {};
    if (produced == 0 && consumed == 0) return {};
  }
}

tl::expected<void, GzipError> GzipInflater::finish() {
  if (error_) return tl::make_unexpected(*error_);
  if (member_open_) return fail("truncated gzip stream: the last member is incomplete");
  if (!member_finished_) return fail("empty gzip stream");
  return {};
}

}  // namespace salesflow::core
