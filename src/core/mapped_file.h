// A file mapped read-only into memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace glyph {

class MappedFile {
 public:
  // Maps the whole file. Throws glyph::Error(kNotFound) when it does not exist and
  // glyph::Error(kInternal) when it cannot be opened or mapped; messages name the path.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  void release();

  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;  // Null for an empty file.
  size_t size_ = 0;
};

}  // namespace glyph
