#include "ops/ops.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace glyph::ops {

namespace {

// Below this many multiply-adds an op runs on the calling thread: handing work to the pool
// costs a few microseconds, more than a small op takes.
constexpr int64_t kMinParallelWork = 32 * 1024;

// Rounds x to BF16 in the layout the context's linear_bf16 kernel reads, into the context's
// scratch; null when that kernel reads FP32.
const bf16* round_activations(Context& context, const float* x, int64_t rows, int64_t x_stride,
                              int64_t in) {
  const cpu::Kernels& kernels = context.kernels();
  std::vector<bf16>& scratch = context.bf16_scratch();
  switch (kernels.linear_bf16_input) {
    case cpu::Bf16Activations::kFloat:
      return nullptr;
    case cpu::Bf16Activations::kRows:
      scratch.resize(static_cast<size_t>(rows * in));
      for (int64_t row = 0; row < rows; ++row) {
        kernels.round_to_bf16(x + row * x_stride, scratch.data() + row * in, in);
      }
      return scratch.data();
    case cpu::Bf16Activations::kTokenTiles: {
      scratch.resize(static_cast<size_t>(cpu::token_tiles_size(rows, in)));
      const int64_t groups = (rows + cpu::kTileTokens - 1) / cpu::kTileTokens;
      const int64_t work_per_group = cpu::kTileTokens * in * 16;  // About 16 operations a value.
      context.pool().parallel_for(groups, std::max<int64_t>(1, kMinParallelWork / work_per_group),
                                  [&](int64_t begin, int64_t end) {
                                    kernels.pack_token_tiles(x, x_stride, rows, in, begin, end,
                                                             scratch.data());
                                  });
      return scratch.data();
    }
  }
  return nullptr;
}

}  // namespace

void embedding(Context& context, const Tensor& table, std::span<const int32_t> ids, float* out) {
  const int64_t vocab = table.dim(0);
  const int64_t width = table.dim(1);
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab) {
      throw_error(ErrorKind::kInvalidRequest, "token id {} is outside the vocabulary [0, {})", id,
                  vocab);
    }
  }
  auto gather = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t offset = static_cast<int64_t>(ids[static_cast<size_t>(t)]) * width;
      float* row = out + t * width;
      switch (table.dtype) {
        case DType::kF32:
          std::copy_n(table.as<float>() + offset, width, row);
          break;
        case DType::kBF16:
          convert(table.as<bf16>() + offset, row, static_cast<size_t>(width));
          break;
        case DType::kF16:
          convert(table.as<f16>() + offset, row, static_cast<size_t>(width));
          break;
      }
    }
  };
  const auto tokens = static_cast<int64_t>(ids.size());
  context.pool().parallel_for(tokens, std::max<int64_t>(1, kMinParallelWork / width), gather);
}

void rms_norm(Context& context, const float* x, int64_t rows, const Tensor& weight, float eps,
              float* y) {
  const int64_t width = weight.dim(0);
  const float* gain = weight.as<float>();
  auto normalize = [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* in = x + row * width;
      float* out = y + row * width;
      float sum_squares = 0.0f;
      for (int64_t i = 0; i < width; ++i) sum_squares += in[i] * in[i];
      const float inverse_rms = 1.0f / std::sqrt(sum_squares / static_cast<float>(width) + eps);
      for (int64_t i = 0; i < width; ++i) out[i] = in[i] * inverse_rms * gain[i];
    }
  };
  context.pool().parallel_for(rows, std::max<int64_t>(1, kMinParallelWork / width), normalize);
}

void linear(Context& context, const float* x, int64_t rows, int64_t x_stride,
            const Tensor& weight, const Tensor& bias, float* y, int64_t y_stride) {
  const int64_t out = weight.dim(0);
  const int64_t in = weight.dim(1);
  GLYPH_CHECK(bias.empty() || bias.numel() == out, "bias has {} values for {} outputs",
              bias.numel(), out);
  const cpu::Kernels& kernels = context.kernels();

  cpu::LinearArgs args;
  args.x = x;
  args.x_stride = x_stride;
  args.weight = weight.data;
  args.bias = bias.empty() ? nullptr : bias.as<float>();
  args.y = y;
  args.y_stride = y_stride;
  args.rows = rows;
  args.k = in;

  void (*kernel)(const cpu::LinearArgs&, int64_t, int64_t) = nullptr;
  if (weight.dtype == DType::kF32) {
    kernel = kernels.linear_f32;
  } else {
    GLYPH_CHECK(weight.dtype == DType::kBF16, "linear weights must be F32 or BF16, not {}",
                dtype_name(weight.dtype));
    kernel = kernels.linear_bf16;
    args.x_bf16 = round_activations(context, x, rows, x_stride, in);
  }

  // Split the output columns into blocks of whole kLinearColumnBlock units, about four per
  // thread so that uneven progress balances out.
  const int64_t work = rows * out * in;
  const int64_t threads = work < kMinParallelWork ? 1 : context.pool().size();
  const int64_t units = (out + cpu::kLinearColumnBlock - 1) / cpu::kLinearColumnBlock;
  const int64_t units_per_task = std::max<int64_t>(1, units / (threads * 4));
  const int64_t columns_per_task = units_per_task * cpu::kLinearColumnBlock;
  const int64_t tasks = (out + columns_per_task - 1) / columns_per_task;
  if (threads == 1) {
    kernel(args, 0, out);
    return;
  }
  context.pool().run(tasks, [&](int64_t task) {
    const int64_t begin = task * columns_per_task;
    kernel(args, begin, std::min(out, begin + columns_per_task));
  });
}

void silu_mul(Context& context, const float* gate_up, int64_t rows, int64_t width, float* out) {
  auto activate = [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* gate = gate_up + row * 2 * width;
      const float* up = gate + width;
      float* result = out + row * width;
      for (int64_t i = 0; i < width; ++i) {
        result[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
      }
    }
  };
  context.pool().parallel_for(rows, std::max<int64_t>(1, kMinParallelWork / width), activate);
}

void add(Context& context, float* y, const float* x, int64_t count) {
  context.pool().parallel_for(count, kMinParallelWork, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] += x[i];
  });
}

}  // namespace glyph::ops
