#pragma once
// How the splitters hand records and faults to the reader's RecordHandler
// (core/reader.hpp).

#include <cstdint>
#include <string>
#include <string_view>

#include "core/reader.hpp"
#include "core/record.hpp"

namespace salesflow::core {

// Numbers records and forwards them and faults to a handler. One per
// feed/finish call; `records` is the reader's running count.
class Emitter {
 public:
  Emitter(RecordHandler& handler, std::uint64_t& records) : handler_(handler), records_(records) {}

  void record(std::string_view text, std::uint64_t offset, std::uint64_t line) {
    handler_.on_record(RawRecord{text, records_++, offset, line});
  }
  void fault(std::uint64_t begin, std::uint64_t end, ReasonCode code, std::string message,
             std::string_view raw_excerpt);
  std::uint64_t records() const { return records_; }

 private:
  RecordHandler& handler_;
  std::uint64_t& records_;
};

}  // namespace salesflow::core
