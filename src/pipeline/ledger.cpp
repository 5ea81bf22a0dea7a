#include "pipeline/ledger.hpp"

#include <simdjson.h>

#include <charconv>
#include <utility>

#include "base/json_string.hpp"
#include "core/item_json.hpp"

namespace salesflow::pipeline {
namespace {

constexpr std::string_view kRunning = "running";
constexpr std::string_view kDone = "done";

std::string string_value(std::string_view text) {
  std::string out = R"({"S":)";
  base::append_json_string(out, text);
  out += '}';
  return out;
}

std::string number_value(std::uint64_t value) {
  std::string out = R"({"N":")";
  core::append_decimal(out, value);
  out += "\"}";
  return out;
}

std::string signed_number_value(std::int64_t value) {
  return R"({"N":")" + std::to_string(value) + "\"}";
}

std::string key_of(const ObjectVersion& object) {
  return R"({"object_id":)" + string_value(object.ledger_id()) + "}";
}

// DynamoDB refuses expression attribute names an expression does not use, so
// each update names exactly its own.
constexpr std::string_view kCompleteNames =
    R"({"#state":"state","#owner":"owner","#lease":"lease_until","#next":"next_index",)"
    R"("#conflicts":"conflicts","#records":"records","#written":"written",)"
    R"("#rejected":"rejected","#duplicates":"duplicates","#faults":"faults",)"
    R"("#finished":"finished_at"})";

// Reads an N or S attribute of a DynamoDB-JSON item.
std::string attribute_text(simdjson::dom::element item, std::string_view name) {
  const auto attribute = item[name];
  if (attribute.error()) {
    return {};
  }
  for (const std::string_view type : {"S", "N"}) {
    std::string_view value;
    if (attribute[type].get(value) == simdjson::SUCCESS) {
      return std::string(value);
    }
  }
  return {};
}

std::int64_t attribute_number(simdjson::dom::element item, std::string_view name) {
  const std::string text = attribute_text(item, name);
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

}  // namespace

std::string ObjectVersion::ledger_id() const {
  std::string id = "s3://" + bucket + "/" + key;
  if (!version_id.empty()) {
    id += "#v=" + version_id;
  } else {
    id += "#e=" + etag;
  }
  return id;
}

Ledger::Ledger(aws::DynamoDbClient& dynamodb, std::string table, std::string owner,
               std::chrono::seconds lease, Clock clock)
    : dynamodb_(dynamodb),
      table_(std::move(table)),
      owner_(std::move(owner)),
      lease_(lease),
      clock_(std::move(clock)) {}

std::int64_t Ledger::now() const {
  if (clock_) {
    return clock_();
  }
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

aws::CreateTableRequest Ledger::table_schema(std::string table) {
  aws::CreateTableRequest request;
  request.table = std::move(table);
  request.partition_key = aws::KeyAttribute{"object_id", "S"};
  return request;
}

aws::Result<Claim> Ledger::claim(const ObjectVersion& object) {
  const std::int64_t at = now();
  aws::UpdateItemRequest request;
  request.table = table_;
  request.key = key_of(object);
  request.update_expression =
      "SET #state = :running, #owner = :me, #lease = :until, #bucket = :bucket, #key = :key, "
      "#started = if_not_exists(#started, :now), #attempts = if_not_exists(#attempts, :zero) + "
      ":one, #next = if_not_exists(#next, :zero), #offset = if_not_exists(#offset, :zero), "
      "#conflicts = if_not_exists(#conflicts, :zero)";
  request.condition_expression =
      "attribute_not_exists(#id) OR (#state = :running AND (#lease < :now OR #owner = :me))";
  request.expression_attribute_names =
      R"({"#id":"object_id","#state":"state","#owner":"owner","#lease":"lease_until",)"
      R"("#bucket":"bucket","#key":"key","#started":"started_at","#attempts":"attempts",)"
      R"("#next":"next_index","#offset":"next_offset","#conflicts":"conflicts"})";
  request.expression_attribute_values =
      "{\":running\":" + string_value(kRunning) + ",\":me\":" + string_value(owner_) +
      ",\":until\":" + signed_number_value(at + lease_.count()) +
      ",\":bucket\":" + string_value(object.bucket) + ",\":key\":" + string_value(object.key) +
      ",\":now\":" + signed_number_value(at) + ",\":zero\":" + number_value(0) +
      ",\":one\":" + number_value(1) + "}";
  auto updated = dynamodb_.update_item(std::move(request));
  if (!updated) {
    return tl::make_unexpected(updated.error());
  }

  // Either way, the item now tells what to do; a consistent read sees our write.
  auto item = dynamodb_.get_item(aws::GetItemRequest{table_, key_of(object), true});
  if (!item) {
    return tl::make_unexpected(item.error());
  }
  Claim claim;
  if (!item->has_value()) {
    // Only possible if someone deleted the entry between the two calls.
    claim.result = ClaimResult::held;
    return claim;
  }
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(**item);
  simdjson::dom::element element;
  if (parser.parse(padded).get(element) != simdjson::SUCCESS) {
    aws::AwsError error;
    error.service = "dynamodb";
    error.operation = "GetItem";
    error.code = "InvalidLedgerItem";
    error.message = "the ledger item of " + object.ledger_id() + " is not DynamoDB JSON";
    return tl::make_unexpected(error);
  }
  const std::string state = attribute_text(element, "state");
  claim.attempts = static_cast<int>(attribute_number(element, "attempts"));
  if (state == kDone) {
    claim.result = ClaimResult::already_done;
    return claim;
  }
  if (*updated == aws::ConditionalOutcome::condition_failed ||
      attribute_text(element, "owner") != owner_) {
    claim.result = ClaimResult::held;
    claim.holder = attribute_text(element, "owner");
    claim.lease_until = attribute_number(element, "lease_until");
    return claim;
  }
  claim.result = ClaimResult::claimed;
  claim.resume.next_index = static_cast<std::uint64_t>(attribute_number(element, "next_index"));
  claim.resume.offset = static_cast<std::uint64_t>(attribute_number(element, "next_offset"));
  claim.resume.conflicts = static_cast<std::uint64_t>(attribute_number(element, "conflicts"));
  return claim;
}

aws::Result<LeaseState> Ledger::owned_update(const ObjectVersion& object,
                                             std::string update_expression, std::string names,
                                             std::string values) {
  aws::UpdateItemRequest request;
  request.table = table_;
  request.key = key_of(object);
  request.update_expression = std::move(update_expression);
  request.condition_expression = "#owner = :me AND #state = :running";
  request.expression_attribute_names = std::move(names);
  request.expression_attribute_values = "{\":me\":" + string_value(owner_) +
                                        ",\":running\":" + string_value(kRunning) +
                                        (values.empty() ? "" : "," + values) + "}";
  auto outcome = dynamodb_.update_item(std::move(request));
  if (!outcome) {
    return tl::make_unexpected(outcome.error());
  }
  return *outcome == aws::ConditionalOutcome::applied ? LeaseState::held : LeaseState::lost;
}

aws::Result<LeaseState> Ledger::checkpoint(const ObjectVersion& object,
                                           const Checkpoint& checkpoint) {
  return owned_update(
      object, "SET #next = :next, #offset = :offset, #conflicts = :conflicts, #lease = :until",
      R"({"#owner":"owner","#state":"state","#next":"next_index","#offset":"next_offset",)"
      R"("#conflicts":"conflicts","#lease":"lease_until"})",
      "\":next\":" + number_value(checkpoint.next_index) +
          ",\":offset\":" + number_value(checkpoint.offset) +
          ",\":conflicts\":" + number_value(checkpoint.conflicts) +
          ",\":until\":" + signed_number_value(now() + lease_.count()));
}

aws::Result<LeaseState> Ledger::renew(const ObjectVersion& object) {
  return owned_update(object, "SET #lease = :until",
                      R"({"#owner":"owner","#state":"state","#lease":"lease_until"})",
                      "\":until\":" + signed_number_value(now() + lease_.count()));
}

aws::Result<LeaseState> Ledger::complete(const ObjectVersion& object, const ObjectReport& report) {
  return owned_update(
      object,
      "SET #state = :done, #next = :next, #records = :records, #written = :written, "
      "#rejected = :rejected, #duplicates = :duplicates, #faults = :faults, #finished = :now, "
      "#conflicts = :conflicts REMOVE #lease",
      std::string(kCompleteNames),
      "\":done\":" + string_value(kDone) + ",\":next\":" + number_value(report.tally.records) +
          ",\":records\":" + number_value(report.tally.records) + ",\":written\":" +
          number_value(report.written) + ",\":rejected\":" + number_value(report.rejected) +
          ",\":duplicates\":" + number_value(report.tally.duplicates) + ",\":faults\":" +
          number_value(report.faults) + ",\":conflicts\":" + number_value(report.conflicts) +
          ",\":now\":" + signed_number_value(now()));
}

aws::Result<void> Ledger::release(const ObjectVersion& object) {
  auto released = owned_update(object, "SET #lease = :zero",
                               R"({"#owner":"owner","#state":"state","#lease":"lease_until"})",
                               "\":zero\":" + number_value(0));
  if (!released) {
    return tl::make_unexpected(released.error());
  }
  return {};
}

}  // namespace salesflow::pipeline
