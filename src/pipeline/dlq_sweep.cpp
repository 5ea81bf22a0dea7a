#include "pipeline/dlq_sweep.hpp"

#include <algorithm>
#include <functional>
#include <unordered_set>

namespace salesflow::pipeline {
namespace {

// Runs `call` over `items` in groups of SQS's batch size and sums the failures.
const std::string& handle_of(const std::string& handle) {
  return handle;
}
const std::string& handle_of(const aws::VisibilityChange& change) {
  return change.receipt_handle;
}

template <typename Item>
SweepFailures in_batches(
    const std::vector<Item>& items,
    const std::function<aws::Result<aws::BatchOutcome>(std::vector<Item>)>& call) {
  SweepFailures failures;
  for (std::size_t at = 0; at < items.size(); at += aws::SqsClient::kMaxBatchEntries) {
    const auto end = std::min(items.size(), at + aws::SqsClient::kMaxBatchEntries);
    auto outcome = call(std::vector<Item>(items.begin() + static_cast<std::ptrdiff_t>(at),
                                          items.begin() + static_cast<std::ptrdiff_t>(end)));
    if (!outcome) {
      failures.failed += end - at;
      if (failures.first_error.empty()) failures.first_error = outcome.error().to_string();
      for (std::size_t i = at; i < end; ++i) failures.failed_handles.push_back(handle_of(items[i]));
    } else if (!outcome->ok()) {
      failures.failed += outcome->failed.size();
      if (failures.first_error.empty()) {
        failures.first_error =
            outcome->failed.front().code + ": " + outcome->failed.front().message;
      }
      for (const auto& entry : outcome->failed) {
        if (at + entry.index < end)
          failures.failed_handles.push_back(handle_of(items[at + entry.index]));
      }
    }
  }
  return failures;
}

}  // namespace

DlqSweep::DlqSweep(aws::SqsClient& sqs, std::string queue_url, DlqSweepOptions options)
    : sqs_(sqs), url_(std::move(queue_url)), options_(options) {}

DlqSweep::~DlqSweep() {
  // The messages reappear after their visibility timeout if this fails.
  static_cast<void>(hand_back());
}

aws::Result<std::vector<aws::SqsMessage>> DlqSweep::next() {
  std::vector<aws::SqsMessage> batch;
  while (!over_ && batch.empty()) {
    if (held_.size() >= options_.max_held) {
      limit_reached_ = true;
      over_ = true;
      break;
    }
    keep_hidden();
    aws::ReceiveOptions receive;
    receive.max_messages = static_cast<int>(
        std::min<std::size_t>(aws::SqsClient::kMaxBatchEntries, options_.max_held - held_.size()));
    receive.wait_seconds = options_.wait_seconds;
    receive.visibility_timeout = static_cast<int>(options_.visibility.count());
    auto received = sqs_.receive(url_, receive);
    if (!received) return tl::make_unexpected(std::move(received.error()));
    if (received->empty()) {
      // One empty long poll can be a moment between sends; two in a row mean
      // nothing visible is left.
      over_ = ++empty_receives_ >= 2;
      continue;
    }
    empty_receives_ = 0;
    const auto now = std::chrono::steady_clock::now();
    for (auto& message : *received) {
      hold(message.receipt_handle, now);
      ++received_;
      batch.push_back(std::move(message));
    }
  }
  return batch;
}

std::optional<aws::AwsError> DlqSweep::run(const BatchHandler& on_batch,
                                           const SweepProgress& progress) {
  while (true) {
    auto batch = next();
    if (!batch) return std::move(batch.error());
    if (batch->empty()) return std::nullopt;
    if (progress) progress(received_);
    if (!on_batch(*batch)) return std::nullopt;
  }
}

void DlqSweep::hold(const std::string& handle, Clock::time_point now) {
  held_.insert_or_assign(handle, now);
  by_start_.emplace_back(now, handle);
}

void DlqSweep::keep_hidden() {
  const auto now = Clock::now();
  std::vector<aws::VisibilityChange> changes;
  while (!by_start_.empty() && now - by_start_.front().first > options_.visibility / 2) {
    auto [since, handle] = std::move(by_start_.front());
    by_start_.pop_front();
    const auto held = held_.find(handle);
    if (held == held_.end() || held->second != since) continue;  // gone, or held again since
    changes.push_back(aws::VisibilityChange{handle, static_cast<int>(options_.visibility.count())});
    hold(handle, now);
  }
  // A failed extension lets those messages reappear; a later receive of this
  // sweep may then get one again, which the callers tolerate (ids collapse).
  static_cast<void>(
      in_batches<aws::VisibilityChange>(changes, [this](std::vector<aws::VisibilityChange> group) {
        return sqs_.change_visibility_batch(url_, std::move(group));
      }));
}

SweepFailures DlqSweep::remove(const std::vector<std::string>& receipt_handles) {
  SweepFailures failures = in_batches<std::string>(
      receipt_handles,
      [this](std::vector<std::string> group) { return sqs_.delete_batch(url_, std::move(group)); });
  // What was not deleted stays held (its visibility timeout running as
  // before), so the end of the sweep hands it back.
  const std::unordered_set<std::string> kept(failures.failed_handles.begin(),
                                             failures.failed_handles.end());
  for (const auto& handle : receipt_handles) {
    if (!kept.contains(handle)) held_.erase(handle);
  }
  return failures;
}

SweepFailures DlqSweep::release(const std::vector<std::string>& receipt_handles) {
  std::vector<aws::VisibilityChange> changes;
  changes.reserve(receipt_handles.size());
  for (const auto& handle : receipt_handles) {
    if (held_.erase(handle) != 0) changes.push_back(aws::VisibilityChange{handle, 0});
  }
  return in_batches<aws::VisibilityChange>(
      changes, [this](std::vector<aws::VisibilityChange> group) {
        return sqs_.change_visibility_batch(url_, std::move(group));
      });
}

SweepFailures DlqSweep::hand_back() {
  std::vector<std::string> handles;
  handles.reserve(held_.size());
  for (const auto& [handle, since] : held_) handles.push_back(handle);
  by_start_.clear();
  return release(handles);
}

}  // namespace salesflow::pipeline
