// The duplicate tracker beyond its memory budget: exact answers across the
// spill boundary and across merged runs (against a map that holds every key),
// memory within the budget, and every way its scratch files can fail.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unordered_map>

#include "base/scratch_file.hpp"
#include "core/detail/duplicate_tracker.hpp"

namespace salesflow::core {
namespace {

using Seen = DuplicateTracker::Seen;

// A fresh directory under the test's temporary directory.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    std::string pattern = ::testing::TempDir() + "dedup-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp: " << errno;
    path_ = pattern;
  }
  ~ScratchDirectory() {
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all);
    std::filesystem::remove_all(path_);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

DuplicateTrackingOptions budget_in(std::size_t bytes, const std::string& directory) {
  return DuplicateTrackingOptions{bytes, std::make_shared<base::TempDirectory>(directory)};
}

// What the tracker must answer, from a map of every key claimed to the record
// that claimed it.
class Oracle {
 public:
  Seen observe(const std::string& key, const std::string& record) {
    const std::string identity = key.empty() ? "\x01" + record : "\x02" + key;
    const auto [at, inserted] = claimed_.try_emplace(identity, record);
    if (inserted) return Seen::first;
    return at->second == record ? Seen::same_record : Seen::same_key_different_record;
  }

 private:
  std::unordered_map<std::string, std::string> claimed_;
};

// Random records from a small key space with repeats, clashes, keys without
// a key and long keys, through a tracker and the oracle; every answer equal.
void compare_with_oracle(DuplicateTracker& tracker, int records, unsigned seed) {
  Oracle oracle;
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> key_of(0, records / 2);
  std::uniform_int_distribution<int> version_of(0, 3);  // 4 texts per key: repeats and clashes
  std::uniform_int_distribution<int> kind_of(0, 9);
  for (int i = 0; i < records; ++i) {
    const int key_number = key_of(random);
    const int kind = kind_of(random);
    std::string key = kind == 0   ? std::string()
                      : kind == 1 ? fmt::format("a-long-order-identifier-{:012}", key_number)
                                  : fmt::format("ORD-{:08}", key_number);
    const std::string record =
        fmt::format("{{\"id\":\"{}\",\"v\":{}}}", key_number, version_of(random));
    const auto answer = tracker.observe(key, record);
    ASSERT_TRUE(answer) << answer.error().to_string();
    ASSERT_EQ(*answer, oracle.observe(key, record)) << "record " << i << " key " << key;
  }
}

TEST(DuplicateTrackerSpill, ExactAcrossSpillsAndMerges) {
  ScratchDirectory directory;
  // 4 KiB: a table of 64 entries, spilled every 48 first occurrences.
  DuplicateTracker tracker(budget_in(4096, directory.path()));
  compare_with_oracle(tracker, 60000, 1);
  EXPECT_GT(tracker.spilled_records(), 20000u);
  EXPECT_GE(tracker.spilled_runs(), 1u);
  // Each run holds more than all newer ones together: at most log2 of the spills + 1.
  EXPECT_LE(tracker.spilled_runs(), 12u);
}

TEST(DuplicateTrackerSpill, ExactWithManySeeds) {
  for (unsigned seed = 2; seed < 12; ++seed) {
    ScratchDirectory directory;
    DuplicateTracker tracker(budget_in(2048 + seed * 1024, directory.path()));
    compare_with_oracle(tracker, 8000, seed);
  }
}

// Every first occurrence, then every one repeated and clashed: each lookup
// must find its key in whichever run (or the table) holds it.
TEST(DuplicateTrackerSpill, EveryKeyFoundAfterSpilling) {
  ScratchDirectory directory;
  DuplicateTracker tracker(budget_in(16384, directory.path()));
  constexpr int kRecords = 50000;
  for (int i = 0; i < kRecords; ++i)
    ASSERT_EQ(tracker.observe(fmt::format("K{}", i), fmt::format("record {}", i)), Seen::first);
  EXPECT_GT(tracker.spilled_runs(), 0u);
  EXPECT_EQ(tracker.records_seen(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(tracker.observe(fmt::format("K{}", i), fmt::format("record {}", i)),
              Seen::same_record)
        << i;
    ASSERT_EQ(tracker.observe(fmt::format("K{}", i), "other"), Seen::same_key_different_record)
        << i;
  }
  EXPECT_EQ(tracker.records_seen(), static_cast<std::size_t>(kRecords));
}

TEST(DuplicateTrackerSpill, MemoryStaysWithinTheBudget) {
  ScratchDirectory directory;
  constexpr std::size_t kBudget = std::size_t{1} << 20;
  DuplicateTracker tracker(budget_in(kBudget, directory.path()));
  std::size_t most = 0;
  for (int i = 0; i < 400000; ++i) {
    ASSERT_EQ(tracker.observe(fmt::format("{}", i), fmt::format("r{}", i)), Seen::first);
    most = std::max(most, tracker.memory_bytes());
  }
  EXPECT_GT(tracker.spilled_runs(), 0u);
  EXPECT_LE(most, kBudget);
}

TEST(DuplicateTrackerSpill, NoBudgetNeverSpills) {
  DuplicateTracker tracker;  // no scratch space at all
  for (int i = 0; i < 100000; ++i)
    ASSERT_EQ(tracker.observe(fmt::format("{}", i), "r"), Seen::first);
  EXPECT_EQ(tracker.spilled_runs(), 0u);
}

// Runs until the first error; checks that it came where expected and that
// every later call answers the same error.
base::FileError first_error(DuplicateTracker& tracker, int records) {
  for (int i = 0; i < records; ++i) {
    const auto answer = tracker.observe(fmt::format("{}", i), fmt::format("r{}", i));
    if (!answer) {
      const auto again = tracker.observe("another", "record");
      EXPECT_FALSE(again);
      if (!again) {
        EXPECT_EQ(again.error().to_string(), answer.error().to_string());
      }
      return answer.error().cause;
    }
  }
  ADD_FAILURE() << "no error in " << records << " records";
  return {};
}

TEST(DuplicateTrackerSpill, AMissingDirectoryFailsTheSpill) {
  ScratchDirectory directory;
  DuplicateTracker tracker(budget_in(4096, directory.path() + "/missing"));
  const base::FileError error = first_error(tracker, 1000);
  EXPECT_EQ(error.operation, base::FileError::Operation::create);
  EXPECT_EQ(error.error_number, ENOENT);
  EXPECT_EQ(error.where, directory.path() + "/missing");
}

TEST(DuplicateTrackerSpill, ADirectoryThatIsAFileFailsTheSpill) {
  ScratchDirectory directory;
  const std::string file = directory.path() + "/plain";
  std::ofstream(file) << "x";
  DuplicateTracker tracker(budget_in(4096, file));
  const base::FileError error = first_error(tracker, 1000);
  EXPECT_EQ(error.operation, base::FileError::Operation::create);
  EXPECT_EQ(error.error_number, ENOTDIR);
}

TEST(DuplicateTrackerSpill, AnUnwritableDirectoryFailsTheSpill) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into any directory";
  ScratchDirectory directory;
  std::filesystem::permissions(
      directory.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  DuplicateTracker tracker(budget_in(4096, directory.path()));
  const base::FileError error = first_error(tracker, 1000);
  EXPECT_EQ(error.operation, base::FileError::Operation::create);
  EXPECT_EQ(error.error_number, EACCES);
}

TEST(DuplicateTrackerSpill, ABudgetWithoutScratchSpaceFailsTheSpill) {
  DuplicateTracker tracker(DuplicateTrackingOptions{4096, nullptr});
  const base::FileError error = first_error(tracker, 1000);
  EXPECT_EQ(error.operation, base::FileError::Operation::create);
}

// Scratch files in memory that fail on purpose: writes after `write_limit`
// bytes in all (ENOSPC, a full disk), reads after `read_limit` reads (EIO).
class FailingSpace final : public base::ScratchSpace {
 public:
  FailingSpace(std::size_t write_limit, std::size_t read_limit)
      : write_left_(write_limit), reads_left_(read_limit) {}

  tl::expected<std::unique_ptr<base::ScratchFile>, base::FileError> create() override {
    return std::make_unique<File>(*this);
  }

 private:
  class File final : public base::ScratchFile {
   public:
    explicit File(FailingSpace& space) : space_(space) {}
    tl::expected<void, base::FileError> append(std::span<const std::byte> bytes) override {
      if (bytes.size() > space_.write_left_) {
        return tl::make_unexpected(
            base::FileError{base::FileError::Operation::write, ENOSPC, "memory"});
      }
      space_.write_left_ -= bytes.size();
      data_.insert(data_.end(), bytes.begin(), bytes.end());
      return {};
    }
    tl::expected<void, base::FileError> read_at(std::uint64_t offset,
                                                std::span<std::byte> into) override {
      if (space_.reads_left_ == 0 || offset + into.size() > data_.size()) {
        return tl::make_unexpected(
            base::FileError{base::FileError::Operation::read, EIO, "memory"});
      }
      --space_.reads_left_;
      std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(offset), into.size(), into.begin());
      return {};
    }
    std::uint64_t size() const override { return data_.size(); }

   private:
    FailingSpace& space_;
    std::vector<std::byte> data_;
  };

  std::size_t write_left_;
  std::size_t reads_left_;
};

TEST(DuplicateTrackerSpill, AFullDiskFailsTheSpill) {
  DuplicateTracker tracker(
      DuplicateTrackingOptions{4096, std::make_shared<FailingSpace>(100 * 32, SIZE_MAX)});
  const base::FileError error = first_error(tracker, 10000);
  EXPECT_EQ(error.operation, base::FileError::Operation::write);
  EXPECT_EQ(error.error_number, ENOSPC);
}

TEST(DuplicateTrackerSpill, AReadErrorFailsTheLookup) {
  DuplicateTracker tracker(
      DuplicateTrackingOptions{4096, std::make_shared<FailingSpace>(SIZE_MAX, 0)});
  // Fill past one spill, then look up a spilled key: it passes the filter, so
  // the run is read, and the read fails.
  for (int i = 0; i < 48; ++i)
    ASSERT_EQ(tracker.observe(fmt::format("{}", i), fmt::format("r{}", i)), Seen::first);
  ASSERT_EQ(tracker.observe("48", "r48"), Seen::first);  // spills the first 48
  ASSERT_EQ(tracker.spilled_runs(), 1u);
  const auto answer = tracker.observe("0", "r0");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().cause.operation, base::FileError::Operation::read);
  EXPECT_EQ(answer.error().cause.error_number, EIO);
  EXPECT_EQ(answer.error().to_string(),
            "duplicate tracking: reading a scratch file in memory: Input/output error");
  EXPECT_FALSE(tracker.observe("1", "r1"));
}

TEST(DuplicateTrackerSpill, AReadErrorDuringAMergeFailsTheSpill) {
  // Reads only happen in merges here (distinct keys rarely pass the filter,
  // and the first read fails): the second spill merges two runs.
  DuplicateTracker tracker(
      DuplicateTrackingOptions{4096, std::make_shared<FailingSpace>(SIZE_MAX, 0)});
  const base::FileError error = first_error(tracker, 10000);
  EXPECT_EQ(error.operation, base::FileError::Operation::read);
}

}  // namespace
}  // namespace salesflow::core
