#include "ops/vision_ops.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace glyph::ops {

namespace {

// As in ops.cpp: below this many operations an op runs on the calling thread.
constexpr int64_t kMinParallelWork = 32 * 1024;

// Query rows per attention work item: each block of 16 keys and values is loaded once for all
// of them, and a 1024-patch image still splits into 16 items per head.
constexpr int64_t kQueryRowsPerItem = 64;

// The cubic convolution weights of the four taps around a sample that lies a fraction t past
// the second tap, with A = -0.75 as PyTorch's bicubic grid_sample uses.
std::array<float, 4> cubic_weights(float t) {
  constexpr float a = -0.75f;
  auto near = [](float x) { return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f; };  // |x| <= 1
  auto far = [](float x) { return ((a * x - 5.0f * a) * x + 8.0f * a) * x - 4.0f * a; };  // 1-2
  return {far(t + 1.0f), near(t), near(1.0f - t), far(2.0f - t)};
}

// The four tap indices around an unnormalized coordinate, clamped to [0, side - 1] as
// padding_mode "border" does, and their weights.
struct Taps {
  std::array<int64_t, 4> index;
  std::array<float, 4> weight;
};

// The taps of output cell `cell` of `cells` along one axis of a table `side` cells long.
// transformers normalizes the cell centre in float32 to ((cell + 0.5) / cells) * 2 - 1, and
// grid_sample with align_corners false maps x back to table cells as ((x + 1) * side - 1) / 2.
Taps taps_for(int64_t cell, int64_t cells, int64_t side) {
  const float normalized =
      ((static_cast<float>(cell) + 0.5f) / static_cast<float>(cells)) * 2.0f - 1.0f;
  const float coordinate = ((normalized + 1.0f) * static_cast<float>(side) - 1.0f) / 2.0f;
  const float floor = std::floor(coordinate);
  Taps taps;
  taps.weight = cubic_weights(coordinate - floor);
  for (int64_t i = 0; i < 4; ++i) {
    const auto index = static_cast<int64_t>(floor) - 1 + i;
    taps.index[static_cast<size_t>(i)] = std::clamp<int64_t>(index, 0, side - 1);
  }
  return taps;
}

}  // namespace

void layer_norm(Context& context, const float* x, int64_t rows, const Tensor& weight,
                const Tensor& bias, float eps, float* y) {
  const int64_t width = weight.dim(0);
  GLYPH_CHECK(bias.numel() == width, "layer norm bias has {} values for width {}", bias.numel(),
              width);
  const float* gain = weight.as<float>();
  const float* shift = bias.as<float>();
  auto normalize = [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* in = x + row * width;
      float* out = y + row * width;
      float sum = 0.0f;
      for (int64_t i = 0; i < width; ++i) sum += in[i];
      const float mean = sum / static_cast<float>(width);
      float sum_squares = 0.0f;
      for (int64_t i = 0; i < width; ++i) sum_squares += (in[i] - mean) * (in[i] - mean);
      const float inverse_std = 1.0f / std::sqrt(sum_squares / static_cast<float>(width) + eps);
      for (int64_t i = 0; i < width; ++i)
        out[i] = (in[i] - mean) * inverse_std * gain[i] + shift[i];
    }
  };
  context.pool().parallel_for(rows, std::max<int64_t>(1, kMinParallelWork / width), normalize);
}

void gelu_erf(Context& context, float* x, int64_t count) {
  const float inverse_sqrt2 = 1.0f / std::sqrt(2.0f);
  context.pool().parallel_for(count, kMinParallelWork / 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * inverse_sqrt2));
  });
}

void apply_rope_rotate_half(Context& context, float* x, int64_t tokens, int64_t row_stride,
                            int64_t heads, int64_t head_dim, const float* cos, const float* sin) {
  const int64_t half = head_dim / 2;
  auto rotate = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const float* c = cos + t * half;
      const float* s = sin + t * half;
      for (int64_t h = 0; h < heads; ++h) {
        float* first = x + t * row_stride + h * head_dim;
        float* second = first + half;
        for (int64_t i = 0; i < half; ++i) {
          const float x1 = first[i];
          const float x2 = second[i];
          first[i] = x1 * c[i] - x2 * s[i];
          second[i] = x2 * c[i] + x1 * s[i];
        }
      }
    }
  };
  context.pool().parallel_for(tokens, std::max<int64_t>(1, 8192 / (heads * head_dim)), rotate);
}

// The CPU attention kernel attends `group` query rows, spaced head_dim apart, to the cache
// positions [0, first_position + tokens). One tile per run of query rows of one head, with
// tokens 1 and first_position = image tokens - 1, therefore attends each row to every patch,
// given that head's keys and values as one contiguous page. Such rows are head-major, so q, k
// and v are copied to [heads, tokens, head_dim] first and the output is copied back.
void bidirectional_attention(Context& context, const float* q, const float* k, const float* v,
                             int64_t qkv_stride, int64_t tokens, int64_t heads, int64_t head_dim,
                             float scale, float* out) {
  const int64_t plane = tokens * head_dim;  // One head's rows.
  std::vector<float> head_major(static_cast<size_t>(4 * heads * plane));
  float* q_heads = head_major.data();
  float* k_heads = q_heads + heads * plane;
  float* v_heads = k_heads + heads * plane;
  float* out_heads = v_heads + heads * plane;

  const int64_t copy_rows = std::max<int64_t>(1, kMinParallelWork / (heads * head_dim));
  context.pool().parallel_for(tokens, copy_rows, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t from = t * qkv_stride + h * head_dim;
        const int64_t to = h * plane + t * head_dim;
        std::copy_n(q + from, head_dim, q_heads + to);
        std::copy_n(k + from, head_dim, k_heads + to);
        std::copy_n(v + from, head_dim, v_heads + to);
      }
    }
  });

  const int32_t only_page = 0;
  const int64_t items_per_head = (tokens + kQueryRowsPerItem - 1) / kQueryRowsPerItem;
  const cpu::Kernels& kernels = context.kernels();
  context.pool().run(heads * items_per_head, [&](int64_t item) {
    const int64_t head = item / items_per_head;
    const int64_t first_row = (item % items_per_head) * kQueryRowsPerItem;
    const int64_t rows = std::min(kQueryRowsPerItem, tokens - first_row);

    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(cpu::attention_scratch_size(rows, head_dim)));

    cpu::AttentionTile tile;
    tile.q = q_heads + head * plane + first_row * head_dim;
    tile.q_stride = 0;  // One token per tile.
    tile.out = out_heads + head * plane + first_row * head_dim;
    tile.out_stride = 0;
    tile.tokens = 1;
    tile.group = rows;
    tile.head_dim = head_dim;
    tile.first_position = tokens - 1;
    tile.scale = scale;
    tile.k = k_heads;
    tile.v = v_heads;
    tile.bf16 = false;
    tile.pages = &only_page;
    tile.page_size = tokens;
    tile.page_stride = 0;
    tile.head_offset = head * plane;
    tile.scratch = scratch.data();
    kernels.attention(tile);
  });

  context.pool().parallel_for(tokens, copy_rows, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      for (int64_t h = 0; h < heads; ++h) {
        std::copy_n(out_heads + h * plane + t * head_dim, head_dim,
                    out + (t * heads + h) * head_dim);
      }
    }
  });
}

void resample_bicubic(Context& context, const Tensor& table, int64_t grid_h, int64_t grid_w,
                      std::span<const int32_t> h, std::span<const int32_t> w, float* out) {
  const int64_t width = table.dim(1);
  const auto side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(table.dim(0)))));
  GLYPH_CHECK(side * side == table.dim(0), "position table of {} rows is not square", table.dim(0));
  GLYPH_CHECK(h.size() == w.size(), "{} row ids for {} column ids", h.size(), w.size());
  const float* values = table.as<float>();

  std::vector<Taps> row_taps;
  std::vector<Taps> column_taps;
  for (int64_t row = 0; row < grid_h; ++row) row_taps.push_back(taps_for(row, grid_h, side));
  for (int64_t column = 0; column < grid_w; ++column) {
    column_taps.push_back(taps_for(column, grid_w, side));
  }

  auto sample = [&](int64_t begin, int64_t end) {
    std::vector<float> along_x(static_cast<size_t>(width));
    for (int64_t patch = begin; patch < end; ++patch) {
      const auto row = static_cast<size_t>(h[static_cast<size_t>(patch)]);
      const auto column = static_cast<size_t>(w[static_cast<size_t>(patch)]);
      GLYPH_CHECK(row < row_taps.size() && column < column_taps.size(),
                  "patch ({}, {}) outside the {}x{} grid", row, column, grid_h, grid_w);
      const Taps& y = row_taps[row];
      const Taps& x = column_taps[column];
      float* result = out + patch * width;
      std::fill_n(result, width, 0.0f);
      // Interpolate each of the four table rows along x, then those four results along y.
      for (size_t i = 0; i < 4; ++i) {
        const float* taps[4];
        for (size_t j = 0; j < 4; ++j) taps[j] = values + (y.index[i] * side + x.index[j]) * width;
        for (int64_t c = 0; c < width; ++c) {
          along_x[static_cast<size_t>(c)] = x.weight[0] * taps[0][c] + x.weight[1] * taps[1][c] +
                                            x.weight[2] * taps[2][c] + x.weight[3] * taps[3][c];
        }
        for (int64_t c = 0; c < width; ++c)
          result[c] += y.weight[i] * along_x[static_cast<size_t>(c)];
      }
    }
  };
  const auto patches = static_cast<int64_t>(h.size());
  context.pool().parallel_for(patches, std::max<int64_t>(1, kMinParallelWork / (32 * width)),
                              sample);
}

}  // namespace glyph::ops
