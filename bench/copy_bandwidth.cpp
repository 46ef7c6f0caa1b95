// Measures main-memory copy and read bandwidth with a given number of threads, the reference that
// a memory-bound decode step's bandwidth is compared against.
//
// Copy: each thread memcpy()s its slice of a source buffer into a destination buffer. Bandwidth
// counts bytes read plus bytes written (2 x buffer size per pass), as STREAM's Copy does, so it is
// DRAM traffic per second. Read: each thread sums its slice as 64-bit integers and only reads are
// counted, like a decode step that streams weights. Both buffers default to 1 GiB; keep them at
// least twice the L3 size that lscpu reports, so that every pass streams from DRAM.
// The best of the passes is reported, as STREAM does.
//
// Build: g++ -O3 -march=native -pthread copy_bandwidth.cpp -o copy_bandwidth
// Usage: copy_bandwidth [--threads N] [--mib SIZE] [--passes P]
// Prints one JSON object: {"threads":N,"buffer_bytes":...,"copy_gbps":...,"read_gbps":...}
// with GB meaning 1e9 bytes.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <immintrin.h>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int threads = 2;
  size_t mib = 1024;
  int passes = 10;
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "flag %s needs a value\n", flag.c_str());
      std::exit(2);
    }
    const long value = std::strtol(argv[++i], nullptr, 10);
    if (value <= 0) {
      std::fprintf(stderr, "%s is %s; it must be a positive integer\n", flag.c_str(), argv[i]);
      std::exit(2);
    }
    if (flag == "--threads") {
      options.threads = static_cast<int>(value);
    } else if (flag == "--mib") {
      options.mib = static_cast<size_t>(value);
    } else if (flag == "--passes") {
      options.passes = static_cast<int>(value);
    } else {
      std::fprintf(stderr, "unknown flag %s; expected --threads, --mib or --passes\n", flag.c_str());
      std::exit(2);
    }
  }
  return options;
}

// Sums the 64-bit words of data (64-byte aligned, bytes a multiple of 256). With AVX-512, four
// independent accumulators keep more loads in flight. A plain loop as GCC 12 vectorizes it read
// about 15% slower on a 2-core Xeon VM.
uint64_t sum_words(const uint8_t* data, size_t bytes) {
#if defined(__AVX512F__)
  __m512i sum0 = _mm512_setzero_si512(), sum1 = sum0, sum2 = sum0, sum3 = sum0;
  for (size_t i = 0; i < bytes; i += 256) {
    sum0 = _mm512_add_epi64(sum0, _mm512_load_si512(data + i));
    sum1 = _mm512_add_epi64(sum1, _mm512_load_si512(data + i + 64));
    sum2 = _mm512_add_epi64(sum2, _mm512_load_si512(data + i + 128));
    sum3 = _mm512_add_epi64(sum3, _mm512_load_si512(data + i + 192));
  }
  // Stored and added by hand: GCC 12's _mm512_reduce_add_epi64 trips -Wuninitialized.
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(sum0, sum1),
                                             _mm512_add_epi64(sum2, sum3)));
  uint64_t sum = 0;
  for (uint64_t lane : lanes) sum += lane;
  return sum;
#else
  const auto* words = reinterpret_cast<const uint64_t*>(data);
  uint64_t sum = 0;
  for (size_t i = 0; i < bytes / 8; ++i) sum += words[i];
  return sum;
#endif
}

// Runs work(thread, begin, end) on `threads` threads over [0, bytes) and returns the elapsed seconds.
template <typename Work>
double run_parallel(int threads, size_t bytes, Work work) {
  // Slices are multiples of 4 KiB so that no two threads share a page or a cache line.
  const size_t slice = (bytes / threads) & ~size_t{4095};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    const size_t begin = slice * t;
    const size_t end = t + 1 == threads ? bytes : begin + slice;
    workers.emplace_back([=] { work(t, begin, end); });
  }
  for (std::thread& worker : workers) worker.join();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  const size_t bytes = options.mib << 20;
  auto* source = static_cast<uint8_t*>(std::aligned_alloc(4096, bytes));
  auto* destination = static_cast<uint8_t*>(std::aligned_alloc(4096, bytes));
  if (source == nullptr || destination == nullptr) {
    std::fprintf(stderr, "failed to allocate two buffers of %zu MiB\n", options.mib);
    return 1;
  }

  // Touch every page first so that page faults are not timed.
  std::memset(source, 1, bytes);
  std::memset(destination, 0, bytes);

  double best_copy = 1e30;
  double best_read = 1e30;
  std::vector<uint64_t> sums(options.threads);
  for (int pass = 0; pass < options.passes; ++pass) {
    best_copy = std::min(best_copy, run_parallel(options.threads, bytes, [&](int, size_t begin, size_t end) {
      std::memcpy(destination + begin, source + begin, end - begin);
    }));
    best_read = std::min(best_read, run_parallel(options.threads, bytes, [&](int thread, size_t begin, size_t end) {
      sums[thread] = sum_words(source + begin, end - begin);
    }));
  }

  uint64_t checksum = 0;  // Printed so the compiler cannot drop the read loop.
  for (uint64_t sum : sums) checksum += sum;
  std::printf("{\"threads\":%d,\"buffer_bytes\":%zu,\"passes\":%d,\"copy_gbps\":%.2f,"
              "\"read_gbps\":%.2f,\"checksum\":%llu}\n",
              options.threads, bytes, options.passes, 2.0 * bytes / best_copy / 1e9,
              bytes / best_read / 1e9, static_cast<unsigned long long>(checksum));
  std::free(source);
  std::free(destination);
  return 0;
}
