#include "pipeline/object_processor.hpp"

#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

#include "pipeline/detail/in_flight_limit.hpp"
#include "pipeline/detail/watermark.hpp"
#include "pipeline/ledger.hpp"

namespace salesflow::pipeline {

std::string_view to_string(ObjectStatus status) {
  switch (status) {
    case ObjectStatus::completed:
      return "completed";
    case ObjectStatus::failed:
      return "failed";
    case ObjectStatus::interrupted:
      return "interrupted";
    case ObjectStatus::lease_lost:
      return "lease_lost";
  }
  return "unknown";
}

std::string_view to_string(LeaseState state) {
  return state == LeaseState::held ? "held" : "lost";
}

namespace {

class Run final : public core::RecordHandler {
 public:
  Run(core::RecordValidator& validator, const ProcessorOptions& options, ItemSink& items,
      MessageSink& messages, BlobSink* blobs, const core::Provenance& context,
      const Checkpoint& resume, const CheckpointFn& checkpoint, const std::atomic<bool>* stop,
      const std::atomic<bool>* lease_lost)
      : options_(options),
        items_(items),
        messages_(messages),
        blobs_(blobs),
        object_(validator, context, options.duplicate_tracking),
        envelopes_(options.envelopes),
        reader_(options.reader),
        resume_(resume),
        checkpoint_(checkpoint),
        stop_(stop),
        lease_lost_(lease_lost),
        key_path_(validator.rules().partition_key.path),
        object_version_{context.bucket, context.key, context.etag, context.version_id},
        in_flight_limit_(detail::InFlightLimitOptions{
            .ceiling = std::max<std::size_t>(options.max_requests_in_flight, 1)}),
        watermark_(resume.next_index),
        last_checkpoint_(resume) {
    report_.conflicts = resume.conflicts;
    report_.resumed_from = resume.next_index;
  }

  ObjectReport execute(const ChunkSource& source) {
    auto read = source([this](std::string_view chunk) {
      report_.raw_bytes += chunk.size();
      const std::uint64_t records_before = object_.tally().records;
      reader_.feed(chunk, *this);
      if (options_.observer != nullptr) {
        options_.observer->chunk_read(object_version_, chunk.size(),
                                      object_.tally().records - records_before);
      }
      return !should_stop();
    });
    if (!read) {
      // A stop makes the chunk consumer refuse more bytes, which the source
      // reports as an aborted read: that is an interruption, not a failure.
      if (stop_ != nullptr && stop_->load()) {
        interrupt();
      } else {
        fail(ObjectStatus::failed,
             failure_from(FailureStage::source, "reading the object", std::move(read.error())));
      }
    } else if (!should_stop()) {
      reader_.finish(*this);
    } else {
      interrupt();
    }
    drain();
    return finish_report();
  }

  void on_record(const core::RawRecord& record) override {
    const auto disposition = object_.check(record);
    if (!disposition) {
      // This record has no verdict, nor has any later one: the reader stops
      // at the chunk's end, and the mark never passes this record, so a
      // retry sends it and everything after it exactly once.
      tracking_failed_ = true;
      fail(ObjectStatus::failed,
           Failure{FailureStage::duplicates, disposition.error().to_string(), {}});
      return;
    }
    const std::uint64_t next = record.index + 1;
    if (record.index >= resume_.next_index) {
      route(record, *disposition);
    }
    {
      const std::scoped_lock lock(mutex_);
      watermark_.reader_at(next, record.offset + record.text.size());
    }
    maybe_checkpoint();
  }

  void on_fault(const core::FileFault& fault) override {
    if (tracking_failed_) {
      return;  // after a record with no verdict: a retry sends it
    }
    object_.count_fault();
    ++report_.faults;
    if (fault.records_before < resume_.next_index) {
      return;  // sent by the run that made this prefix durable
    }
    core::Envelope envelope = envelopes_.build(fault, object_.provenance());
    route_envelope(fault.records_before, std::move(envelope), true);
  }

 private:
  bool should_stop() {
    if (!lease_held()) {
      return true;
    }
    if (stop_ != nullptr && stop_->load(std::memory_order_relaxed)) {
      return true;
    }
    const std::scoped_lock lock(mutex_);
    return halt_.has_value();
  }

  // False once the lease is known lost (by the heartbeat); the run then fails
  // as lease_lost and sends nothing more: another worker owns these records now.
  // Also false once a checkpoint found the lease lost. One check per request.
  bool lease_held() {
    if (lease_lost_ != nullptr && lease_lost_->load()) {
      fail(ObjectStatus::lease_lost, lease_lost_failure());
      return false;
    }
    const std::scoped_lock lock(mutex_);
    return !halt_ || halt_->status != ObjectStatus::lease_lost;
  }

  static Failure lease_lost_failure() {
    return Failure{FailureStage::lease, "the object's lease was lost to another worker", {}};
  }

  // The first reason to stop wins; later ones are consequences of it.
  void fail(ObjectStatus status, Failure failure) {
    const std::scoped_lock lock(mutex_);
    if (!halt_) {
      halt_ = Halt{status, std::move(failure)};
    }
  }

  void interrupt() {
    const std::scoped_lock lock(mutex_);
    if (!halt_) {
      halt_ = Halt{ObjectStatus::interrupted, std::nullopt};
    }
  }

  void route(const core::RawRecord& record, core::Disposition disposition) {
    switch (disposition) {
      case core::Disposition::duplicate:
        return;
      case core::Disposition::reject: {
        core::Envelope envelope =
            envelopes_.build(record, object_.verdict().reasons, object_.provenance());
        route_envelope(record.index, std::move(envelope), true);
        return;
      }
      case core::Disposition::write: {
        ItemWrite item{
            record.index, std::string(object_.verdict().item_json), {}, record.offset, record.line};
        if (options_.keep_raw_for_conflicts) {
          item.raw.assign(record.text);
        }
        std::vector<ItemWrite> batch;
        {
          const std::scoped_lock lock(mutex_);
          watermark_.add(record.index);
          item_batch_.push_back(std::move(item));
          if (item_batch_.size() >= items_.max_batch_items()) {
            batch.swap(item_batch_);
          }
        }
        if (!batch.empty()) {
          submit_items(std::move(batch), true);
        }
        return;
      }
    }
  }

  // Counts the envelope as pending on `index` and sends it, through S3 first
  // when its raw text does not fit a message.
  void route_envelope(std::uint64_t index, core::Envelope envelope, bool from_reader) {
    {
      const std::scoped_lock lock(mutex_);
      watermark_.add(index);
    }
    if (!lease_held()) {
      return;  // not acknowledged: the watermark stays below it
    }
    if (envelope.needs_offload) {
      if (blobs_ == nullptr) {
        // Not acknowledged: the record is not durable, so the watermark stays below it.
        fail(ObjectStatus::failed,
             Failure{FailureStage::configuration,
                     "envelope " + envelope.id + " needs S3 offloading, which is not configured",
                     {}});
        return;
      }
      const RequestStart started = begin_request(from_reader);
      auto message = std::make_shared<Message>(Message{envelope.id, std::move(envelope.json)});
      blobs_->put(
          envelopes_.options().offload_bucket, envelope.offload_key,
          std::move(envelope.offload_body),
          [this, index, message, started](std::optional<aws::AwsError> error) {
            acknowledged(BatchAcknowledged{SinkKind::offload, 1, error ? 1U : 0U, 0});
            if (!error) {
              {
                const std::scoped_lock lock(mutex_);
                ++report_.offloaded;
              }
              enqueue_message(index, std::move(*message), false);
              ack(index);  // the enqueued message holds its own count
            } else {
              fail(ObjectStatus::failed,
                   failure_from(FailureStage::offload, "offloading envelope " + message->id,
                                std::move(*error)));
            }
            end_request(started);
          },
          &retries_);
      return;
    }
    enqueue_message(index, Message{envelope.id, std::move(envelope.json)}, from_reader);
    ack(index);
  }

  void enqueue_message(std::uint64_t index, Message message, bool from_reader) {
    std::vector<Message> batch;
    std::vector<std::uint64_t> indices;
    {
      const std::scoped_lock lock(mutex_);
      watermark_.add(index);
      message_batch_.push_back(std::move(message));
      message_indices_.push_back(index);
      if (message_batch_.size() >= messages_.max_batch_messages()) {
        batch.swap(message_batch_);
        indices.swap(message_indices_);
      }
    }
    if (!batch.empty()) {
      submit_messages(std::move(batch), std::move(indices), from_reader);
    }
  }

  using RequestStart = detail::InFlightLimit::Clock::time_point;

  // Backpressure: only the reader waits, for the adaptive limit
  // (detail/in_flight_limit.hpp); completions (other threads) never block.
  [[nodiscard]] RequestStart begin_request(bool from_reader) {
    std::unique_lock lock(mutex_);
    if (from_reader) {
      idle_.wait(lock, [this] { return in_flight_ < in_flight_limit_.limit(); });
    }
    ++in_flight_;
    return detail::InFlightLimit::Clock::now();
  }

  // Notifies under the lock: once in_flight_ reaches 0, drain() may return and
  // this Run (with idle_) be destroyed as soon as the lock is released.
  void end_request(RequestStart started) {
    const auto now = detail::InFlightLimit::Clock::now();
    const std::scoped_lock lock(mutex_);
    in_flight_limit_.completed(now - started, in_flight_ >= in_flight_limit_.limit(), now);
    --in_flight_;
    idle_.notify_all();
  }

  void acknowledged(const BatchAcknowledged& batch) {
    if (options_.observer != nullptr) {
      options_.observer->batch_acknowledged(object_version_, batch);
    }
  }

  void ack(std::uint64_t index) {
    const std::scoped_lock lock(mutex_);
    watermark_.ack(index);
  }

  void submit_items(std::vector<ItemWrite> batch, bool from_reader) {
    if (!lease_held()) {
      return;  // not acknowledged: the watermark stays below them
    }
    const RequestStart started = begin_request(from_reader);
    auto shared = std::make_shared<std::vector<ItemWrite>>(std::move(batch));
    std::vector<ItemWrite> copy_for_sink;
    if (options_.keep_raw_for_conflicts) {
      copy_for_sink = *shared;  // the raw text must survive until the outcome is known
    } else {
      copy_for_sink = std::move(*shared);
      // Keep only what acknowledgements need: the indices.
      shared->resize(copy_for_sink.size());
      for (std::size_t i = 0; i < copy_for_sink.size(); ++i) {
        (*shared)[i].index = copy_for_sink[i].index;
      }
    }
    items_.write(
        std::move(copy_for_sink),
        [this, shared, started](std::vector<ItemOutcome> outcomes,
                                std::optional<aws::AwsError> error) {
          on_items_done(*shared, outcomes, std::move(error));
          end_request(started);
        },
        &retries_);
  }

  void on_items_done(const std::vector<ItemWrite>& batch, const std::vector<ItemOutcome>& outcomes,
                     std::optional<aws::AwsError> error) {
    if (outcomes.size() != batch.size()) {
      acknowledged(BatchAcknowledged{SinkKind::items, batch.size(), batch.size(), 0});
      fail(ObjectStatus::failed,
           Failure{FailureStage::sink,
                   "the item sink answered " + std::to_string(outcomes.size()) + " outcomes for " +
                       std::to_string(batch.size()) + " items",
                   std::move(error)});
      return;
    }
    std::size_t failed = 0;
    std::size_t conflicts = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const ItemWrite& item = batch[i];
      switch (outcomes[i]) {
        case ItemOutcome::written: {
          const std::scoped_lock lock(mutex_);
          ++report_.items_put;
          break;
        }
        case ItemOutcome::conflict: {
          ++conflicts;
          {
            const std::scoped_lock lock(mutex_);
            ++report_.conflicts;
          }
          const core::RawRecord record{item.raw, item.index, item.offset, item.line};
          const std::vector<core::Reason> reasons{
              core::Reason{core::ReasonCode::duplicate_key, key_path_,
                           "the table already holds a different record with this key"}};
          route_envelope(item.index, envelopes_.build(record, reasons, object_.provenance()),
                         false);
          break;
        }
        case ItemOutcome::failed:
          // Not acknowledged: the watermark must not pass a record that is not durable.
          ++failed;
          continue;
      }
      ack(item.index);
    }
    acknowledged(BatchAcknowledged{SinkKind::items, batch.size(), failed, conflicts});
    if (failed != 0) {
      fail(ObjectStatus::failed, Failure{FailureStage::items,
                                         std::to_string(failed) + " of " +
                                             std::to_string(batch.size()) + " items not written",
                                         std::move(error)});
    }
  }

  void submit_messages(std::vector<Message> batch, std::vector<std::uint64_t> indices,
                       bool from_reader) {
    if (!lease_held()) {
      return;  // not acknowledged: the watermark stays below them
    }
    const RequestStart started = begin_request(from_reader);
    const std::size_t count = batch.size();
    messages_.send(
        std::move(batch),
        [this, indices = std::move(indices), count, started](std::size_t failed,
                                                             std::optional<aws::AwsError> error) {
          acknowledged(BatchAcknowledged{SinkKind::messages, count, failed, 0});
          if (failed != 0) {
            // Which ones is not known here: none is acknowledged, so the
            // watermark stays below all of them (a retry resends the batch).
            fail(ObjectStatus::failed, Failure{FailureStage::messages,
                                               std::to_string(failed) + " of " +
                                                   std::to_string(count) + " DLQ messages not sent",
                                               std::move(error)});
            end_request(started);
            return;
          }
          {
            const std::scoped_lock lock(mutex_);
            report_.envelopes_sent += count;
          }
          for (const auto index : indices) {
            ack(index);
          }
          end_request(started);
        },
        &retries_);
  }

  void maybe_checkpoint() {
    if (!checkpoint_ || options_.checkpoint_every == 0) {
      return;
    }
    Checkpoint now;
    {
      const std::scoped_lock lock(mutex_);
      const Watermark::Mark mark = watermark_.advance();
      now = Checkpoint{mark.next_index, mark.offset, report_.conflicts};
      if (now.next_index < last_checkpoint_.next_index + options_.checkpoint_every) {
        return;
      }
    }
    save_checkpoint(now);
  }

  void save_checkpoint(const Checkpoint& checkpoint) {
    if (!checkpoint_) {
      return;
    }
    auto saved = checkpoint_(checkpoint);
    if (options_.observer != nullptr) {
      options_.observer->checkpoint_saved(object_version_, checkpoint, saved);
    }
    if (!saved) {
      // The previous checkpoint stays: a retry redoes the records since then
      // (idempotent writes). Counted and kept for the object's report.
      const std::scoped_lock lock(mutex_);
      ++report_.checkpoint_failures;
      report_.checkpoint_error = std::move(saved.error());
      return;
    }
    if (*saved == LeaseState::lost) {
      fail(ObjectStatus::lease_lost, lease_lost_failure());
      return;
    }
    last_checkpoint_ = checkpoint;
  }

  // Sends what is batched and waits for every acknowledgement; conflict
  // envelopes born in completions are flushed in turn.
  void drain() {
    for (;;) {
      std::vector<ItemWrite> items;
      std::vector<Message> messages;
      std::vector<std::uint64_t> indices;
      {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [this] {
          return in_flight_ == 0 || !message_batch_.empty() || !item_batch_.empty();
        });
        items.swap(item_batch_);
        messages.swap(message_batch_);
        indices.swap(message_indices_);
        if (items.empty() && messages.empty() && in_flight_ == 0) {
          break;
        }
      }
      if (!items.empty()) {
        submit_items(std::move(items), false);
      }
      if (!messages.empty()) {
        submit_messages(std::move(messages), std::move(indices), false);
      }
      std::unique_lock lock(mutex_);
      idle_.wait(lock, [this] { return in_flight_ == 0; });
    }
  }

  ObjectReport finish_report() {
    const std::scoped_lock lock(mutex_);
    const Watermark::Mark mark = watermark_.advance();
    Checkpoint durable{mark.next_index, mark.offset, report_.conflicts};
    report_.status = halt_ ? halt_->status : ObjectStatus::completed;
    report_.failure = halt_ ? halt_->failure : std::nullopt;
    report_.tally = object_.tally();
    report_.written = report_.tally.valid - report_.conflicts;
    report_.rejected = report_.tally.rejected + report_.conflicts;
    report_.decompressed_bytes = reader_.decompressed_bytes();
    report_.retries = retries_.load();
    report_.format = reader_.detected_format();
    report_.requests_in_flight_limit = in_flight_limit_.limit();
    report_.highest_requests_in_flight_limit = in_flight_limit_.highest();
    if (!halt_) {
      durable = Checkpoint{report_.tally.records, reader_.decompressed_bytes(), report_.conflicts};
    }
    report_.last_checkpoint =
        durable.next_index >= last_checkpoint_.next_index ? durable : last_checkpoint_;
    return report_;
  }

  const ProcessorOptions& options_;
  ItemSink& items_;
  MessageSink& messages_;
  BlobSink* blobs_;
  core::ObjectValidator object_;
  core::EnvelopeBuilder envelopes_;
  core::RecordReader reader_;
  Checkpoint resume_;
  const CheckpointFn& checkpoint_;
  const std::atomic<bool>* stop_;
  const std::atomic<bool>* lease_lost_;
  std::string key_path_;
  bool tracking_failed_ = false;  // the reader's thread only
  ObjectVersion object_version_;  // the object, as observers name it

  std::atomic<std::uint64_t> retries_{0};  // before the mutex: sinks may touch it until drained
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t in_flight_ = 0;
  detail::InFlightLimit in_flight_limit_;
  Watermark watermark_;
  Checkpoint last_checkpoint_;
  std::vector<ItemWrite> item_batch_;
  std::vector<Message> message_batch_;
  std::vector<std::uint64_t> message_indices_;
  // Why the run stops early; none while every record may still be routed.
  struct Halt {
    ObjectStatus status = ObjectStatus::failed;
    std::optional<Failure> failure;  // none for an interruption
  };
  std::optional<Halt> halt_;
  ObjectReport report_;
};

}  // namespace

ObjectProcessor::ObjectProcessor(core::RecordValidator& validator, ProcessorOptions options,
                                 ItemSink& items, MessageSink& messages, BlobSink* blobs)
    : validator_(validator),
      options_(std::move(options)),
      items_(items),
      messages_(messages),
      blobs_(blobs) {}

ObjectReport ObjectProcessor::run(const ChunkSource& source, const core::Provenance& context,
                                  const Checkpoint& resume, const CheckpointFn& checkpoint,
                                  const std::atomic<bool>* stop,
                                  const std::atomic<bool>* lease_lost) {
  Run run(validator_, options_, items_, messages_, blobs_, context, resume, checkpoint, stop,
          lease_lost);
  return run.execute(source);
}

}  // namespace salesflow::pipeline
