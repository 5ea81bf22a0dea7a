#pragma once
// `salesflow validate`: the record core over local files, offline.

#include <string>
#include <vector>

#include "core/duplicate_tracking.hpp"
#include "core/reader.hpp"
#include "core/record_validator.hpp"

namespace salesflow::app {

struct ValidateOptions {
  std::vector<std::string> files;
  core::ReaderOptions reader;
  core::DuplicateTrackingOptions duplicate_tracking;  // for each file (one at a time)
  bool json = false;
  bool progress = false;  // draw a progress bar on stderr (only when it is a terminal)
};

// Prints the per-file report (human or JSON) to stdout. Returns 0 when every
// record of every file is valid, 1 when some were rejected, 2 when a file
// could not be read or its duplicates not tracked (a scratch file could not be
// written or read; each named on stderr in one line).
int run_validate(const ValidateOptions& options, core::RecordValidator& validator);

}  // namespace salesflow::app
