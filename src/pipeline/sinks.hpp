#pragma once
// Where an object's records go, as the pipeline sees it: asynchronous sinks that
// acknowledge every write. The processor decides what is durable from these
// acknowledgements alone, so a sink must call `done` exactly once per call, and
// only when it knows the outcome (written, refused, or failed for good after
// its own retries). `done` may run on any thread and must not block. A failure
// comes with the AWS error behind it (a sink that fails without an AWS answer,
// items still unprocessed at the deadline say, describes it as one), so the
// object's failure carries a code the caller can act on.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aws/error.hpp"

namespace salesflow::pipeline {

// One complete record on its way to the table.
struct ItemWrite {
  std::uint64_t index = 0;  // record index in the object
  std::string item_json;    // DynamoDB JSON of the item
  // Only in conflict-rejecting mode: what a duplicate_key envelope needs.
  std::string raw;
  std::uint64_t offset = 0;
  std::uint64_t line = 0;
};

enum class ItemOutcome {
  written,   // durable in the table
  conflict,  // refused: the table holds another record with this key (reject mode)
  failed,    // not written; the object cannot be finished now
};

class ItemSink {
 public:
  virtual ~ItemSink() = default;
  // Largest batch a single write() should carry.
  [[nodiscard]] virtual std::size_t max_batch_items() const = 0;
  // `done` gets one outcome per item, in the order given, and, when any failed,
  // the error behind it. `retries`, when given, counts the retried requests
  // this write needed; it outlives the call.
  using WriteDone = std::function<void(std::vector<ItemOutcome>, std::optional<aws::AwsError>)>;
  virtual void write(std::vector<ItemWrite> items, WriteDone done,
                     std::atomic<std::uint64_t>* retries) = 0;
};

// One DLQ message.
struct Message {
  std::string id;  // deterministic envelope id
  std::string body;
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  [[nodiscard]] virtual std::size_t max_batch_messages() const = 0;
  // `done` gets how many of the messages were not sent (0: all durable) and,
  // when any was not, the error behind it.
  using SendDone = std::function<void(std::size_t failed, std::optional<aws::AwsError>)>;
  virtual void send(std::vector<Message> messages, SendDone done,
                    std::atomic<std::uint64_t>* retries) = 0;
};

// Stores oversize DLQ envelopes' full text.
class BlobSink {
 public:
  virtual ~BlobSink() = default;
  // `done` gets nothing when the text is stored, else the error.
  using PutDone = std::function<void(std::optional<aws::AwsError>)>;
  virtual void put(std::string bucket, std::string key, std::string body, PutDone done,
                   std::atomic<std::uint64_t>* retries) = 0;
};

}  // namespace salesflow::pipeline
