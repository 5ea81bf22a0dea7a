#include "app/detail/validate_command.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/detail/commands.hpp"
#include "app/detail/progress.hpp"
#include "app/settings.hpp"
#include "base/fatal.hpp"
#include "base/text.hpp"
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

// What the reading thread saw of one record or file-level fault, for the
// settling thread. A record's verdict is kept without its item (validate
// writes nothing) and its trimmed text lives in the batch's `text`.
struct Checked {
  bool is_fault = false;
  core::Verdict verdict;
  std::uint64_t index = 0;
  std::uint64_t offset = 0;
  std::uint64_t line = 0;
  std::size_t text_begin = 0;
  std::size_t text_size = 0;
  core::FileFault fault;
};

// Records handed from the reading thread to the settling one. Batches are
// recycled, so the entries' strings keep their capacity.
struct Batch {
  std::string text;
  std::vector<Checked> entries;
  std::size_t used = 0;     // entries[0, used) are this batch's
  std::uint64_t bytes = 0;  // of the file read when the batch was handed over
  bool last = false;        // the reading thread is done after this one
};

constexpr std::size_t kBatchEntries = 2048;
constexpr std::size_t kBatchesInFlight = 4;

// Two queues of batches between the threads: full ones to the settling
// thread, settled ones back to the reading thread.
class BatchExchange {
 public:
  BatchExchange() {
    for (std::size_t i = 0; i < kBatchesInFlight; ++i) {
      free_.push_back(std::make_unique<Batch>());
    }
  }

  std::unique_ptr<Batch> take_free() { return take(free_); }
  void give_full(std::unique_ptr<Batch> batch) { give(full_, std::move(batch)); }
  std::unique_ptr<Batch> take_full() { return take(full_); }
  void give_free(std::unique_ptr<Batch> batch) { give(free_, std::move(batch)); }

 private:
  std::unique_ptr<Batch> take(std::vector<std::unique_ptr<Batch>>& from) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&from] { return !from.empty(); });
    auto batch = std::move(from.front());
    from.erase(from.begin());
    return batch;
  }
  void give(std::vector<std::unique_ptr<Batch>>& to, std::unique_ptr<Batch> batch) {
    {
      const std::scoped_lock lock(mutex_);
      to.push_back(std::move(batch));
    }
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<Batch>> free_;
  std::vector<std::unique_ptr<Batch>> full_;
};

// The reading thread's handler: validates each record and files it in the
// current batch, handing batches over as they fill.
class Checker final : public core::RecordHandler {
 public:
  Checker(core::RecordValidator& validator, BatchExchange& exchange)
      : validator_(validator), exchange_(exchange), batch_(exchange.take_free()) {
    reset(*batch_);
  }

  void on_record(const core::RawRecord& record) override {
    Checked& entry = next();
    const core::Verdict& verdict = validator_.check(record, provenance_);
    entry.is_fault = false;
    entry.verdict = verdict;       // assignment: the strings keep their capacity
    entry.verdict.item_json = {};  // a view into the validator's buffer, not kept
    entry.index = record.index;
    entry.offset = record.offset;
    entry.line = record.line;
    const std::string_view text = base::trim(record.text);
    entry.text_begin = batch_->text.size();
    entry.text_size = text.size();
    batch_->text.append(text);
    filed();
  }
  void on_fault(const core::FileFault& fault) override {
    Checked& entry = next();
    entry.is_fault = true;
    entry.fault = fault;
    filed();
  }

  void set_bytes(std::uint64_t bytes) { bytes_ = bytes; }
  // Hands over what is left, marked as the last batch.
  void finish() {
    batch_->bytes = bytes_;
    batch_->last = true;
    exchange_.give_full(std::move(batch_));
  }

 private:
  static void reset(Batch& batch) {
    batch.text.clear();
    batch.used = 0;
    batch.last = false;
  }
  Checked& next() {
    if (batch_->used == batch_->entries.size()) batch_->entries.emplace_back();
    return batch_->entries[batch_->used];
  }
  void filed() {
    ++batch_->used;
    if (batch_->used == kBatchEntries) {
      batch_->bytes = bytes_;
      exchange_.give_full(std::move(batch_));
      batch_ = exchange_.take_free();
      reset(*batch_);
    }
  }

  core::RecordValidator& validator_;
  BatchExchange& exchange_;
  std::unique_ptr<Batch> batch_;
  core::Provenance provenance_;
  std::uint64_t bytes_ = 0;
};

// The settling thread's side: duplicate tracking, the tally and the first
// rejects, in file order.
class Collector {
 public:
  Collector(core::ObjectValidator& object, FileSummary& summary)
      : object_(object), summary_(summary) {}

  void settle(const Batch& batch) {
    for (std::size_t i = 0; i < batch.used && summary_.error.empty(); ++i) {
      const Checked& entry = batch.entries[i];
      if (entry.is_fault) {
        on_fault(entry.fault);
      } else {
        on_record(entry, std::string_view(batch.text).substr(entry.text_begin, entry.text_size));
      }
    }
  }

 private:
  void on_record(const Checked& entry, std::string_view text) {
    const auto disposition = object_.settle(entry.verdict, text);
    if (!disposition) {
      summary_.error = fmt::format("{}: {}", summary_.path, disposition.error().to_string());
      return;
    }
    if (*disposition == core::Disposition::reject &&
        summary_.first_rejects.size() < kShownRejects) {
      summary_.first_rejects.push_back(
          Reject{entry.index, entry.offset, entry.line, false, 0, object_.verdict().reasons});
    }
  }
  void on_fault(const core::FileFault& fault) {
    object_.count_fault();
    if (summary_.first_rejects.size() < kShownRejects) {
      summary_.first_rejects.push_back(
          Reject{fault.records_before, fault.begin, 0, true, fault.end, {fault.reason}});
    }
  }

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

// Two threads per file: this one reads, splits and validates (the reader and
// RecordValidator::check, most of the cost); the other settles each verdict
// in file order (the duplicate tracker's digest and lookup, the tally). The
// records and their order are exactly those of one thread doing both.
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
  BatchExchange exchange;
  std::atomic<bool> settling_failed{false};
  std::string read_error;
  core::RecordReader reader(options.reader);
  std::thread reading([&] {
    base::run_or_die("validate reading thread", [&] {
      Checker checker(validator, exchange);
      std::vector<char> buffer(kReadChunk);
      std::uint64_t bytes = 0;
      while (!settling_failed.load()) {
        const ssize_t got = ::read(*fd, buffer.data(), buffer.size());
        if (got < 0) {
          if (errno == EINTR) {
            continue;
          }
          read_error = fmt::format("{}: {}", path, std::strerror(errno));
          break;
        }
        if (got == 0) {
          reader.finish(checker);
          break;
        }
        bytes += static_cast<std::uint64_t>(got);
        checker.set_bytes(bytes);
        reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(got)), checker);
      }
      checker.set_bytes(bytes);
      checker.finish();
    });
  });

  Collector collector(object, summary);
  Progress progress(path, total, options.progress);
  for (;;) {
    auto batch = exchange.take_full();
    collector.settle(*batch);
    if (!summary.error.empty()) {
      settling_failed.store(true);  // a tracking error: no verdicts from here on
    }
    summary.bytes = batch->bytes;
    progress.update(summary.bytes, object.tally().records);
    const bool last = batch->last;
    exchange.give_free(std::move(batch));
    if (last) {
      break;
    }
  }
  reading.join();
  ::close(*fd);
  if (summary.error.empty() && !read_error.empty()) {
    summary.error = read_error;
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
