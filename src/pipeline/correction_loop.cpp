#include "pipeline/correction_loop.hpp"

#include <fmt/core.h>
#include <simdjson.h>

#include <algorithm>
#include <future>
#include <unordered_map>
#include <unordered_set>

#include "base/json_string.hpp"
#include "core/record_validator.hpp"

namespace salesflow::pipeline {
namespace {

constexpr std::size_t kMaxProblems = 20;
// Corrections written and settled together: two full BatchWriteItem requests
// (25 items each) and five full DeleteMessageBatch requests (10 each).
constexpr std::size_t kWriteGroup = 50;
// GetItem requests in flight when asking whether corrections were replayed before.
constexpr std::size_t kLookupsInFlight = 32;

aws::Result<std::string> fetch_text(aws::S3Client& s3, const core::S3Location& location) {
  std::string text;
  auto info = s3.get_object(location.bucket, location.key, [&text](std::string_view chunk) {
    text.append(chunk);
    return true;
  });
  if (!info) return tl::make_unexpected(std::move(info.error()));
  return text;
}

// The full envelope of a message: the body, or the offloaded object it points at.
aws::Result<std::string> full_envelope(aws::S3Client& s3, const aws::SqsMessage& message,
                                       const core::EnvelopeSummary& envelope) {
  if (!envelope.raw_s3) return message.body;
  return fetch_text(s3, *envelope.raw_s3);
}

// Deletes an envelope's offloaded text once its message is gone; a failure
// leaves harmless garbage, noted in `failures` as s3://bucket/key: why.
bool delete_offload_object(aws::S3Client& s3, const core::S3Location& location,
                           std::vector<std::string>& failures) {
  auto deleted = s3.delete_object(location.bucket, location.key);
  if (!deleted) {
    failures.push_back(
        fmt::format("s3://{}/{}: {}", location.bucket, location.key, deleted.error().to_string()));
  }
  return deleted.has_value();
}

void note_problem(std::vector<std::string>& problems, std::string problem) {
  if (problems.size() < kMaxProblems) problems.push_back(std::move(problem));
}

void append_key_attribute(std::string& out, const core::KeyAttribute& attribute,
                          const std::string& value) {
  base::append_json_string(out, attribute.attribute);
  out += attribute.type == 'N' ? ":{\"N\":" : ":{\"S\":";
  base::append_json_string(out, value);
  out += '}';
}

// The table key of a verdict, as DynamoDB JSON.
std::string key_json(const core::Rules& rules, const core::Verdict& verdict) {
  std::string key = "{";
  append_key_attribute(key, rules.partition_key, verdict.partition_key);
  if (rules.sort_key) {
    key += ',';
    append_key_attribute(key, *rules.sort_key, verdict.sort_key);
  }
  key += '}';
  return key;
}

// Whether `item` (DynamoDB JSON) was replayed from the envelope `envelope`
// (when known; else from any envelope).
bool replayed_from(const core::Rules& rules, const std::string& item,
                   const std::optional<core::EnvelopeSummary>& envelope) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(item).get(doc) != simdjson::SUCCESS) return false;
  std::string_view text;
  if (doc[rules.metadata.corrected_at]["S"].get(text) != simdjson::SUCCESS) return false;
  if (!envelope) return true;
  std::string_view source;
  std::string_view index;
  return doc[rules.metadata.source]["S"].get(source) == simdjson::SUCCESS &&
         doc[rules.metadata.record_index]["N"].get(index) == simdjson::SUCCESS &&
         source == envelope->source_url() && index == std::to_string(envelope->index);
}

std::vector<ItemOutcome> write_and_wait(ItemSink& sink, std::vector<ItemWrite> items,
                                        std::optional<aws::AwsError>& error) {
  std::promise<std::pair<std::vector<ItemOutcome>, std::optional<aws::AwsError>>> promise;
  auto future = promise.get_future();
  sink.write(
      std::move(items),
      [&promise](std::vector<ItemOutcome> outcomes, std::optional<aws::AwsError> failure) {
        promise.set_value({std::move(outcomes), std::move(failure)});
      },
      nullptr);
  auto [outcomes, failure] = future.get();
  error = std::move(failure);
  return outcomes;
}

core::RawRecord raw_record(const core::Correction& correction,
                           const core::EnvelopeSummary* envelope) {
  core::RawRecord raw;
  raw.text = correction.record;
  if (envelope != nullptr) {
    raw.index = envelope->index;
    raw.offset = envelope->offset;
    raw.line = envelope->line;
  }
  return raw;
}

// One correction matched to its DLQ message(s), waiting for its table write.
struct Match {
  std::size_t correction = 0;
  core::EnvelopeSummary envelope;  // the DLQ's own, not the file's
  std::vector<std::string> handles;
};

class Replay {
 public:
  // `clients` empty: a dry run.
  Replay(std::optional<CorrectionClients> clients, const core::Rules& rules,
         const std::vector<core::Correction>& corrections, const ReplayOptions& options)
      : clients_(clients),
        rules_(rules),
        corrections_(corrections),
        options_(options),
        validator_(rules) {
    report_.results.resize(corrections.size());
    keys_.resize(corrections.size());
  }

  ReplayReport run(const std::string& dlq_url, const SweepProgress& progress) {
    validate_all();
    if (!clients_ || options_.dry_run || pending_.empty()) return std::move(report_);
    sweep_.emplace(clients_->sqs, dlq_url, options_.sweep);
    sweep(progress);
    report_.hand_back = sweep_->hand_back();
    report_.messages = sweep_->received();
    report_.whole_queue = !sweep_->held_limit_reached() && !report_.error;
    settle_not_found();
    return std::move(report_);
  }

 private:
  core::Provenance provenance_of(const core::EnvelopeSummary* envelope) const {
    core::Provenance provenance;
    if (envelope != nullptr) provenance = envelope->provenance;
    provenance.corrected_at = options_.corrected_at;
    return provenance;
  }

  // Every correction against the rules, before any call: those that are still
  // invalid, repeat a key or are faults are never looked for in the queue.
  void validate_all() {
    std::unordered_map<std::string, std::size_t> first_with_key;
    for (std::size_t i = 0; i < corrections_.size(); ++i) {
      const core::Correction& correction = corrections_[i];
      ReplayResult& result = report_.results[i];
      result.id = correction.id;
      result.line = correction.line;
      const core::EnvelopeSummary* envelope = correction.envelope ? &*correction.envelope : nullptr;
      if (envelope != nullptr && envelope->kind == "file_fault") {
        result.status = ReplayStatus::not_replayable;
        result.detail =
            "a file fault covers bytes of the object, not one record: fix the object "
            "and upload it again, then discard this envelope";
        continue;
      }
      const core::Verdict& verdict =
          validator_.check(raw_record(correction, envelope), provenance_of(envelope));
      if (!verdict.valid) {
        result.status = ReplayStatus::still_invalid;
        result.reasons = verdict.reasons;
        continue;
      }
      if (const auto [at, inserted] = first_with_key.emplace(verdict.key, i); !inserted) {
        result.status = ReplayStatus::duplicate_key;
        result.detail = fmt::format("line {} corrects another record to the same key",
                                    corrections_[at->second].line);
        continue;
      }
      keys_[i] = key_json(rules_, verdict);
      result.item_json = verdict.item_json;
      if (options_.dry_run) {
        result.status = ReplayStatus::would_replay;
      } else {
        pending_.emplace(correction.id, i);
      }
    }
  }

  void sweep(const SweepProgress& progress) {
    report_.error = sweep_->run(
        [this](const std::vector<aws::SqsMessage>& batch) {
          std::vector<std::string> repeats;  // copies of envelopes settled in this run
          for (const auto& message : batch) {
            auto envelope = core::read_envelope(message.body);
            if (!envelope) continue;  // not ours: held, handed back at the end
            if (settled_ids_.contains(envelope->id)) {
              repeats.push_back(message.receipt_handle);
            } else if (const auto queued = queued_.find(envelope->id); queued != queued_.end()) {
              matches_[queued->second].handles.push_back(message.receipt_handle);
            } else if (const auto wanted = pending_.find(envelope->id); wanted != pending_.end()) {
              queued_.emplace(envelope->id, matches_.size());
              matches_.push_back(
                  Match{wanted->second, std::move(*envelope), {message.receipt_handle}});
            }
          }
          delete_repeats(repeats);
          while (matches_.size() >= kWriteGroup) flush(kWriteGroup);
          return true;
        },
        progress);
    flush(matches_.size());
  }

  void delete_repeats(const std::vector<std::string>& handles) {
    if (handles.empty()) return;
    const SweepFailures failures = sweep_->remove(handles);
    report_.messages_deleted += handles.size() - failures.failed;
  }

  // Writes the first `count` matched corrections, then deletes the messages
  // of those written.
  void flush(std::size_t count) {
    if (count == 0) return;
    std::vector<ItemWrite> writes;
    std::vector<std::size_t> written_match;  // writes[i] is matches_[written_match[i]]
    for (std::size_t m = 0; m < count; ++m) {
      Match& match = matches_[m];
      pending_.erase(corrections_[match.correction].id);
      ReplayResult& result = report_.results[match.correction];
      if (match.envelope.kind == "file_fault") {
        result.status = ReplayStatus::not_replayable;
        result.detail = "the DLQ's envelope is a file fault: fix the object and upload it again";
        continue;
      }
      const core::Verdict& verdict =
          validator_.check(raw_record(corrections_[match.correction], &match.envelope),
                           provenance_of(&match.envelope));
      if (!verdict.valid) {  // with the real provenance: e.g. a longer source name
        result.status = ReplayStatus::still_invalid;
        result.reasons = verdict.reasons;
        continue;
      }
      ItemWrite write;
      write.index = match.envelope.index;
      write.item_json = std::string(verdict.item_json);
      write.raw = corrections_[match.correction].record;
      write.offset = match.envelope.offset;
      write.line = match.envelope.line;
      result.item_json = write.item_json;
      writes.push_back(std::move(write));
      written_match.push_back(m);
    }
    std::optional<aws::AwsError> error;
    const std::vector<ItemOutcome> outcomes =
        writes.empty() ? std::vector<ItemOutcome>{}
                       : write_and_wait(clients_->items, std::move(writes), error);
    std::vector<std::string> handles;
    std::vector<std::size_t> deleted_match;
    for (std::size_t w = 0; w < written_match.size(); ++w) {
      const Match& match = matches_[written_match[w]];
      ReplayResult& result = report_.results[match.correction];
      const ItemOutcome outcome = w < outcomes.size() ? outcomes[w] : ItemOutcome::failed;
      if (outcome == ItemOutcome::conflict) {
        result.status = ReplayStatus::conflict;
        result.detail = "the table holds another record with this key (--on-conflict reject)";
      } else if (outcome == ItemOutcome::failed) {
        result.status = ReplayStatus::write_failed;
        result.detail = error ? error->to_string() : "the table write failed";
      } else {
        handles.insert(handles.end(), match.handles.begin(), match.handles.end());
        deleted_match.push_back(written_match[w]);
      }
    }
    const SweepFailures failures = sweep_->remove(handles);
    report_.messages_deleted += handles.size() - failures.failed;
    const std::unordered_set<std::string> undeleted(failures.failed_handles.begin(),
                                                    failures.failed_handles.end());
    for (const std::size_t m : deleted_match) {
      const Match& match = matches_[m];
      ReplayResult& result = report_.results[match.correction];
      const bool all_deleted = std::none_of(
          match.handles.begin(), match.handles.end(),
          [&undeleted](const std::string& handle) { return undeleted.contains(handle); });
      if (!all_deleted) {
        result.status = ReplayStatus::delete_failed;
        result.detail = "written to the table, but its DLQ message could not be deleted (" +
                        failures.first_error + "): replay again to settle it";
        continue;
      }
      result.status = ReplayStatus::replayed;
      settled_ids_.insert(match.envelope.id);
      delete_offloaded(match.envelope);
    }
    matches_.erase(matches_.begin(), matches_.begin() + static_cast<std::ptrdiff_t>(count));
    queued_.clear();
    for (std::size_t m = 0; m < matches_.size(); ++m) queued_.emplace(matches_[m].envelope.id, m);
  }

  // After the message: an offload object without its message is garbage, a
  // message without its offload object would be an envelope without its text.
  void delete_offloaded(const core::EnvelopeSummary& envelope) {
    if (envelope.raw_s3 &&
        delete_offload_object(clients_->s3, *envelope.raw_s3, report_.offload_delete_failures)) {
      ++report_.offload_objects_deleted;
    }
  }

  // The corrections whose id the sweep did not find: replayed before (the
  // table holds the item, with `_corrected_at`, from the same envelope), or
  // not in the queue.
  void settle_not_found() {
    std::vector<std::size_t> lookups;
    for (const auto& [id, i] : pending_) {
      ReplayResult& result = report_.results[i];
      result.item_json.clear();
      result.status = ReplayStatus::not_found;
      if (!report_.whole_queue) {
        result.detail = "not seen in this pass over the DLQ (it stopped early): run again";
        continue;
      }
      lookups.push_back(i);
    }
    // GetItem with a bounded number in flight: a second replay of a large
    // file asks about every correction.
    for (std::size_t at = 0; at < lookups.size(); at += kLookupsInFlight) {
      const std::size_t end = std::min(lookups.size(), at + kLookupsInFlight);
      std::vector<std::promise<aws::Result<std::optional<std::string>>>> answers(end - at);
      for (std::size_t k = at; k < end; ++k) {
        aws::GetItemRequest request;
        request.table = options_.table;
        request.key = keys_[lookups[k]];
        clients_->dynamodb.get_item_async(
            std::move(request),
            [&answer = answers[k - at]](aws::Result<std::optional<std::string>> item) {
              answer.set_value(std::move(item));
            });
      }
      for (std::size_t k = at; k < end; ++k) {
        const std::size_t i = lookups[k];
        ReplayResult& result = report_.results[i];
        const auto item = answers[k - at].get_future().get();
        if (!item) {
          result.detail =
              "not in the DLQ; the table could not be asked whether it was replayed "
              "before: " +
              item.error().to_string();
        } else if (*item && replayed_from(rules_, **item, corrections_[i].envelope)) {
          result.status = ReplayStatus::already_replayed;
        } else {
          result.detail = "no DLQ message has this id (discarded, or replayed under another key?)";
        }
      }
    }
  }

  std::optional<CorrectionClients> clients_;
  const core::Rules& rules_;
  const std::vector<core::Correction>& corrections_;
  const ReplayOptions& options_;
  core::RecordValidator validator_;
  std::optional<DlqSweep> sweep_;
  ReplayReport report_;
  std::vector<std::string> keys_;                         // per correction: its table key
  std::unordered_map<std::string, std::size_t> pending_;  // id -> correction, not yet seen
  std::unordered_map<std::string, std::size_t> queued_;   // id -> matches_ index
  std::vector<Match> matches_;
  std::unordered_set<std::string> settled_ids_;
};

}  // namespace

bool ExportFilter::matches(const core::EnvelopeSummary& envelope) const {
  if (!reasons.empty() &&
      std::none_of(reasons.begin(), reasons.end(),
                   [&envelope](const std::string& code) { return envelope.has_reason(code); })) {
    return false;
  }
  if (!source_prefix.empty() && !envelope.source_url().starts_with(source_prefix)) return false;
  // ISO-8601 UTC texts of one layout compare as the times they name.
  return since.empty() || envelope.provenance.ingested_at >= since;
}

ExportReport export_envelopes(CorrectionClients clients, const std::string& dlq_url,
                              const ExportFilter& filter, const DlqSweepOptions& sweep_options,
                              const std::function<void(const std::string&)>& line,
                              const SweepProgress& progress) {
  ExportReport report;
  DlqSweep sweep(clients.sqs, dlq_url, sweep_options);
  std::unordered_set<std::string> seen;
  core::EnvelopeExporter exporter;
  bool limit_reached = false;
  report.error = sweep.run(
      [&](const std::vector<aws::SqsMessage>& batch) {
        for (const auto& message : batch) {
          auto envelope = core::read_envelope(message.body);
          if (!envelope) {
            ++report.foreign;
            note_problem(report.problems,
                         fmt::format("message {}: {}", message.message_id, envelope.error()));
            continue;
          }
          if (!seen.insert(envelope->id).second) {
            ++report.repeats;
            continue;
          }
          if (!filter.matches(*envelope)) {
            ++report.filtered;
            continue;
          }
          auto full = full_envelope(clients.s3, message, *envelope);
          if (!full) {
            ++report.unreadable;
            note_problem(report.problems,
                         fmt::format("envelope {}: its offloaded text cannot be read ({}); "
                                     "exported without it",
                                     envelope->id, full.error().to_string()));
            full = message.body;
          }
          auto text = exporter.line(*full);
          if (!text) {
            ++report.foreign;
            note_problem(report.problems,
                         fmt::format("envelope {}: {}", envelope->id, text.error()));
            continue;
          }
          line(*text);
          if (++report.envelopes == filter.limit) {
            limit_reached = true;
            return false;
          }
        }
        return true;
      },
      progress);
  report.hand_back = sweep.hand_back();
  report.messages = sweep.received();
  report.whole_queue = !sweep.held_limit_reached() && !report.error && !limit_reached;
  return report;
}

std::string_view to_string(ReplayStatus status) {
  switch (status) {
    case ReplayStatus::replayed:
      return "replayed";
    case ReplayStatus::would_replay:
      return "would_replay";
    case ReplayStatus::already_replayed:
      return "already_replayed";
    case ReplayStatus::still_invalid:
      return "still_invalid";
    case ReplayStatus::duplicate_key:
      return "duplicate_key";
    case ReplayStatus::conflict:
      return "conflict";
    case ReplayStatus::not_replayable:
      return "not_replayable";
    case ReplayStatus::not_found:
      return "not_found";
    case ReplayStatus::write_failed:
      return "write_failed";
    case ReplayStatus::delete_failed:
      return "delete_failed";
  }
  return "unknown";
}

bool settled(ReplayStatus status) {
  return status == ReplayStatus::replayed || status == ReplayStatus::would_replay ||
         status == ReplayStatus::already_replayed;
}

std::size_t ReplayReport::count(ReplayStatus status) const {
  return static_cast<std::size_t>(
      std::count_if(results.begin(), results.end(),
                    [status](const ReplayResult& result) { return result.status == status; }));
}

ReplayReport replay_corrections(CorrectionClients clients, const core::Rules& rules,
                                const std::string& dlq_url,
                                const std::vector<core::Correction>& corrections,
                                const ReplayOptions& options, const SweepProgress& progress) {
  return Replay(clients, rules, corrections, options).run(dlq_url, progress);
}

ReplayReport dry_run_corrections(const core::Rules& rules,
                                 const std::vector<core::Correction>& corrections,
                                 const ReplayOptions& options) {
  ReplayOptions dry = options;
  dry.dry_run = true;
  return Replay(std::nullopt, rules, corrections, dry).run({}, {});
}

std::string_view to_string(DiscardStatus status) {
  switch (status) {
    case DiscardStatus::discarded:
      return "discarded";
    case DiscardStatus::not_found:
      return "not_found";
    case DiscardStatus::audit_failed:
      return "audit_failed";
    case DiscardStatus::delete_failed:
      return "delete_failed";
  }
  return "unknown";
}

DiscardReport discard_envelopes(CorrectionClients clients, const std::string& dlq_url,
                                const std::vector<std::string>& ids,
                                const DlqSweepOptions& sweep_options, const AuditWriter& audit,
                                const SweepProgress& progress) {
  DiscardReport report;
  std::unordered_map<std::string, std::size_t> wanted;
  for (const auto& id : ids) {
    wanted.emplace(id, report.results.size());
    report.results.push_back(DiscardResult{id, DiscardStatus::not_found, {}});
  }
  std::unordered_set<std::string> discarded;
  DlqSweep sweep(clients.sqs, dlq_url, sweep_options);
  report.error = sweep.run(
      [&](const std::vector<aws::SqsMessage>& batch) {
        for (const auto& message : batch) {
          auto envelope = core::read_envelope(message.body);
          if (!envelope) continue;
          const auto found = wanted.find(envelope->id);
          if (found == wanted.end()) continue;
          DiscardResult& result = report.results[found->second];
          if (!discarded.contains(envelope->id)) {
            if (result.status == DiscardStatus::audit_failed) continue;  // a copy: keep it too
            auto full = full_envelope(clients.s3, message, *envelope);
            if (!full) {
              result.status = DiscardStatus::audit_failed;
              result.detail = "its offloaded text cannot be read, so it cannot be audited: " +
                              full.error().to_string();
              continue;
            }
            if (auto failed = audit(envelope->id, *full)) {
              result.status = DiscardStatus::audit_failed;
              result.detail = *failed;
              continue;
            }
          }
          const SweepFailures failures = sweep.remove({message.receipt_handle});
          if (!failures.ok()) {
            result.status = DiscardStatus::delete_failed;
            result.detail = "audited, but its DLQ message could not be deleted (" +
                            failures.first_error + "): discard again";
            continue;
          }
          ++report.messages_deleted;
          if (discarded.insert(envelope->id).second) {
            result.status = DiscardStatus::discarded;
            if (envelope->raw_s3) {
              static_cast<void>(delete_offload_object(clients.s3, *envelope->raw_s3,
                                                      report.offload_delete_failures));
            }
          }
        }
        return true;
      },
      progress);
  report.hand_back = sweep.hand_back();
  report.messages = sweep.received();
  report.whole_queue = !sweep.held_limit_reached() && !report.error;
  return report;
}

}  // namespace salesflow::pipeline
