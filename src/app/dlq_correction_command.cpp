// `salesflow dlq export`, `dlq replay FILE` and `dlq discard ID...`: the
// correction loop from the terminal (docs/correction.md). The work is done by
// src/pipeline/correction_loop.hpp; this file reads files and flags, prints
// summaries and chooses exit statuses.

#include <fcntl.h>
#include <fmt/core.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "app/detail/aws_clients.hpp"
#include "app/detail/commands.hpp"
#include "app/detail/correction_support.hpp"
#include "base/time.hpp"
#include "pipeline/correction_loop.hpp"

namespace salesflow::app {
namespace {

struct CorrectionOptions {
  std::string output = "-";
  std::vector<std::string> reasons;
  std::string source;
  std::string since;
  std::size_t limit = 0;
  int visibility_s = 300;
  std::string file;
  bool dry_run = false;
  bool json = false;
  std::vector<std::string> ids;
  std::string ids_file;
  std::string audit;
  std::string reason;
};

pipeline::DlqSweepOptions sweep_options(const CorrectionOptions& options) {
  pipeline::DlqSweepOptions sweep;
  sweep.visibility = std::chrono::seconds(options.visibility_s);
  return sweep;
}

// "received N messages" on stderr when it is a terminal, at most 10 times a second.
class SweepBar {
 public:
  SweepBar() : enabled_(isatty(STDERR_FILENO) == 1) {}
  ~SweepBar() {
    if (drawn_) fmt::print(stderr, "\r\033[K");
  }
  SweepBar(const SweepBar&) = delete;
  SweepBar& operator=(const SweepBar&) = delete;

  pipeline::SweepProgress callback() {
    if (!enabled_) return {};
    return [this](std::size_t received) {
      const auto now = std::chrono::steady_clock::now();
      if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
      last_ = now;
      drawn_ = true;
      fmt::print(stderr, "\rreading the DLQ: {} messages", received);
    };
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

void report_hand_back(const pipeline::SweepFailures& failures, int visibility_s) {
  if (!failures.ok()) {
    fmt::print(stderr,
               "salesflow dlq: {} messages could not be handed back ({}); they reappear within "
               "{} s\n",
               failures.failed, failures.first_error, visibility_s);
  }
}

// ---- export ----

int run_export(const Settings& settings, const CorrectionOptions& options) {
  auto session = open_correction_session(settings, core::Rules::defaults());
  if (!session) {
    fmt::print(stderr, "salesflow dlq export: {}\n", session.error());
    return kExitUsage;
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (options.output != "-") {
    file.open(options.output, std::ios::out | std::ios::trunc);
    if (!file) {
      fmt::print(stderr, "salesflow dlq export: cannot write {}: {}\n", options.output,
                 std::strerror(errno));
      return kExitUsage;
    }
    out = &file;
  }
  pipeline::ExportFilter filter;
  filter.reasons = options.reasons;
  filter.source_prefix = options.source;
  filter.since = options.since;
  filter.limit = options.limit;
  SweepBar bar;
  const pipeline::ExportReport report = pipeline::export_envelopes(
      session->clients(), session->dlq_url(), filter, sweep_options(options),
      [out](const std::string& line) { *out << line << '\n'; }, bar.callback());
  out->flush();
  if (!*out) {
    fmt::print(stderr, "salesflow dlq export: writing {} failed\n", options.output);
    return kExitUsage;
  }
  report_hand_back(report.hand_back, options.visibility_s);
  for (const auto& problem : report.problems)
    fmt::print(stderr, "salesflow dlq export: {}\n", problem);
  fmt::print(stderr, "exported {} envelopes from {} messages of {}", report.envelopes,
             report.messages, settings.resources.dlq);
  if (report.repeats != 0) fmt::print(stderr, ", {} repeated messages collapsed", report.repeats);
  if (report.filtered != 0) fmt::print(stderr, ", {} left out by the filters", report.filtered);
  if (report.foreign != 0)
    fmt::print(stderr, ", {} messages not salesflow envelopes", report.foreign);
  fmt::print(stderr, "{}\n",
             options.output == "-" ? std::string() : fmt::format(" into {}", options.output));
  if (report.error) {
    fmt::print(stderr, "salesflow dlq export: the DLQ could not be read to the end: {}\n",
               report.error->to_string());
    return kExitUsage;
  }
  if (!report.whole_queue && report.envelopes != options.limit) {
    fmt::print(stderr,
               "salesflow dlq export: the DLQ holds more messages than one pass can hold; "
               "export again for the rest\n");
  }
  return report.unreadable != 0 ? kExitFindings : kExitOk;
}

// ---- replay ----

// The corrections of a replay file, or one error per bad line.
tl::expected<std::vector<core::Correction>, std::vector<std::string>> read_corrections(
    std::istream& in) {
  std::vector<core::Correction> corrections;
  std::vector<std::string> errors;
  std::map<std::string, std::uint64_t> line_of_id;
  std::string text;
  std::uint64_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto correction = core::parse_correction(text, line);
    if (!correction) {
      errors.push_back(fmt::format("line {}: {}", line, correction.error()));
      continue;
    }
    if (const auto [at, inserted] = line_of_id.emplace(correction->id, line); !inserted) {
      errors.push_back(fmt::format("line {}: id {} is already corrected on line {}", line,
                                   correction->id, at->second));
      continue;
    }
    corrections.push_back(std::move(*correction));
  }
  if (in.bad()) errors.emplace_back(fmt::format("reading failed: {}", std::strerror(errno)));
  if (!errors.empty()) return tl::make_unexpected(std::move(errors));
  return corrections;
}

void write_replay_json(const pipeline::ReplayReport& report, bool dry_run) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  std::map<std::string, std::size_t> by_status;
  for (const auto& result : report.results) ++by_status[std::string(to_string(result.status))];
  w.StartObject();
  write_key(w, "dry_run");
  w.Bool(dry_run);
  write_key(w, "corrections");
  w.Uint64(report.results.size());
  write_key(w, "by_status");
  w.StartObject();
  for (const auto& [status, count] : by_status) {
    write_key(w, status);
    w.Uint64(count);
  }
  w.EndObject();
  write_key(w, "messages_received");
  w.Uint64(report.messages);
  write_key(w, "messages_deleted");
  w.Uint64(report.messages_deleted);
  write_key(w, "offload_objects_deleted");
  w.Uint64(report.offload_objects_deleted);
  write_key(w, "whole_queue");
  w.Bool(report.whole_queue);
  write_key(w, "results");
  w.StartArray();
  for (const auto& result : report.results) write_replay_result(w, result);
  w.EndArray();
  w.EndObject();
  fmt::print("{}\n", buffer.GetString());
}

void write_replay_text(const pipeline::ReplayReport& report, const Settings& settings,
                       bool dry_run) {
  for (const auto& result : report.results) {
    if (pipeline::settled(result.status)) continue;
    fmt::print("line {}  {}  {}", result.line, result.id, to_string(result.status));
    if (!result.detail.empty()) fmt::print(": {}", result.detail);
    fmt::print("\n");
    for (const auto& reason : result.reasons) {
      fmt::print("    {} {} {}\n", to_string(reason.code), reason.path.empty() ? "/" : reason.path,
                 reason.message);
    }
  }
  std::map<pipeline::ReplayStatus, std::size_t> by_status;
  for (const auto& result : report.results) ++by_status[result.status];
  std::string counts;
  for (const auto& [status, count] : by_status) {
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", count, to_string(status));
  }
  if (dry_run) {
    fmt::print("dry run: {} corrections: {} (nothing written, nothing deleted)\n",
               report.results.size(), counts);
    return;
  }
  fmt::print("{} corrections: {}; {} DLQ messages read, {} deleted from {}", report.results.size(),
             counts, report.messages, report.messages_deleted, settings.resources.dlq);
  if (report.offload_objects_deleted != 0) {
    fmt::print(", {} offloaded texts deleted", report.offload_objects_deleted);
  }
  fmt::print("; table {}\n", settings.resources.table);
}

int run_replay(const Settings& settings, const CorrectionOptions& options) {
  auto rules = load_rules(settings);
  if (!rules) {
    fmt::print(stderr, "salesflow dlq replay: {}\n", rules.error());
    return kExitUsage;
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (options.file != "-") {
    file.open(options.file);
    if (!file) {
      fmt::print(stderr, "salesflow dlq replay: cannot read {}: {}\n", options.file,
                 std::strerror(errno));
      return kExitUsage;
    }
    in = &file;
  }
  auto corrections = read_corrections(*in);
  if (!corrections) {
    for (const auto& error : corrections.error()) {
      fmt::print(stderr, "salesflow dlq replay: {}: {}\n", options.file, error);
    }
    fmt::print(stderr, "salesflow dlq replay: nothing replayed; fix the file and run again\n");
    return kExitUsage;
  }
  pipeline::ReplayOptions replay;
  replay.table = settings.resources.table;
  replay.corrected_at = base::iso8601_utc_ms(std::chrono::system_clock::now());
  replay.dry_run = options.dry_run;
  replay.sweep = sweep_options(options);

  pipeline::ReplayReport report;
  if (options.dry_run) {
    // Touches no queue and no table: nothing to connect to.
    report = pipeline::dry_run_corrections(*rules, *corrections, replay);
  } else {
    auto session = open_correction_session(settings, *rules);
    if (!session) {
      fmt::print(stderr, "salesflow dlq replay: {}\n", session.error());
      return kExitUsage;
    }
    SweepBar bar;
    report = pipeline::replay_corrections(session->clients(), *rules, session->dlq_url(),
                                          *corrections, replay, bar.callback());
  }
  report_hand_back(report.hand_back, options.visibility_s);
  for (const auto& failure : report.offload_delete_failures) {
    fmt::print(stderr, "salesflow dlq replay: offloaded text left behind (harmless): {}\n",
               failure);
  }
  if (options.json) {
    write_replay_json(report, options.dry_run);
  } else {
    write_replay_text(report, settings, options.dry_run);
  }
  if (report.error) {
    fmt::print(stderr, "salesflow dlq replay: the DLQ could not be read to the end: {}\n",
               report.error->to_string());
    return kExitUsage;
  }
  const bool io_failed = report.count(pipeline::ReplayStatus::write_failed) +
                             report.count(pipeline::ReplayStatus::delete_failed) !=
                         0;
  if (io_failed) return kExitUsage;
  const bool all_settled = std::all_of(report.results.begin(), report.results.end(),
                                       [](const auto& r) { return pipeline::settled(r.status); });
  return all_settled ? kExitOk : kExitFindings;
}

// ---- discard ----

// Ids from the command line and from a file of JSON lines with an `id` member
// (an export, or replay output).
tl::expected<std::vector<std::string>, std::string> discard_ids(const CorrectionOptions& options) {
  std::vector<std::string> ids = options.ids;
  if (!options.ids_file.empty()) {
    std::ifstream in(options.ids_file);
    if (!in) {
      return tl::make_unexpected(
          fmt::format("cannot read {}: {}", options.ids_file, std::strerror(errno)));
    }
    std::string text;
    std::uint64_t line = 0;
    while (std::getline(in, text)) {
      ++line;
      if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto envelope = core::read_envelope(text);
      if (!envelope) {
        auto correction = core::parse_correction(text, line);
        if (!correction) {
          return tl::make_unexpected(
              fmt::format("{}:{}: no envelope id: {}", options.ids_file, line, envelope.error()));
        }
        ids.push_back(correction->id);
        continue;
      }
      ids.push_back(envelope->id);
    }
  }
  std::set<std::string> seen;
  std::vector<std::string> distinct;
  for (auto& id : ids) {
    if (seen.insert(id).second) distinct.push_back(std::move(id));
  }
  if (distinct.empty()) return tl::make_unexpected("no envelope ids: give IDs or --from FILE");
  return distinct;
}

int run_discard(const Settings& settings, const CorrectionOptions& options) {
  auto ids = discard_ids(options);
  if (!ids) {
    fmt::print(stderr, "salesflow dlq discard: {}\n", ids.error());
    return kExitUsage;
  }
  const AuditFile audit(options.audit);
  if (!audit.is_open()) {
    fmt::print(stderr, "salesflow dlq discard: cannot open the audit file {}: {}\n", options.audit,
               audit.open_error());
    return kExitUsage;
  }
  auto session = open_correction_session(settings, core::Rules::defaults());
  if (!session) {
    fmt::print(stderr, "salesflow dlq discard: {}\n", session.error());
    return kExitUsage;
  }
  SweepBar bar;
  const pipeline::DiscardReport report = pipeline::discard_envelopes(
      session->clients(), session->dlq_url(), *ids, sweep_options(options),
      [&audit, &options](const std::string&, const std::string& envelope) {
        return audit.append(options.reason, envelope);
      },
      bar.callback());
  report_hand_back(report.hand_back, options.visibility_s);
  std::size_t discarded = 0;
  bool failed = false;
  for (const auto& result : report.results) {
    if (result.status == pipeline::DiscardStatus::discarded) {
      ++discarded;
      continue;
    }
    failed = failed || result.status != pipeline::DiscardStatus::not_found;
    fmt::print("{}  {}{}\n", result.id, to_string(result.status),
               result.detail.empty() ? "" : ": " + result.detail);
  }
  for (const auto& failure : report.offload_delete_failures) {
    fmt::print(stderr, "salesflow dlq discard: offloaded text left behind (harmless): {}\n",
               failure);
  }
  fmt::print("discarded {} of {} envelopes ({} DLQ messages deleted); audit in {}\n", discarded,
             report.results.size(), report.messages_deleted, options.audit);
  if (report.error) {
    fmt::print(stderr, "salesflow dlq discard: the DLQ could not be read to the end: {}\n",
               report.error->to_string());
    return kExitUsage;
  }
  if (failed) return kExitUsage;
  return discarded == report.results.size() ? kExitOk : kExitFindings;
}

CLI::Option* add_visibility_option(CLI::App& command, CorrectionOptions& options) {
  return command
      .add_option("--visibility", options.visibility_s,
                  "Seconds the messages of one pass stay hidden from others (handed back at its "
                  "end; after this if the command dies)")
      ->check(CLI::Range(5, 43200))
      ->capture_default_str();
}

}  // namespace

void add_dlq_correction_commands(CLI::App& dlq, Settings& settings, int& status) {
  auto options = std::make_shared<CorrectionOptions>();

  auto* exporter = dlq.add_subcommand(
      "export",
      "Write the DLQ's envelopes as JSON Lines with a fixable `value` (consumes nothing)");
  exporter->add_option("-o,--output", options->output, "File to write; - for stdout")
      ->capture_default_str();
  exporter->add_option("--reason", options->reasons, "Only envelopes with this reason code");
  exporter->add_option("--source", options->source,
                       "Only envelopes of objects under this s3://bucket/prefix");
  exporter
      ->add_option("--since", options->since,
                   "Only envelopes written at or after this ISO-8601 UTC time "
                   "(2024-05-01 or 2024-05-01T12:00:00Z)")
      ->check(CLI::Validator(
          [](const std::string& text) {
            // Compared as text with the envelopes' timestamps, so it must
            // have their layout (a prefix of it).
            static constexpr std::string_view kLayout = "0000-00-00T00:00:00.000Z";
            bool ok = text.size() >= 10 && text.size() <= kLayout.size();
            for (std::size_t i = 0; ok && i < text.size(); ++i) {
              ok = kLayout[i] == '0' ? (text[i] >= '0' && text[i] <= '9') : text[i] == kLayout[i];
            }
            return ok ? std::string()
                      : "must be an ISO-8601 UTC time like 2024-05-01 or 2024-05-01T12:00:00Z";
          },
          "TIME"));
  exporter->add_option("--limit", options->limit, "At most this many envelopes (0: all)")
      ->capture_default_str();
  add_visibility_option(*exporter, *options);
  exporter->callback([&settings, &status, options] { status = run_export(settings, *options); });

  auto* replay = dlq.add_subcommand(
      "replay",
      "Validate corrected records (an edited export) and write the valid ones; their "
      "DLQ messages are deleted only after the write");
  replay
      ->add_option("file", options->file,
                   "JSON Lines: id and the corrected value (or raw); -: stdin")
      ->required();
  replay->add_flag("--dry-run", options->dry_run, "Validate only: no table write, no DLQ change");
  replay->add_flag("--json", options->json, "Machine-readable result");
  add_conflict_option(*replay, settings);
  add_visibility_option(*replay, *options);
  replay->callback([&settings, &status, options] { status = run_replay(settings, *options); });

  auto* discard = dlq.add_subcommand(
      "discard", "Delete envelopes from the DLQ after appending them to an audit file");
  discard->add_option("ids", options->ids, "Envelope ids");
  discard->add_option("--from", options->ids_file,
                      "A JSON Lines file (an export) whose envelopes to discard");
  discard->add_option("--audit", options->audit, "File the discarded envelopes are appended to")
      ->required();
  discard->add_option("--reason", options->reason, "Why: written into the audit file");
  add_visibility_option(*discard, *options);
  discard->callback([&settings, &status, options] { status = run_discard(settings, *options); });
}

}  // namespace salesflow::app
