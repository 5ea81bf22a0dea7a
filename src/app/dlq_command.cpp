// `salesflow dlq stats` and `salesflow dlq peek N`: look at the records DLQ
// without consuming it. Messages are received with a short visibility timeout
// and handed back (visibility 0) at once; SQS counts each look as a receive.
// Messages carrying the same envelope id (a repeat after a crash) count once.

#include <fmt/core.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <map>
#include <set>

#include "app/detail/aws_clients.hpp"
#include "app/detail/commands.hpp"
#include "pipeline/dlq_sweep.hpp"

namespace salesflow::app {
namespace {

constexpr int kLookVisibilitySeconds = 60;

struct DlqOptions {
  std::size_t count = 10;
  std::size_t limit = 100000;
  bool json = false;
};

struct EnvelopeView {
  std::string id;
  std::string kind;
  std::string source;  // s3://bucket/key
  std::vector<std::string> codes;
  std::string location;  // "record 12 (line 13)" or "bytes 10..99"
  std::string raw_excerpt;
  bool parsed = false;
};

std::string excerpt(std::string_view text, std::size_t max) {
  std::string out(text.substr(0, max));
  for (auto& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') {
      c = ' ';
    }
  }
  if (text.size() > max) {
    out += "...";
  }
  return out;
}

EnvelopeView view_of(const std::string& body) {
  EnvelopeView view;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
    view.raw_excerpt = excerpt(body, 120);
    return view;
  }
  std::string_view text;
  if (doc["id"].get(text) == simdjson::SUCCESS) view.id = text;
  if (doc["kind"].get(text) == simdjson::SUCCESS) view.kind = text;
  std::string_view bucket;
  std::string_view key;
  if (doc["source"]["bucket"].get(bucket) == simdjson::SUCCESS &&
      doc["source"]["key"].get(key) == simdjson::SUCCESS) {
    view.source = fmt::format("s3://{}/{}", bucket, key);
  }
  simdjson::dom::array reasons;
  if (doc["reasons"].get(reasons) == simdjson::SUCCESS) {
    for (const auto reason : reasons) {
      if (reason["code"].get(text) == simdjson::SUCCESS) {
        view.codes.emplace_back(text);
      }
    }
  }
  std::uint64_t index = 0;
  std::uint64_t line = 0;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  if (doc["record"]["index"].get(index) == simdjson::SUCCESS) {
    view.location = fmt::format("record {}", index);
    if (doc["record"]["line"].get(line) == simdjson::SUCCESS && line != 0) {
      view.location += fmt::format(" (line {})", line);
    }
  } else if (doc["fault"]["begin"].get(begin) == simdjson::SUCCESS &&
             doc["fault"]["end"].get(end) == simdjson::SUCCESS) {
    view.location = fmt::format("bytes {}..{}", begin, end);
  }
  if (doc["raw"].get(text) == simdjson::SUCCESS) {
    view.raw_excerpt = excerpt(text, 120);
  } else if (doc["raw_s3"]["key"].get(text) == simdjson::SUCCESS) {
    view.raw_excerpt = fmt::format("(offloaded to s3://.../{})", text);
  }
  view.parsed = true;
  return view;
}

// Receives up to `limit` distinct messages in one sweep, then makes them all
// visible again (also when a receive fails part way).
tl::expected<std::vector<aws::SqsMessage>, std::string> look(AwsClients& aws,
                                                             const std::string& url,
                                                             std::size_t limit) {
  pipeline::DlqSweepOptions options;
  options.visibility = std::chrono::seconds(kLookVisibilitySeconds);
  options.max_held = limit;
  pipeline::DlqSweep sweep(aws.sqs(), url, options);
  std::vector<aws::SqsMessage> seen;
  const auto error = sweep.run([&seen](const std::vector<aws::SqsMessage>& batch) {
    seen.insert(seen.end(), batch.begin(), batch.end());
    return true;
  });
  if (const auto failures = sweep.hand_back(); !failures.ok()) {
    fmt::print(stderr,
               "salesflow dlq: {} of {} messages could not be handed back ({}); they reappear "
               "within {} s\n",
               failures.failed, seen.size(), failures.first_error, kLookVisibilitySeconds);
  }
  if (error) {
    return tl::make_unexpected(error->to_string());
  }
  return seen;
}

// Messages collapsed by envelope id: a crash or a lost lease can send an
// envelope twice (a standard queue keeps both; a FIFO queue drops repeats
// within 5 minutes). Messages that are not envelopes stay apart.
struct Collapsed {
  std::vector<EnvelopeView> envelopes;  // first message of each id, in receive order
  std::vector<std::string> bodies;      // of those messages
  std::vector<std::size_t> copies;      // messages per envelope
  std::size_t repeats = 0;              // messages beyond the first of their id
  std::size_t foreign = 0;              // messages that are not salesflow envelopes
};

Collapsed collapse(const std::vector<aws::SqsMessage>& messages) {
  Collapsed out;
  std::map<std::string, std::size_t> by_id;
  for (const auto& message : messages) {
    EnvelopeView view = view_of(message.body);
    if (!view.parsed || view.id.empty()) {
      ++out.foreign;
      view.id = message.message_id;
    } else if (const auto found = by_id.find(view.id); found != by_id.end()) {
      ++out.copies[found->second];
      ++out.repeats;
      continue;
    } else {
      by_id.emplace(view.id, out.envelopes.size());
    }
    out.envelopes.push_back(std::move(view));
    out.bodies.push_back(message.body);
    out.copies.push_back(1);
  }
  return out;
}

int run_dlq(const Settings& settings, const DlqOptions& options, bool stats) {
  auto aws = AwsClients::create(settings);
  if (!aws) {
    fmt::print(stderr, "salesflow dlq: {}\n", aws.error());
    return kExitUsage;
  }
  auto url = (*aws)->queue_url(settings.resources.dlq);
  if (!url) {
    fmt::print(stderr, "salesflow dlq: {}\n", url.error());
    return kExitUsage;
  }
  auto messages = look(**aws, *url, stats ? options.limit : options.count);
  if (!messages) {
    fmt::print(stderr, "salesflow dlq: {}\n", messages.error());
    return kExitFindings;
  }
  const Collapsed collapsed = collapse(*messages);
  if (!stats) {
    for (std::size_t i = 0; i < collapsed.envelopes.size(); ++i) {
      const EnvelopeView& view = collapsed.envelopes[i];
      if (options.json) {
        fmt::print("{}\n", collapsed.bodies[i]);
        continue;
      }
      if (!view.parsed) {
        fmt::print("{}  (not a salesflow envelope) {}\n", view.id, view.raw_excerpt);
        continue;
      }
      std::string codes;
      for (const auto& code : view.codes) {
        codes += (codes.empty() ? "" : ",") + code;
      }
      const std::string copies =
          collapsed.copies[i] > 1 ? fmt::format("  ({} copies)", collapsed.copies[i]) : "";
      fmt::print("{}  {}  {}  {}{}\n    {}\n", view.id, view.source, view.location, codes, copies,
                 view.raw_excerpt);
    }
    if (collapsed.repeats != 0 && !options.json) {
      fmt::print("{} repeated messages of these envelopes (same id) not shown again\n",
                 collapsed.repeats);
    }
    return kExitOk;
  }

  std::map<std::string, std::size_t> by_code;
  std::map<std::string, std::size_t> by_source;
  const std::size_t foreign = collapsed.foreign;
  for (const EnvelopeView& view : collapsed.envelopes) {
    if (!view.parsed) {
      continue;
    }
    for (const auto& code : std::set<std::string>(view.codes.begin(), view.codes.end())) {
      ++by_code[code];
    }
    ++by_source[view.source];
  }
  if (options.json) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    const auto key = [&w](std::string_view k) {
      w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    };
    w.StartObject();
    key("messages");
    w.Uint64(messages->size());
    key("envelopes");
    w.Uint64(collapsed.envelopes.size() - foreign);
    key("repeated_messages");
    w.Uint64(collapsed.repeats);
    key("not_envelopes");
    w.Uint64(foreign);
    key("by_reason");
    w.StartObject();
    for (const auto& [code, count] : by_code) {
      key(code);
      w.Uint64(count);
    }
    w.EndObject();
    key("by_source");
    w.StartObject();
    for (const auto& [source, count] : by_source) {
      key(source);
      w.Uint64(count);
    }
    w.EndObject();
    w.EndObject();
    fmt::print("{}\n", buffer.GetString());
    return kExitOk;
  }
  fmt::print("{} messages in {}{}: {} envelopes", messages->size(), settings.resources.dlq,
             messages->size() >= options.limit ? " (limit reached; there may be more)" : "",
             collapsed.envelopes.size() - foreign);
  if (collapsed.repeats != 0) {
    fmt::print(", {} repeated messages (an envelope sent again after a crash; same id)",
               collapsed.repeats);
  }
  fmt::print("\n");
  fmt::print("by reason (an envelope counts once per code):\n");
  for (const auto& [code, count] : by_code) {
    fmt::print("  {:<18} {}\n", code, count);
  }
  fmt::print("by source file:\n");
  for (const auto& [source, count] : by_source) {
    fmt::print("  {:>8}  {}\n", count, source);
  }
  if (foreign != 0) {
    fmt::print("{} messages are not salesflow envelopes\n", foreign);
  }
  return kExitOk;
}

}  // namespace

void add_dlq_command(CLI::App& root, Settings& settings, int& status) {
  auto options = std::make_shared<DlqOptions>();
  auto* dlq = root.add_subcommand(
      "dlq", "Look at the records DLQ, export its envelopes, replay corrected records, discard");
  dlq->require_subcommand(1);
  auto* stats = dlq->add_subcommand("stats", "Count envelopes by reason code and by source file");
  stats->add_flag("--json", options->json, "Machine-readable output");
  stats->add_option("--limit", options->limit, "Read at most this many messages")
      ->capture_default_str();
  stats->callback([&settings, &status, options] { status = run_dlq(settings, *options, true); });
  auto* peek = dlq->add_subcommand("peek", "Show the first N envelopes");
  peek->add_option("count", options->count, "How many")->capture_default_str();
  peek->add_flag("--json", options->json, "Print the envelopes as they are (JSON Lines)");
  peek->callback([&settings, &status, options] { status = run_dlq(settings, *options, false); });
  add_dlq_correction_commands(*dlq, settings, status);
}

}  // namespace salesflow::app
