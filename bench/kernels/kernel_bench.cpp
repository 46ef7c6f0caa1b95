// Throughput of the CPU kernels through the ops the model calls, at Glyph's widths (hidden
// 4096, 32 query heads and 2 KV heads of 128, MLP 13696 with fused gate_up):
//   copy, read    memcpy and a plain read over all threads: the memory bandwidth to compare
//                 the GEMV figures with
//   gemv/*        decode at batch 1 over four layers' linear weights (1.7 GB, more than the
//                 last-level cache): weight bytes streamed per second
//   skinny16/*    the same weights with 16 rows, as for 16 decoding sequences
//   prefill512/*  a 512-token prompt chunk through one layer's four linear layers: GFLOP/s
//   attention_*   paged attention over a BF16 cache: 16 sequences decoding after 2047 cached
//                 positions, and a 512-token prefill
//   pool/run      the thread pool's cost per parallel op, with empty tasks
// The tokens/s counter is rows per second through the linear layers of a 40-layer model (the
// benchmark's layers scaled to 40), without attention and lm_head.
// Run: kernel_bench [--benchmark_filter=REGEX] [--benchmark_repetitions=N]. Timings on shared
// machines are noisy, so use repetitions and read the minimum and the median.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/kernels.h"
#include "core/host_buffer.h"
#include "core/thread_pool.h"
#include "ops/attention.h"
#include "ops/ops.h"

namespace glyph {
namespace {

constexpr int64_t kHidden = 4096;
constexpr int64_t kHeads = 32;
constexpr int64_t kKvHeads = 2;
constexpr int64_t kHeadDim = 128;
constexpr int64_t kIntermediate = 13696;

// GLYPH_BENCH_THREADS sets the thread count (default: one per hardware thread). With 1, the
// figures are per CPU second of the one thread instead of per wall-clock second, which makes
// comparisons between kernel versions steadier on a machine shared with other work.
int bench_threads() {
  const char* value = std::getenv("GLYPH_BENCH_THREADS");
  return value != nullptr ? std::atoi(value) : 0;
}

ThreadPool& pool() {
  static ThreadPool instance(bench_threads());
  return instance;
}

// Wall-clock time with several threads; CPU time of the only thread otherwise.
benchmark::internal::Benchmark* timed(benchmark::internal::Benchmark* benchmark) {
  benchmark->Unit(benchmark::kMillisecond);
  return bench_threads() == 1 ? benchmark : benchmark->UseRealTime();
}

// Fills memory with BF16 values in [-1/64, 1/64), without an RNG call per element.
void fill_bf16(bf16* data, size_t count, uint32_t seed) {
  pool().parallel_for(static_cast<int64_t>(count), 1 << 20, [&](int64_t begin, int64_t end) {
    uint32_t state = seed ^ static_cast<uint32_t>(begin * 2654435761u);
    for (int64_t i = begin; i < end; ++i) {
      state = state * 1664525u + 1013904223u;
      data[i] = to_bf16(static_cast<float>(static_cast<int32_t>(state) >> 8) * 0x1p-29f);
    }
  });
}

std::vector<float> random_floats(size_t count, uint32_t seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(count);
  for (float& value : values) value = normal(generator);
  return values;
}

// One decoder layer's linear weights in BF16: qkv, o_proj, gate_up, down.
struct LayerWeights {
  HostBuffer storage;
  std::vector<Tensor> matrices;
  size_t bytes = 0;
  double multiply_adds_per_token = 0;
};

LayerWeights make_layer(uint32_t seed) {
  const std::pair<int64_t, int64_t> shapes[] = {{(kHeads + 2 * kKvHeads) * kHeadDim, kHidden},
                                                {kHidden, kHeads * kHeadDim},
                                                {2 * kIntermediate, kHidden},
                                                {kHidden, kIntermediate}};
  LayerWeights layer;
  size_t elements = 0;
  for (auto [out, in] : shapes) elements += static_cast<size_t>(out * in);
  layer.storage = HostBuffer(elements * sizeof(bf16));
  auto* data = static_cast<bf16*>(layer.storage.data());
  fill_bf16(data, elements, seed);
  for (auto [out, in] : shapes) {
    layer.matrices.emplace_back(data, DType::kBF16, std::initializer_list<int64_t>{out, in});
    data += out * in;
    layer.multiply_adds_per_token += static_cast<double>(out * in);
  }
  layer.bytes = elements * sizeof(bf16);
  return layer;
}

// Four layers, 1.7 GB: more than the last-level cache, so decode streams weights from memory.
const std::vector<LayerWeights>& decode_layers() {
  static const std::vector<LayerWeights> layers = [] {
    std::vector<LayerWeights> result;
    for (uint32_t i = 0; i < 4; ++i) result.push_back(make_layer(100 + i));
    return result;
  }();
  return layers;
}

void run_layer(ops::Context& context, const LayerWeights& layer, const float* x, int64_t rows,
               std::vector<float>& y) {
  for (const Tensor& weight : layer.matrices) {
    const int64_t out = weight.dim(0);
    const int64_t in = weight.dim(1);
    if (static_cast<int64_t>(y.size()) < rows * out) y.resize(static_cast<size_t>(rows * out));
    ops::linear(context, x, rows, in, weight, Tensor(), y.data(), out);
  }
}

void linear_rows(benchmark::State& state, const cpu::Kernels& kernels, int64_t rows, int layers) {
  ops::Context context(pool(), kernels);
  const std::vector<LayerWeights>& all = decode_layers();
  const std::vector<float> x = random_floats(static_cast<size_t>(rows * kIntermediate), 1);
  std::vector<float> y;
  double bytes = 0;
  double multiply_adds = 0;
  for (auto _ : state) {
    for (int i = 0; i < layers; ++i) {
      run_layer(context, all[static_cast<size_t>(i)], x.data(), rows, y);
      bytes += static_cast<double>(all[static_cast<size_t>(i)].bytes);
      multiply_adds += all[static_cast<size_t>(i)].multiply_adds_per_token * static_cast<double>(rows);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["weight_GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(2 * multiply_adds / 1e9, benchmark::Counter::kIsRate);
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(rows) * static_cast<double>(state.iterations()) *
                             layers / 40.0,
                         benchmark::Counter::kIsRate);
}

void copy(benchmark::State& state) {
  const size_t bytes = size_t{512} << 20;
  HostBuffer source(bytes), destination(bytes);
  std::memset(source.data(), 1, bytes);
  std::memset(destination.data(), 2, bytes);
  const int64_t blocks = 256;
  for (auto _ : state) {
    pool().run(blocks, [&](int64_t block) {
      const size_t size = bytes / blocks;
      std::memcpy(static_cast<char*>(destination.data()) + block * size,
                  static_cast<const char*>(source.data()) + block * size, size);
    });
    benchmark::ClobberMemory();
  }
  state.counters["copied_GB/s"] = benchmark::Counter(
      static_cast<double>(bytes) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
  state.counters["read+write_GB/s"] = benchmark::Counter(
      2.0 * static_cast<double>(bytes) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}

// Each matrix of the layer once over the same memory, so the read figure is what the kernel
// can sustain: a plain read loop, for comparison with the GEMV.
void read(benchmark::State& state) {
  const std::vector<LayerWeights>& all = decode_layers();
  for (auto _ : state) {
    for (const LayerWeights& layer : all) {
      const auto* data = static_cast<const uint64_t*>(layer.storage.data());
      const int64_t words = static_cast<int64_t>(layer.bytes / 8);
      std::vector<uint64_t> partial(static_cast<size_t>(pool().size()) * 8);
      pool().run(pool().size(), [&](int64_t part) {
        const int64_t begin = words * part / pool().size();
        const int64_t end = words * (part + 1) / pool().size();
        uint64_t sum = 0;
        for (int64_t i = begin; i < end; ++i) sum ^= data[i];
        partial[static_cast<size_t>(part) * 8] = sum;
      });
      benchmark::DoNotOptimize(partial.data());
    }
  }
  double bytes = 0;
  for (const LayerWeights& layer : all) bytes += static_cast<double>(layer.bytes);
  state.counters["read_GB/s"] = benchmark::Counter(
      bytes * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

// A BF16 KV pool with sequences of cached positions, pages shuffled.
struct KvFixture {
  HostBuffer k, v;
  ops::PagedKv cache;
  std::vector<std::vector<int32_t>> pages;

  KvFixture(int64_t sequences, int64_t length, int64_t page_size) {
    const int64_t pages_per_sequence = (length + page_size - 1) / page_size;
    const int64_t num_pages = sequences * pages_per_sequence;
    const size_t elements = static_cast<size_t>(num_pages * kKvHeads * page_size * kHeadDim);
    k = HostBuffer(elements * sizeof(bf16));
    v = HostBuffer(elements * sizeof(bf16));
    fill_bf16(static_cast<bf16*>(k.data()), elements, 7);
    fill_bf16(static_cast<bf16*>(v.data()), elements, 8);
    cache = {k.data(), v.data(), DType::kBF16, num_pages, page_size, kKvHeads, kHeadDim};
    std::vector<int32_t> ids(static_cast<size_t>(num_pages));
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
    std::shuffle(ids.begin(), ids.end(), std::mt19937(3));
    for (int64_t s = 0; s < sequences; ++s) {
      pages.emplace_back(ids.begin() + s * pages_per_sequence,
                         ids.begin() + (s + 1) * pages_per_sequence);
    }
  }
};

// sequences x new_tokens queries, each sequence with cached positions before them.
void attention(benchmark::State& state, const cpu::Kernels& kernels, int64_t sequences,
               int64_t cached, int64_t new_tokens) {
  ops::Context context(pool(), kernels);
  const int64_t page_size = 16;
  KvFixture kv(sequences, cached + new_tokens, page_size);
  std::vector<ops::AttentionSequence> batch;
  for (int64_t s = 0; s < sequences; ++s) {
    batch.push_back({s * new_tokens, new_tokens, cached, kv.pages[static_cast<size_t>(s)]});
  }
  const int64_t tokens = sequences * new_tokens;
  const std::vector<float> q = random_floats(static_cast<size_t>(tokens * kHeads * kHeadDim), 2);
  std::vector<float> out(q.size());
  for (auto _ : state) {
    ops::paged_attention(context, q.data(), kHeads * kHeadDim, kHeads, kv.cache, batch,
                         0.08838834764f, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  // Multiply-adds: q.k and p.v for every visible (query, key) pair and head.
  double pairs = 0;
  for (int64_t t = 0; t < new_tokens; ++t) pairs += static_cast<double>(cached + t + 1);
  const double flops = 4.0 * pairs * static_cast<double>(sequences * kHeads * kHeadDim);
  const double kv_bytes = 2.0 * static_cast<double>(sequences * (cached + new_tokens) * kKvHeads *
                                                    kHeadDim * sizeof(bf16));
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(flops * iterations / 1e9, benchmark::Counter::kIsRate);
  state.counters["kv_GB/s"] = benchmark::Counter(kv_bytes * iterations / 1e9, benchmark::Counter::kIsRate);
}

void pool_run(benchmark::State& state) {
  std::atomic<int64_t> sink{0};
  for (auto _ : state) {
    pool().run(pool().size(), [&](int64_t i) { sink.fetch_add(i, std::memory_order_relaxed); });
  }
  benchmark::DoNotOptimize(sink.load());
}

// Returns the kernel tables this CPU can run, from avx2 up. avx512_bf16 is the VDPBF16PS table,
// and amx_bf16 the AMX one that kernels_for picks where the CPU has AMX.
std::vector<const cpu::Kernels*> tables() {
  std::vector<const cpu::Kernels*> result;
  if (best_simd_level() >= SimdLevel::kAvx2) result.push_back(&cpu::avx2_kernels());
  if (best_simd_level() >= SimdLevel::kAvx512) result.push_back(&cpu::avx512_kernels());
  if (best_simd_level() >= SimdLevel::kAvx512Bf16) result.push_back(&cpu::avx512_bf16_kernels());
  if (cpu::amx_usable()) result.push_back(&cpu::amx_bf16_kernels());
  return result;
}

void register_benchmarks() {
  timed(benchmark::RegisterBenchmark("copy", copy));
  timed(benchmark::RegisterBenchmark("read", read));
  benchmark::RegisterBenchmark("pool/run", pool_run)->UseRealTime();
  for (const cpu::Kernels* table : tables()) {
    const cpu::Kernels& kernels = *table;
    const std::string name = kernels.name;
    timed(benchmark::RegisterBenchmark(("gemv/" + name).c_str(), [&](benchmark::State& s) {
      linear_rows(s, kernels, 1, 4);
    }));
    timed(benchmark::RegisterBenchmark(("skinny16/" + name).c_str(), [&](benchmark::State& s) {
      linear_rows(s, kernels, 16, 4);
    }));
    timed(benchmark::RegisterBenchmark(("prefill512/" + name).c_str(), [&](benchmark::State& s) {
      linear_rows(s, kernels, 512, 1);
    }))->MinTime(2.0);
    timed(benchmark::RegisterBenchmark(("attention_decode16x2048/" + name).c_str(),
                                       [&](benchmark::State& s) { attention(s, kernels, 16, 2047, 1); }));
    timed(benchmark::RegisterBenchmark(("attention_prefill512/" + name).c_str(),
                                       [&](benchmark::State& s) { attention(s, kernels, 1, 0, 512); }));
  }
}

}  // namespace
}  // namespace glyph

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  glyph::register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
