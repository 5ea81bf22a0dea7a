#include "app/detail/validate_command.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/detail/commands.hpp"
#include "app/detail/progress.hpp"
#include "app/settings.hpp"
#include "core/object_validator.hpp"
#include "core/reader.hpp"
#include "core/record_validator.hpp"

namespace salesflow::app {
namespace {

constexpr std::size_t kReadChunk = std::size_t{1} << 20;
constexpr std::size_t kShownRejects = 10;

struct Reject {
  std::uint64_t index = 0;
  std::uint64_t offset = 0;
  std::uint64_t line = 0;
  bool file_level = false;
  std::uint64_t end = 0;
  std::vector<core::Reason> reasons;
};

struct FileSummary {
  std::string path;
  std::string error;  // unreadable: the one-line reason
  core::Tally tally;
  std::uint64_t faults = 0;
  std::uint64_t bytes = 0;
  core::InputFormat format = core::InputFormat::automatic;
  bool gzip = false;
  std::vector<Reject> first_rejects;
};

class Collector final : public core::RecordHandler {
 public:
  Collector(core::ObjectValidator& object, FileSummary& summary)
      : object_(object), summary_(summary) {}

  void on_record(const core::RawRecord& record) override {
    if (!summary_.error.empty()) {
      return;  // no verdicts after a tracking error
    }
    const auto disposition = object_.check(record);
    if (!disposition) {
      summary_.error = fmt::format("{}: {}", summary_.path, disposition.error().to_string());
      return;
    }
    if (*disposition == core::Disposition::reject &&
        summary_.first_rejects.size() < kShownRejects) {
      summary_.first_rejects.push_back(
          Reject{record.index, record.offset, record.line, false, 0, object_.verdict().reasons});
    }
  }
  void on_fault(const core::FileFault& fault) override {
    if (!summary_.error.empty()) {
      return;
    }
    object_.count_fault();
    if (summary_.first_rejects.size() < kShownRejects) {
      summary_.first_rejects.push_back(
          Reject{fault.records_before, fault.begin, 0, true, fault.end, {fault.reason}});
    }
  }

 private:
  core::ObjectValidator& object_;
  FileSummary& summary_;
};

// Opens a regular file for reading, or says in one line why not.
tl::expected<int, std::string> open_regular(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return tl::make_unexpected(fmt::format("{}: {}", path, std::strerror(errno)));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || S_ISDIR(info.st_mode)) {
    ::close(fd);
    return tl::make_unexpected(fmt::format("{}: is a directory", path));
  }
  return fd;
}

FileSummary validate_file(const std::string& path, const ValidateOptions& options,
                          core::RecordValidator& validator) {
  FileSummary summary;
  summary.path = path;
  auto fd = open_regular(path);
  if (!fd) {
    summary.error = fd.error();
    return summary;
  }
  struct stat info {};
  ::fstat(*fd, &info);
  const auto total = static_cast<std::uint64_t>(info.st_size);

  core::ObjectValidator object(validator, core::Provenance{"", path, "", "", "", ""},
                               options.duplicate_tracking);
  Collector collector(object, summary);
  core::RecordReader reader(options.reader);
  Progress progress(path, total, options.progress);
  std::vector<char> buffer(kReadChunk);
  for (;;) {
    const ssize_t got = ::read(*fd, buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      summary.error = fmt::format("{}: {}", path, std::strerror(errno));
      break;
    }
    if (got == 0) {
      break;
    }
    summary.bytes += static_cast<std::uint64_t>(got);
    reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(got)), collector);
    progress.update(summary.bytes, object.tally().records);
    if (!summary.error.empty()) {
      break;
    }
  }
  ::close(*fd);
  if (summary.error.empty()) {
    reader.finish(collector);
  }
  progress.done();
  summary.tally = object.tally();
  summary.faults = object.faults();
  summary.format = reader.detected_format();
  summary.gzip = reader.is_gzip();
  return summary;
}

constexpr std::array kAllCodes = {
    core::ReasonCode::missing,        core::ReasonCode::wrong_type,
    core::ReasonCode::empty,          core::ReasonCode::invalid_format,
    core::ReasonCode::malformed_json, core::ReasonCode::invalid_number,
    core::ReasonCode::too_large,      core::ReasonCode::duplicate_member,
    core::ReasonCode::duplicate_key,
};

void print_human(const std::vector<FileSummary>& files, std::FILE* out) {
  for (const auto& file : files) {
    if (!file.error.empty()) {
      fmt::print(out, "{}: unreadable: {}\n", file.path, file.error);
      continue;
    }
    const auto& t = file.tally;
    fmt::print(out, "{}: {}{}, {} bytes\n", file.path, core::to_string(file.format),
               file.gzip ? " (gzip)" : "", file.bytes);
    fmt::print(out, "  records {}  valid {}  rejected {}  duplicates {}  file-level faults {}\n",
               t.records, t.valid, t.rejected, t.duplicates, file.faults);
    for (const auto code : kAllCodes) {
      if (t.count(code) != 0) {
        fmt::print(out, "  {:<17} {}\n", core::to_string(code), t.count(code));
      }
    }
    for (const auto& reject : file.first_rejects) {
      if (reject.file_level) {
        fmt::print(out, "  bytes {}..{} (after record {}):\n", reject.offset, reject.end,
                   reject.index);
      } else if (reject.line != 0) {
        fmt::print(out, "  record {} (line {}, byte {}):\n", reject.index, reject.line,
                   reject.offset);
      } else {
        fmt::print(out, "  record {} (byte {}):\n", reject.index, reject.offset);
      }
      for (const auto& reason : reject.reasons) {
        fmt::print(out, "    {} {}: {}\n", core::to_string(reason.code),
                   reason.path.empty() ? "/" : reason.path, reason.message);
      }
    }
  }
}

void print_json(const std::vector<FileSummary>& files, std::FILE* out) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("files");
  w.StartArray();
  for (const auto& file : files) {
    w.StartObject();
    w.Key("file");
    w.String(file.path.c_str(), static_cast<rapidjson::SizeType>(file.path.size()));
    if (!file.error.empty()) {
      w.Key("error");
      w.String(file.error.c_str(), static_cast<rapidjson::SizeType>(file.error.size()));
      w.EndObject();
      continue;
    }
    const std::string format(core::to_string(file.format));
    w.Key("format");
    w.String(format.c_str(), static_cast<rapidjson::SizeType>(format.size()));
    w.Key("gzip");
    w.Bool(file.gzip);
    w.Key("bytes");
    w.Uint64(file.bytes);
    w.Key("records");
    w.Uint64(file.tally.records);
    w.Key("valid");
    w.Uint64(file.tally.valid);
    w.Key("rejected");
    w.Uint64(file.tally.rejected);
    w.Key("duplicates");
    w.Uint64(file.tally.duplicates);
    w.Key("file_faults");
    w.Uint64(file.faults);
    w.Key("reasons");
    w.StartObject();
    for (const auto code : kAllCodes) {
      const std::string name(core::to_string(code));
      w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
      w.Uint64(file.tally.count(code));
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  fmt::print(out, "{}\n", buffer.GetString());
}

}  // namespace

int run_validate(const ValidateOptions& options, core::RecordValidator& validator) {
  std::vector<FileSummary> files;
  files.reserve(options.files.size());
  for (const auto& path : options.files) {
    files.push_back(validate_file(path, options, validator));
  }
  if (options.json) {
    print_json(files, stdout);
  } else {
    print_human(files, stdout);
  }
  int status = 0;
  for (const auto& file : files) {
    if (!file.error.empty()) {
      fmt::print(stderr, "salesflow validate: {}\n", file.error);
      status = 2;
    } else if (status == 0 && (file.tally.rejected != 0 || file.faults != 0)) {
      status = 1;
    }
  }
  return status;
}

void add_validate_command(CLI::App& root, Settings& settings, int& status) {
  auto options = std::make_shared<ValidateOptions>();
  auto* command = root.add_subcommand(
      "validate",
      "Check local files offline with the same readers and rules as the worker: per-file\n"
      "counts, a histogram of reason codes and the first rejects with their location.\n"
      "Exit status: 0 all valid, 1 some records rejected, 2 usage error or unreadable file.");
  command->add_flag("--json", options->json, "Print a machine-readable summary instead");
  command->add_option("files", options->files, "Files to check")->required();
  add_duplicate_tracking_options(*command, settings);
  command->callback([&settings, &status, options] {
    auto rules = load_rules(settings);
    if (!rules) {
      fmt::print(stderr, "salesflow: {}\n", rules.error());
      status = kExitUsage;
      return;
    }
    options->reader = reader_options(settings);
    options->duplicate_tracking = duplicate_tracking_options(settings, 1);
    options->progress = !options->json;
    core::RecordValidator validator(std::move(*rules));
    status = run_validate(*options, validator);
  });
}

}  // namespace salesflow::app
