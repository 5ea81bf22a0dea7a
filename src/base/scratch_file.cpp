#include "base/scratch_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace salesflow::base {
namespace {

// Owns one file descriptor; closes it once.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

class TempFile final : public ScratchFile {
 public:
  TempFile(int fd, std::string directory) : fd_(fd), directory_(std::move(directory)) {}

  tl::expected<void, FileError> append(std::span<const std::byte> bytes) override {
    while (!bytes.empty()) {
      const ssize_t put =
          ::pwrite(fd_.get(), bytes.data(), bytes.size(), static_cast<off_t>(size_));
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) {
        return tl::make_unexpected(
            FileError{FileError::Operation::write, put < 0 ? errno : ENOSPC, directory_});
      }
      size_ += static_cast<std::uint64_t>(put);
      bytes = bytes.subspan(static_cast<std::size_t>(put));
    }
    return {};
  }

  tl::expected<void, FileError> read_at(std::uint64_t offset, std::span<std::byte> into) override {
    while (!into.empty()) {
      const ssize_t got = ::pread(fd_.get(), into.data(), into.size(), static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        return tl::make_unexpected(
            FileError{FileError::Operation::read, got < 0 ? errno : 0, directory_});
      }
      offset += static_cast<std::uint64_t>(got);
      into = into.subspan(static_cast<std::size_t>(got));
    }
    return {};
  }

  std::uint64_t size() const override { return size_; }

 private:
  Descriptor fd_;
  std::string directory_;
  std::uint64_t size_ = 0;
};

}  // namespace

std::string FileError::to_string() const {
  std::string text;
  switch (operation) {
    case Operation::create:
      text = "creating a scratch file in ";
      break;
    case Operation::write:
      text = "writing a scratch file in ";
      break;
    case Operation::read:
      text = "reading a scratch file in ";
      break;
  }
  text += where;
  text += ": ";
  text += error_number != 0 ? std::strerror(error_number) : "unexpected end of file";
  return text;
}

tl::expected<std::unique_ptr<ScratchFile>, FileError> TempDirectory::create() {
  // O_TMPFILE: a file with no name at all. Not every file system has it
  // (EOPNOTSUPP, EISDIR on old kernels); then a unique name, unlinked at once.
  int fd = ::open(directory_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string name = directory_ + "/salesflow-scratch-XXXXXX";
    std::vector<char> path(name.begin(), name.end());
    path.push_back('\0');
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(path.data());
  }
  if (fd < 0) {
    return tl::make_unexpected(FileError{FileError::Operation::create, errno, directory_});
  }
  return std::make_unique<TempFile>(fd, directory_);
}

}  // namespace salesflow::base
