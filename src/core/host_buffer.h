// Owned, zero-initialised, 64-byte-aligned host memory.
#pragma once

#include <cstddef>
#include <span>

namespace glyph {

// Large buffers are anonymous memory mappings, so pages the program never touches cost no RAM
// and a 20 GB weight buffer is reserved instantly. Small ones come from the heap.
class HostBuffer {
 public:
  HostBuffer() = default;
  explicit HostBuffer(size_t bytes);
  ~HostBuffer();
  HostBuffer(HostBuffer&& other) noexcept;
  HostBuffer& operator=(HostBuffer&& other) noexcept;
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }

  template <typename T>
  std::span<T> as() const {
    return {static_cast<T*>(data_), size_ / sizeof(T)};
  }

 private:
  void release();

  void* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace glyph
