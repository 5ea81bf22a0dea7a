#pragma once
// The ledger: one DynamoDB item per object version, saying whether the object
// is done, or who is working on it (a lease) and how far its records are
// durably routed (a checkpoint). It makes repeated notifications cheap (a
// done object is skipped) and crashes harmless (an expired lease is taken
// over, and the new owner resumes from the checkpoint).
//
// Item (partition key `object_id`, type S):
//   object_id   "s3://bucket/key" + "#v=<versionId>" or "#e=<eTag>"
//   state       "running" | "done"
//   owner       worker id holding the lease (running)
//   lease_until epoch seconds; another worker may take over after it
//   next_index  records below it are durably routed (the checkpoint)
//   next_offset byte offset of record next_index (informational)
//   conflicts   records below next_index refused by the table (reject mode)
//   attempts    claims so far
//   records, written, rejected, duplicates, faults, finished_at (done)
//
// Every write after the claim is conditional on `owner = me AND state =
// running`: a worker that lost its lease can never overwrite the progress of
// the one that took over.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "aws/dynamodb.hpp"
#include "pipeline/object_processor.hpp"

namespace salesflow::pipeline {

struct ObjectVersion {
  std::string bucket;
  std::string key;
  std::string etag;
  std::string version_id;

  // The ledger's partition key value.
  std::string ledger_id() const;
};

enum class ClaimResult {
  claimed,       // ours now; resume from `resume`
  already_done,  // finished before: nothing to do
  held,          // another worker holds a live lease
};

struct Claim {
  ClaimResult result = ClaimResult::claimed;
  Checkpoint resume;
  int attempts = 0;
  std::string holder;            // when held
  std::int64_t lease_until = 0;  // when held: epoch seconds
};

class Ledger {
 public:
  using Clock = std::function<std::int64_t()>;  // epoch seconds

  // `owner` identifies this worker (unique per process).
  Ledger(aws::DynamoDbClient& dynamodb, std::string table, std::string owner,
         std::chrono::seconds lease, Clock clock = {});

  [[nodiscard]] aws::Result<Claim> claim(const ObjectVersion& object);
  // Records durable progress and renews the lease.
  [[nodiscard]] aws::Result<LeaseState> checkpoint(const ObjectVersion& object,
                                                   const Checkpoint& checkpoint);
  // Renews the lease only.
  [[nodiscard]] aws::Result<LeaseState> renew(const ObjectVersion& object);
  // Marks the object done with its counts (nothing is marked when the lease was lost).
  [[nodiscard]] aws::Result<LeaseState> complete(const ObjectVersion& object,
                                                 const ObjectReport& report);
  // Gives the lease up early (on failure or shutdown) so a retry can start at
  // once from the last checkpoint; a lost lease is not an error here.
  [[nodiscard]] aws::Result<void> release(const ObjectVersion& object);

  const std::string& owner() const { return owner_; }
  const std::string& table() const { return table_; }

  // The ledger table's key schema, for `init`.
  static aws::CreateTableRequest table_schema(std::string table);

 private:
  std::int64_t now() const;
  [[nodiscard]] aws::Result<LeaseState> owned_update(const ObjectVersion& object,
                                                     std::string update_expression,
                                                     std::string names, std::string values);

  aws::DynamoDbClient& dynamodb_;
  std::string table_;
  std::string owner_;
  std::chrono::seconds lease_;
  Clock clock_;
};

}  // namespace salesflow::pipeline
