#pragma once
// Scratch files: anonymous temporary files for data that does not fit in
// memory (the duplicate tracker's spilled runs). A scratch file has no name
// once created (O_TMPFILE, or a name unlinked at once), so it is never left
// behind, whatever way the process ends; closing it frees its blocks.
//
// ScratchSpace and ScratchFile are interfaces so that a caller (and its
// tests) can be given another store, e.g. one that fails on purpose; the one
// implementation for real use is TempDirectory.
//
// Errors are values (FileError: what failed, errno, the directory); nothing
// throws. Writes go through to the kernel (page cache) at once: no user-space
// buffer lives in here, the caller batches its own writes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <tl/expected.hpp>

namespace salesflow::base {

struct [[nodiscard]] FileError {
  enum class Operation {
    create,  // the scratch file could not be made (a missing or unwritable directory)
    write,   // a write failed or stopped short (ENOSPC: the disk is full)
    read,    // a read failed or came back short (EIO, or reading past the end)
  };
  Operation operation = Operation::create;
  int error_number = 0;  // errno; 0 when the call did not set it (a short read)
  std::string where;     // the directory of the file

  // "writing a scratch file in /tmp: No space left on device" (one line).
  [[nodiscard]] std::string to_string() const;
};

// One anonymous file, written by appending and read at any offset.
class ScratchFile {
 public:
  virtual ~ScratchFile() = default;
  ScratchFile() = default;
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  // Appends all of `bytes` at the end. Cost: write(2) calls until done (EINTR
  // retried). A short write that makes no progress is an error (ENOSPC).
  [[nodiscard]] virtual tl::expected<void, FileError> append(std::span<const std::byte> bytes) = 0;
  // Fills `into` from `offset`. Cost: pread(2) calls until done; an end of
  // file before `into` is full is an error (error_number 0).
  [[nodiscard]] virtual tl::expected<void, FileError> read_at(std::uint64_t offset,
                                                              std::span<std::byte> into) = 0;
  // Bytes appended so far.
  [[nodiscard]] virtual std::uint64_t size() const = 0;
};

// Makes scratch files.
class ScratchSpace {
 public:
  virtual ~ScratchSpace() = default;
  ScratchSpace() = default;
  ScratchSpace(const ScratchSpace&) = delete;
  ScratchSpace& operator=(const ScratchSpace&) = delete;

  // A new empty file. Cost: one open(2) (and an unlink(2) when the file
  // system has no O_TMPFILE).
  [[nodiscard]] virtual tl::expected<std::unique_ptr<ScratchFile>, FileError> create() = 0;
};

// Scratch files in one directory of the local file system ($TMPDIR, /tmp).
// Nothing is opened until create(): an unwritable directory shows there.
class TempDirectory final : public ScratchSpace {
 public:
  explicit TempDirectory(std::string directory) : directory_(std::move(directory)) {}
  [[nodiscard]] tl::expected<std::unique_ptr<ScratchFile>, FileError> create() override;
  [[nodiscard]] const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
};

}  // namespace salesflow::base
