#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace glyph {

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    throw_error(error == ENOENT ? ErrorKind::kNotFound : ErrorKind::kInternal,
                "cannot open {}: {}", path.string(), std::strerror(error));
  }

  struct stat info {};
  if (fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    throw_error(ErrorKind::kInternal, "cannot read the size of {}: {}", path.string(),
                std::strerror(error));
  }
  size_ = static_cast<size_t>(info.st_size);

  if (size_ > 0) {
    void* memory = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (memory == MAP_FAILED) {
      int error = errno;
      ::close(fd);
      throw_error(ErrorKind::kInternal, "cannot map {} ({} bytes): {}", path.string(), size_,
                  std::strerror(error));
    }
    data_ = static_cast<const uint8_t*>(memory);
  }
  ::close(fd);  // The mapping keeps the file alive.
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void MappedFile::release() {
  if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace glyph
