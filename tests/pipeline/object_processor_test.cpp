#include "pipeline/object_processor.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/scratch_file.hpp"
#include "core/rules.hpp"
#include "pipeline/ledger.hpp"
#include "pipeline/observer.hpp"

namespace salesflow::pipeline {
namespace {

aws::AwsError injected(std::string service, std::string operation) {
  return aws::AwsError{.service = std::move(service),
                       .operation = std::move(operation),
                       .http_status = 500,
                       .code = "InjectedFailure",
                       .message = "injected failure",
                       .request_id = {},
                       .retryable = true,
                       .attempts = 3};
}

aws::AwsError source_error(std::string code, std::string message) {
  return aws::AwsError{.service = "s3",
                       .operation = "GetObject",
                       .http_status = 0,
                       .code = std::move(code),
                       .message = std::move(message),
                       .request_id = {},
                       .retryable = true,
                       .attempts = 1};
}

// The failure's text, for assertion messages.
std::string why(const ObjectReport& report) {
  return report.failure ? report.failure->to_string() : std::string("no failure");
}

// Runs completions on its own thread, as the AWS transport does.
class Completer {
 public:
  Completer() : thread_([this] { loop(); }) {}
  ~Completer() {
    {
      const std::scoped_lock lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void post(std::function<void()> task) {
    {
      const std::scoped_lock lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return done_ || !tasks_.empty(); });
      if (tasks_.empty()) {
        return;
      }
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool done_ = false;
  std::thread thread_;
};

class MemoryItems final : public ItemSink {
 public:
  explicit MemoryItems(Completer& completer) : completer_(completer) {}
  [[nodiscard]] std::size_t max_batch_items() const override { return 25; }
  void write(std::vector<ItemWrite> items, WriteDone done,
             std::atomic<std::uint64_t>* retries) override {
    if (retries != nullptr && retry_every_call) {
      ++*retries;
    }
    completer_.post([this, items = std::move(items), done = std::move(done)] {
      std::vector<ItemOutcome> outcomes;
      const std::scoped_lock lock(mutex);
      ++calls;
      const bool fail = fail_from_call != 0 && calls >= fail_from_call;
      for (const auto& item : items) {
        if (fail) {
          outcomes.push_back(ItemOutcome::failed);
        } else if (conflicting.count(item.index) != 0) {
          outcomes.push_back(ItemOutcome::conflict);
        } else {
          written[item.index] = item.item_json;
          ++puts;
          outcomes.push_back(ItemOutcome::written);
        }
      }
      done(std::move(outcomes),
           fail ? std::optional(injected("dynamodb", "BatchWriteItem")) : std::nullopt);
    });
  }
  std::mutex mutex;
  std::map<std::uint64_t, std::string> written;
  std::size_t puts = 0;
  std::size_t calls = 0;
  std::size_t fail_from_call = 0;
  std::set<std::uint64_t> conflicting;
  bool retry_every_call = false;

 private:
  Completer& completer_;
};

class MemoryMessages final : public MessageSink {
 public:
  explicit MemoryMessages(Completer& completer) : completer_(completer) {}
  [[nodiscard]] std::size_t max_batch_messages() const override { return 10; }
  void send(std::vector<Message> messages, SendDone done,
            std::atomic<std::uint64_t>* /*retries*/) override {
    completer_.post([this, messages = std::move(messages), done = std::move(done)] {
      {
        const std::scoped_lock lock(mutex);
        if (fail) {
          done(messages.size(), injected("sqs", "SendMessageBatch"));
          return;
        }
        for (const auto& m : messages) {
          ids.insert(m.id);
          bodies.push_back(m.body);
        }
      }
      done(0, std::nullopt);
    });
  }
  std::mutex mutex;
  std::set<std::string> ids;
  std::vector<std::string> bodies;
  bool fail = false;

 private:
  Completer& completer_;
};

std::string record(int n, bool complete = true) {
  std::string text = R"({"order-info":{"OrderId":"O-)" + std::to_string(n) + R"("})";
  if (complete) {
    text += R"(,"contact-info":{"email":"a@b.c"})";
  }
  return text + "}";
}

ChunkSource from_text(std::string text, std::size_t chunk = 7) {
  return [text = std::move(text),
          chunk](const std::function<bool(std::string_view)>& on_chunk) -> aws::Result<void> {
    for (std::size_t at = 0; at < text.size(); at += chunk) {
      if (!on_chunk(std::string_view(text).substr(at, chunk))) {
        break;
      }
    }
    return {};
  };
}

core::Provenance context() {
  return {"bucket", "key.jsonl", "etag", "", "2026-01-01T00:00:00Z", ""};
}

// Every event of one run, as an observer sees it (from several threads).
class RecordingObserver final : public Observer {
 public:
  void chunk_read(const ObjectVersion& object, std::uint64_t raw_bytes,
                  std::uint64_t records) override {
    const std::scoped_lock lock(mutex);
    objects.insert(object.bucket + "/" + object.key + "@" + object.etag);
    ++chunks;
    bytes += raw_bytes;
    records_read += records;
  }
  void batch_acknowledged(const ObjectVersion& /*object*/,
                          const BatchAcknowledged& batch) override {
    const std::scoped_lock lock(mutex);
    auto& sum = by_sink[batch.sink];
    sum.entries += batch.entries;
    sum.failed += batch.failed;
    sum.conflicts += batch.conflicts;
  }
  void checkpoint_saved(const ObjectVersion& /*object*/, const Checkpoint& checkpoint,
                        const aws::Result<LeaseState>& saved) override {
    const std::scoped_lock lock(mutex);
    checkpoints.push_back(checkpoint.next_index);
    unsaved += saved ? 0 : 1;
  }
  std::mutex mutex;
  std::set<std::string> objects;
  std::size_t chunks = 0;
  std::uint64_t bytes = 0;
  std::uint64_t records_read = 0;
  std::map<SinkKind, BatchAcknowledged> by_sink;
  std::vector<std::uint64_t> checkpoints;
  std::size_t unsaved = 0;
};

struct Fixture : ::testing::Test {
  Completer completer;
  MemoryItems items{completer};
  MemoryMessages messages{completer};
  core::RecordValidator validator{core::Rules::defaults()};
  ProcessorOptions options;
};

TEST_F(Fixture, RoutesEveryRecordOnceAndBalances) {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += record(i, i % 10 != 0) + "\n";
  }
  text += record(5) + "\n";  // byte-identical repeat of record 5
  text += "not json\n";
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(from_text(text), context());
  EXPECT_EQ(report.status, ObjectStatus::completed) << why(report);
  EXPECT_EQ(report.tally.records, 1002U);
  EXPECT_EQ(report.written, 900U);
  EXPECT_EQ(report.rejected, 101U);
  EXPECT_EQ(report.tally.duplicates, 1U);
  EXPECT_TRUE(report.balanced());
  EXPECT_EQ(items.written.size(), 900U);
  EXPECT_EQ(messages.ids.size(), 101U);
  EXPECT_EQ(report.last_checkpoint.next_index, 1002U);
  EXPECT_EQ(report.retries, 0U);
}

TEST_F(Fixture, RetriesOfTheSinksAreCountedPerObject) {
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text += record(i) + "\n";
  }
  items.retry_every_call = true;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(from_text(text), context());
  ASSERT_EQ(report.status, ObjectStatus::completed);
  EXPECT_EQ(report.retries, 4U);  // 100 items: 4 batches of 25
}

TEST_F(Fixture, CheckpointsAdvanceAndResumeSkipsDurableRecords) {
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    text += record(i, i % 3 != 0) + "\n";
  }
  options.checkpoint_every = 500;
  std::vector<Checkpoint> saved;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const CheckpointFn keep = [&](const Checkpoint& c) {
    saved.push_back(c);
    return LeaseState::held;
  };
  const ObjectReport first = processor.run(from_text(text, 4096), context(), {}, keep);
  ASSERT_EQ(first.status, ObjectStatus::completed);
  ASSERT_FALSE(saved.empty());
  for (std::size_t i = 1; i < saved.size(); ++i) {
    EXPECT_GE(saved[i].next_index, saved[i - 1].next_index + 500);
  }

  // A second run resuming at 1500 writes only what lies after it, and counts all.
  MemoryItems again_items{completer};
  MemoryMessages again_messages{completer};
  ObjectProcessor again(validator, options, again_items, again_messages, nullptr);
  const ObjectReport second = again.run(from_text(text, 4096), context(), Checkpoint{1500, 0, 0});
  ASSERT_EQ(second.status, ObjectStatus::completed);
  EXPECT_EQ(second.tally.records, 3000U);
  EXPECT_TRUE(second.balanced());
  EXPECT_EQ(second.resumed_from, 1500U);
  EXPECT_EQ(again_items.written.size(), 1000U);
  EXPECT_EQ(again_items.written.begin()->first, 1501U);
  EXPECT_EQ(again_messages.ids.size(), 500U);
}

TEST_F(Fixture, SinkFailureFailsTheObjectAndKeepsTheCheckpointBelowIt) {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += record(i) + "\n";
  }
  items.fail_from_call = 30;  // 29 batches of 25 succeed: 725 records
  options.checkpoint_every = 100;
  options.max_requests_in_flight = 1;  // strictly ordered, so the watermark is exact
  Checkpoint last;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report =
      processor.run(from_text(text), context(), {}, [&](const Checkpoint& c) {
        last = c;
        return LeaseState::held;
      });
  EXPECT_EQ(report.status, ObjectStatus::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_EQ(report.failure->stage, FailureStage::items);
  ASSERT_TRUE(report.failure->cause);
  EXPECT_EQ(report.failure->cause->code, "InjectedFailure");
  EXPECT_EQ(report.failure->cause->operation, "BatchWriteItem");
  EXPECT_NE(report.failure->detail.find("25 of 25 items not written"), std::string::npos)
      << report.failure->detail;
  EXPECT_LE(report.last_checkpoint.next_index, 725U);
  EXPECT_GE(report.last_checkpoint.next_index, 512U);  // whole 256-record segments
  for (std::uint64_t i = 0; i < report.last_checkpoint.next_index; ++i) {
    ASSERT_EQ(items.written.count(i), 1U) << i;
  }
}

// The duplicate tracker cannot spill (its directory is missing): the object
// fails at the record that needed the spill, nothing from that record on is
// sent, and a rerun from the checkpoint with a usable directory sends the rest.
TEST_F(Fixture, ADuplicateTrackingErrorFailsTheObjectAndARerunSendsTheRest) {
  std::string text;
  for (int i = 0; i < 600; ++i) {
    text += record(i, i % 7 != 0) + "\n";
  }
  const std::filesystem::path directory =
      std::filesystem::path(::testing::TempDir()) / "object-processor-dedup";
  std::filesystem::remove_all(directory);
  // 4 KiB: 48 entries in memory, then a spill into the missing directory.
  options.duplicate_tracking = core::DuplicateTrackingOptions{
      4096, std::make_shared<base::TempDirectory>(directory.string())};
  options.max_requests_in_flight = 1;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(from_text(text, 64), context());
  EXPECT_EQ(report.status, ObjectStatus::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_EQ(report.failure->stage, FailureStage::duplicates);
  EXPECT_NE(report.failure->detail.find("creating a scratch file"), std::string::npos)
      << report.failure->detail;
  // The 49th complete record (index 57) needed the spill: nothing from it on,
  // incomplete records included.
  EXPECT_EQ(report.tally.records, 57U);
  EXPECT_EQ(items.written.size(), 48U);
  EXPECT_LT(items.written.rbegin()->first, 57U);
  EXPECT_EQ(messages.ids.size(), 9U);
  EXPECT_LE(report.last_checkpoint.next_index, 57U);

  std::filesystem::create_directories(directory);
  ObjectProcessor again(validator, options, items, messages, nullptr);
  const ObjectReport second = again.run(from_text(text, 64), context(), report.last_checkpoint);
  std::filesystem::remove_all(directory);
  ASSERT_EQ(second.status, ObjectStatus::completed) << why(second);
  EXPECT_EQ(second.tally.records, 600U);
  EXPECT_TRUE(second.balanced());
  EXPECT_EQ(items.written.size(), 514U);  // every complete record, each index once
  EXPECT_EQ(messages.ids.size(), 86U);
}

TEST_F(Fixture, LostLeaseStopsReadingAndWriting) {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += record(i) + "\n";
  }
  options.checkpoint_every = 300;
  options.max_requests_in_flight = 1;
  std::size_t calls_when_lost = 0;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report =
      processor.run(from_text(text, 512), context(), {}, [&](const Checkpoint&) {
        const std::scoped_lock lock(items.mutex);
        calls_when_lost = items.calls;
        return LeaseState::lost;
      });
  EXPECT_EQ(report.status, ObjectStatus::lease_lost);
  EXPECT_LT(report.tally.records, 5000U);
  // The batch under way may complete; none is sent after the ledger said "lost".
  EXPECT_LE(items.calls, calls_when_lost + 1);
}

// The heartbeat finds the lease taken over between checkpoints: from that
// moment no request is sent, and the run ends as lease_lost.
TEST_F(Fixture, LeaseLostFlagStopsWritingAtOnce) {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += record(i, i % 50 != 0) + "\n";
  }
  std::atomic<bool> lease_lost{false};
  std::size_t calls_when_lost = 0;
  const ChunkSource source =
      [&](const std::function<bool(std::string_view)>& on_chunk) -> aws::Result<void> {
    for (std::size_t at = 0; at < text.size(); at += 512) {
      if (at >= text.size() / 4 && !lease_lost) {
        const std::scoped_lock lock(items.mutex);
        calls_when_lost = items.calls;
        lease_lost = true;
      }
      if (!on_chunk(std::string_view(text).substr(at, 512))) {
        break;
      }
    }
    return {};
  };
  options.max_requests_in_flight = 1;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(source, context(), {}, {}, nullptr, &lease_lost);
  EXPECT_EQ(report.status, ObjectStatus::lease_lost) << why(report);
  EXPECT_LT(report.tally.records, 5000U);
  // One batch may have been under way when the flag rose; nothing after it.
  EXPECT_LE(items.calls, calls_when_lost + 1);
  EXPECT_LT(report.last_checkpoint.next_index, report.tally.records);
}

TEST_F(Fixture, StopFlagInterrupts) {
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text += record(i) + "\n";
  }
  const std::atomic<bool> stop{true};
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(from_text(text), context(), {}, {}, &stop);
  EXPECT_EQ(report.status, ObjectStatus::interrupted);
}

TEST_F(Fixture, ReadAbortedByAStopIsAnInterruption) {
  std::atomic<bool> stop{false};
  const ChunkSource aborting =
      [&stop](const std::function<bool(std::string_view)>& on_chunk) -> aws::Result<void> {
    on_chunk(record(1) + "\n");
    stop = true;
    if (!on_chunk(record(2) + "\n")) {
      return tl::make_unexpected(source_error("Aborted", "the consumer stopped the stream"));
    }
    return {};
  };
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(aborting, context(), {}, {}, &stop);
  EXPECT_EQ(report.status, ObjectStatus::interrupted) << why(report);
}

TEST_F(Fixture, SourceErrorFails) {
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ChunkSource broken =
      [](const std::function<bool(std::string_view)>& on_chunk) -> aws::Result<void> {
    EXPECT_TRUE(on_chunk(record(1) + "\n"));
    return tl::make_unexpected(source_error("RecvError", "connection reset by peer"));
  };
  const ObjectReport report = processor.run(broken, context());
  EXPECT_EQ(report.status, ObjectStatus::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_EQ(report.failure->stage, FailureStage::source);
  ASSERT_TRUE(report.failure->cause);
  EXPECT_EQ(report.failure->cause->code, "RecvError");  // the AWS error itself, not a text
  EXPECT_NE(report.failure->to_string().find("connection reset"), std::string::npos);
}

TEST_F(Fixture, FailedCheckpointsAreCountedAndCostNoRecord) {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += record(i, i % 7 != 0) + "\n";
  }
  options.checkpoint_every = 250;
  std::size_t attempts = 0;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(
      from_text(text, 1024), context(), {}, [&](const Checkpoint&) -> aws::Result<LeaseState> {
        ++attempts;
        return tl::make_unexpected(injected("dynamodb", "UpdateItem"));
      });
  ASSERT_EQ(report.status, ObjectStatus::completed) << why(report);
  EXPECT_FALSE(report.failure);
  EXPECT_GT(attempts, 0U);
  EXPECT_EQ(report.checkpoint_failures, attempts);
  ASSERT_TRUE(report.checkpoint_error);
  EXPECT_EQ(report.checkpoint_error->operation, "UpdateItem");
  EXPECT_TRUE(report.balanced());
  EXPECT_EQ(items.written.size() + messages.ids.size(), 2000U);
}

TEST_F(Fixture, UnsentEnvelopesFailTheObjectWithTheQueuesError) {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += record(i, i % 4 != 0) + "\n";
  }
  messages.fail = true;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(from_text(text), context());
  EXPECT_EQ(report.status, ObjectStatus::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_EQ(report.failure->stage, FailureStage::messages);
  ASSERT_TRUE(report.failure->cause);
  EXPECT_EQ(report.failure->cause->operation, "SendMessageBatch");
  // No record past an unsent envelope is durable, so none is checkpointed past it.
  EXPECT_EQ(report.last_checkpoint.next_index, 0U);
}

TEST_F(Fixture, OversizeEnvelopeWithoutOffloadFailsAsConfiguration) {
  const std::string big(300 * 1024, 'x');
  const std::string text = R"({"order-info":{"OrderId":")" + big + "\"}}\n";
  options.envelopes.max_message_bytes = 64 * 1024;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(from_text(text, 65536), context());
  EXPECT_EQ(report.status, ObjectStatus::failed);
  ASSERT_TRUE(report.failure);
  EXPECT_EQ(report.failure->stage, FailureStage::configuration);
  EXPECT_FALSE(report.failure->cause);
  EXPECT_TRUE(messages.ids.empty());
}

TEST_F(Fixture, ConflictsBecomeDuplicateKeyEnvelopes) {
  std::string text;
  for (int i = 0; i < 60; ++i) {
    text += record(i) + "\n";
  }
  items.conflicting = {3, 40, 59};
  options.keep_raw_for_conflicts = true;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(from_text(text), context());
  ASSERT_EQ(report.status, ObjectStatus::completed) << why(report);
  EXPECT_EQ(report.conflicts, 3U);
  EXPECT_EQ(report.written, 57U);
  EXPECT_EQ(report.rejected, 3U);
  EXPECT_TRUE(report.balanced());
  ASSERT_EQ(messages.bodies.size(), 3U);
  for (const auto& body : messages.bodies) {
    EXPECT_NE(body.find("duplicate_key"), std::string::npos);
    EXPECT_NE(body.find("O-"), std::string::npos) << "raw text kept";
  }
}

TEST_F(Fixture, FileFaultBecomesOneEnvelope) {
  const std::string text = "[" + record(1) + "," + record(2) + ", {broken";
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(from_text(text), context());
  ASSERT_EQ(report.status, ObjectStatus::completed) << why(report);
  EXPECT_EQ(report.written, 2U);
  EXPECT_EQ(report.faults, 1U);
  EXPECT_EQ(messages.ids.size(), 1U);
}

}  // namespace
}  // namespace salesflow::pipeline

namespace salesflow::pipeline {
namespace {

TEST_F(Fixture, TheObserverSeesEveryChunkBatchAndCheckpoint) {
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text += record(i, i % 10 != 0) + "\n";
  }
  items.conflicting = {7, 501};
  options.keep_raw_for_conflicts = true;
  options.checkpoint_every = 200;
  RecordingObserver observer;
  options.observer = &observer;
  std::size_t checkpoint_calls = 0;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report =
      processor.run(from_text(text, 1000), context(), {}, [&](const Checkpoint&) {
        ++checkpoint_calls;
        return LeaseState::held;
      });
  ASSERT_EQ(report.status, ObjectStatus::completed) << why(report);
  const std::scoped_lock lock(observer.mutex);
  EXPECT_EQ(observer.objects, std::set<std::string>{"bucket/key.jsonl@etag"});
  EXPECT_EQ(observer.chunks, (text.size() + 999) / 1000);
  EXPECT_EQ(observer.bytes, report.raw_bytes);
  EXPECT_EQ(observer.records_read, report.tally.records);
  const auto& written = observer.by_sink[SinkKind::items];
  EXPECT_EQ(written.entries, report.items_put + report.conflicts);
  EXPECT_EQ(written.conflicts, 2U);
  EXPECT_EQ(written.failed, 0U);
  const auto& sent = observer.by_sink[SinkKind::messages];
  EXPECT_EQ(sent.entries, report.envelopes_sent);
  EXPECT_EQ(sent.entries, 102U);  // 100 incomplete records and 2 conflicts
  EXPECT_EQ(observer.by_sink.count(SinkKind::offload), 0U);
  EXPECT_EQ(observer.checkpoints.size(), checkpoint_calls);
  EXPECT_GT(checkpoint_calls, 0U);
  EXPECT_EQ(observer.unsaved, 0U);
}

TEST_F(Fixture, TheObserverSeesFailedBatchesAndUnsavedCheckpoints) {
  std::string text;
  for (int i = 0; i < 600; ++i) {
    text += record(i) + "\n";
  }
  items.fail_from_call = 10;
  options.max_requests_in_flight = 1;
  options.checkpoint_every = 100;
  RecordingObserver observer;
  options.observer = &observer;
  ObjectProcessor processor(validator, options, items, messages, nullptr);
  const ObjectReport report = processor.run(
      from_text(text, 512), context(), {}, [&](const Checkpoint&) -> aws::Result<LeaseState> {
        return tl::make_unexpected(injected("dynamodb", "UpdateItem"));
      });
  ASSERT_EQ(report.status, ObjectStatus::failed);
  const std::scoped_lock lock(observer.mutex);
  const auto& written = observer.by_sink[SinkKind::items];
  EXPECT_EQ(written.entries - written.failed, report.items_put);
  EXPECT_GE(written.failed, 25U);
  EXPECT_EQ(observer.unsaved, observer.checkpoints.size());
  EXPECT_EQ(observer.unsaved, report.checkpoint_failures);
}

// Forwards every event to each observer in order.
TEST(ObserverList, TellsEveryObserverEveryEvent) {
  RecordingObserver first;
  RecordingObserver second;
  ObserverList list;
  list.add(first);
  list.add(second);
  const ObjectVersion object{"b", "k", "e", ""};
  list.chunk_read(object, 10, 2);
  list.batch_acknowledged(object, BatchAcknowledged{SinkKind::offload, 1, 1, 0});
  list.checkpoint_saved(object, Checkpoint{5, 50, 0}, LeaseState::held);
  for (RecordingObserver* observer : {&first, &second}) {
    EXPECT_EQ(observer->bytes, 10U);
    EXPECT_EQ(observer->records_read, 2U);
    EXPECT_EQ(observer->by_sink[SinkKind::offload].failed, 1U);
    EXPECT_EQ(observer->checkpoints, std::vector<std::uint64_t>{5});
  }
}

}  // namespace
}  // namespace salesflow::pipeline
