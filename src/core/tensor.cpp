#include "core/tensor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <span>

namespace glyph {

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
  }
  return "?";
}

Tensor::Tensor(void* data, DType dtype, std::initializer_list<int64_t> dims)
    : data(data), dtype(dtype), rank(static_cast<int>(dims.size())) {
  GLYPH_CHECK(dims.size() <= kMaxRank, "rank {} exceeds {}", dims.size(), kMaxRank);
  size_t axis = 0;
  for (int64_t dim : dims) shape[axis++] = dim;
}

int64_t Tensor::numel() const {
  int64_t count = 1;
  for (int axis = 0; axis < rank; ++axis) count *= shape[static_cast<size_t>(axis)];
  return count;
}

bool Tensor::same_shape(std::initializer_list<int64_t> dims) const {
  if (static_cast<int>(dims.size()) != rank) return false;
  size_t axis = 0;
  for (int64_t dim : dims) {
    if (shape[axis++] != dim) return false;
  }
  return true;
}

std::string Tensor::shape_string() const {
  return fmt::format("[{}]", fmt::join(std::span(shape.data(), static_cast<size_t>(rank)), ", "));
}

}  // namespace glyph
