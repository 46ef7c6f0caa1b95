// resize_bicubic: Pillow's separable resampling of 8-bit images with the
// bicubic filter, reproduced from its documented behaviour (Pillow 13,
// Image.resize with reducing_gap=None):
//  - each pass maps output pixel i to the input centre (i + 0.5) * scale,
//    scale = input size / output size, and weights the input pixels within
//    support = 2 * max(scale, 1) of it with the cubic kernel (a = -0.5)
//    stretched by max(scale, 1), normalised to sum to 1;
//  - the weights become fixed point with 22 fraction bits, rounded half away
//    from zero, and each output is (sum + 2^21) >> 22 clamped to 0..255;
//  - the horizontal pass runs first and its 8-bit result feeds the vertical
//    pass; a pass whose size does not change is skipped.

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "vision/image_processor.h"

namespace glyph::vision {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr double kCubicA = -0.5;
constexpr double kCubicSupport = 2.0;

double cubic_kernel(double x) {
  x = std::abs(x);
  if (x < 1.0) {
    return ((kCubicA + 2.0) * x - (kCubicA + 3.0)) * x * x + 1.0;
  }
  if (x < 2.0) {
    return (((x - 5.0) * x + 8.0) * x - 4.0) * kCubicA;
  }
  return 0.0;
}

// The input span and fixed-point weights of each output pixel of one pass.
struct PassWeights {
  int taps = 0;                // Weights stored per output pixel.
  std::vector<int> first;      // [out_size] first input index.
  std::vector<int> count;      // [out_size] inputs used, at most taps.
  std::vector<int32_t> fixed;  // [out_size, taps]
};

PassWeights compute_weights(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = kCubicSupport * filter_scale;
  const double inverse_filter_scale = 1.0 / filter_scale;

  PassWeights weights;
  weights.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  weights.first.resize(out_size);
  weights.count.resize(out_size);
  weights.fixed.assign(static_cast<size_t>(out_size) * weights.taps, 0);
  std::vector<double> k(weights.taps);
  for (int out = 0; out < out_size; ++out) {
    const double center = (out + 0.5) * scale;
    // Truncation toward zero, then clamping, as Pillow's int casts do.
    const int first = std::max(static_cast<int>(center - support + 0.5), 0);
    const int last = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int count = last - first;
    double total = 0.0;
    for (int i = 0; i < count; ++i) {
      k[i] = cubic_kernel((i + first - center + 0.5) * inverse_filter_scale);
      total += k[i];
    }
    int32_t* fixed = weights.fixed.data() + static_cast<size_t>(out) * weights.taps;
    for (int i = 0; i < count; ++i) {
      const double normalised = total != 0.0 ? k[i] / total : k[i];
      const double scaled = normalised * (1 << kPrecisionBits);
      fixed[i] = static_cast<int32_t>(scaled < 0.0 ? scaled - 0.5 : scaled + 0.5);
    }
    weights.first[out] = first;
    weights.count[out] = count;
  }
  return weights;
}

uint8_t round_and_clamp(int32_t sum) {
  // Arithmetic shift: a negative sum becomes a negative value, clamped to 0.
  return static_cast<uint8_t>(std::clamp(sum >> kPrecisionBits, 0, 255));
}

// [height, in_width, 3] -> [height, out_width, 3]
std::vector<uint8_t> resample_rows(const std::vector<uint8_t>& in, int in_width, int height,
                                   int out_width) {
  const PassWeights weights = compute_weights(in_width, out_width);
  std::vector<uint8_t> out(static_cast<size_t>(out_width) * height * 3);
  for (int y = 0; y < height; ++y) {
    const uint8_t* in_row = in.data() + static_cast<size_t>(y) * in_width * 3;
    uint8_t* out_row = out.data() + static_cast<size_t>(y) * out_width * 3;
    for (int x = 0; x < out_width; ++x) {
      const int32_t* k = weights.fixed.data() + static_cast<size_t>(x) * weights.taps;
      const uint8_t* source = in_row + static_cast<size_t>(weights.first[x]) * 3;
      for (int c = 0; c < 3; ++c) {
        int32_t sum = 1 << (kPrecisionBits - 1);
        for (int i = 0; i < weights.count[x]; ++i) {
          sum += source[3 * i + c] * k[i];
        }
        out_row[3 * x + c] = round_and_clamp(sum);
      }
    }
  }
  return out;
}

// [in_height, width, 3] -> [out_height, width, 3]
std::vector<uint8_t> resample_columns(const std::vector<uint8_t>& in, int width, int in_height,
                                      int out_height) {
  const PassWeights weights = compute_weights(in_height, out_height);
  const size_t row_size = static_cast<size_t>(width) * 3;
  std::vector<uint8_t> out(row_size * out_height);
  for (int y = 0; y < out_height; ++y) {
    const int32_t* k = weights.fixed.data() + static_cast<size_t>(y) * weights.taps;
    const uint8_t* source = in.data() + static_cast<size_t>(weights.first[y]) * row_size;
    uint8_t* out_row = out.data() + static_cast<size_t>(y) * row_size;
    for (size_t value = 0; value < row_size; ++value) {
      int32_t sum = 1 << (kPrecisionBits - 1);
      for (int i = 0; i < weights.count[y]; ++i) {
        sum += source[i * row_size + value] * k[i];
      }
      out_row[value] = round_and_clamp(sum);
    }
  }
  return out;
}

}  // namespace

Image resize_bicubic(const Image& image, int32_t width, int32_t height) {
  if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3) {
    throw_error(ErrorKind::kInternal, "cannot resize a {}x{} image with {} RGB bytes to {}x{}",
                image.width, image.height, image.rgb.size(), width, height);
  }

  std::vector<uint8_t> pixels = image.rgb;
  if (width != image.width) {
    pixels = resample_rows(pixels, image.width, image.height, width);
  }
  if (height != image.height) {
    pixels = resample_columns(pixels, width, image.height, height);
  }
  return Image{.width = width, .height = height, .rgb = std::move(pixels)};
}

}  // namespace glyph::vision
