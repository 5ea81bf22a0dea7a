#include "core/object_validator.hpp"

#include <fmt/format.h>

#include "base/text.hpp"

namespace salesflow::core {

ObjectValidator::ObjectValidator(RecordValidator& validator, Provenance provenance,
                                 DuplicateTrackingOptions tracking)
    : validator_(&validator), provenance_(std::move(provenance)), tracker_(std::move(tracking)) {}

tl::expected<Disposition, DuplicateTrackingError> ObjectValidator::check(const RawRecord& record) {
  // After a tracking error no record has a verdict, a rejected one included:
  // its envelope would be sent again by the retry.
  if (tracking_failure_) return tl::make_unexpected(*tracking_failure_);
  return settle(validator_->check(record, provenance_), base::trim(record.text));
}

tl::expected<Disposition, DuplicateTrackingError> ObjectValidator::settle(
    const Verdict& verdict, std::string_view trimmed_raw) {
  if (tracking_failure_) return tl::make_unexpected(*tracking_failure_);
  verdict_ = &verdict;
  // Rejected records are not tracked: each occurrence gets its own envelope.
  auto seen =
      verdict.valid ? tracker_.observe(verdict.key, trimmed_raw) : DuplicateTracker::Seen::first;
  if (!seen) {
    tracking_failure_ = seen.error();
    return tl::make_unexpected(std::move(seen.error()));
  }
  ++tally_.records;
  if (*seen == DuplicateTracker::Seen::same_record) {
    ++tally_.duplicates;
    return Disposition::duplicate;
  }
  if (*seen == DuplicateTracker::Seen::same_key_different_record) {
    rejected_ = verdict;
    rejected_.valid = false;
    rejected_.item_json = {};
    const Rules& rules = validator_->rules();
    rejected_.reasons.push_back(Reason{
        ReasonCode::duplicate_key, rules.partition_key.path,
        rules.sort_key
            ? fmt::format("an earlier record in this object has the same key ({} {:?}, {} {:?}) "
                          "with different content",
                          rules.partition_key.attribute, verdict.partition_key,
                          rules.sort_key->attribute, verdict.sort_key)
            : fmt::format("an earlier record in this object has the same key ({} {:?}) with "
                          "different content",
                          rules.partition_key.attribute, verdict.partition_key)});
    verdict_ = &rejected_;
  }
  if (verdict_->valid) {
    ++tally_.valid;
    return Disposition::write;
  }
  ++tally_.rejected;
  std::array<bool, kReasonCodeCount> counted{};
  for (const Reason& reason : verdict_->reasons) {
    const auto index = static_cast<std::size_t>(reason.code);
    if (!counted[index]) ++tally_.by_reason[index];
    counted[index] = true;
  }
  return Disposition::reject;
}

}  // namespace salesflow::core
