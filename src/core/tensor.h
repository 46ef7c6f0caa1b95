// Element types and a non-owning view of a dense, row-major tensor.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/bf16.h"
#include "core/error.h"

namespace glyph {

enum class DType { kF32, kF16, kBF16 };

constexpr size_t dtype_size(DType dtype) { return dtype == DType::kF32 ? 4 : 2; }

// The safetensors spelling: F32, F16, BF16.
std::string_view dtype_name(DType dtype);

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::kF32; }
template <>
constexpr DType dtype_of<f16>() { return DType::kF16; }
template <>
constexpr DType dtype_of<bf16>() { return DType::kBF16; }

// A view of memory someone else owns (a mapped file, a HostBuffer). Row-major and contiguous:
// the last dimension varies fastest.
struct Tensor {
  static constexpr int kMaxRank = 6;

  void* data = nullptr;
  DType dtype = DType::kF32;
  int rank = 0;
  std::array<int64_t, kMaxRank> shape{};

  Tensor() = default;
  Tensor(void* data, DType dtype, std::initializer_list<int64_t> dims);

  bool empty() const { return data == nullptr; }
  int64_t dim(int axis) const { return shape[static_cast<size_t>(axis)]; }
  int64_t numel() const;
  size_t bytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
  bool same_shape(std::initializer_list<int64_t> dims) const;

  // "[151552, 4096]", for messages.
  std::string shape_string() const;

  template <typename T>
  T* as() const {
    GLYPH_CHECK(dtype == dtype_of<T>(), "tensor holds {}, not {}", dtype_name(dtype),
                dtype_name(dtype_of<T>()));
    return static_cast<T*>(data);
  }
};

}  // namespace glyph
