#pragma once
// The console's web page (src/app/console/), built into the binary by
// cmake/embed_assets.cmake: it works offline, with no file beside the binary
// and nothing fetched from elsewhere.

#include <span>
#include <string_view>

namespace salesflow::app {

struct ConsoleAsset {
  std::string_view path;  // "/index.html", "/app.js", ...
  std::string_view content_type;
  std::string_view body;
};

[[nodiscard]] std::span<const ConsoleAsset> console_assets();

}  // namespace salesflow::app
