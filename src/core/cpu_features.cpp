#include "core/cpu_features.h"

#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace glyph {

namespace {

bool bit(uint32_t value, int index) { return (value >> index) & 1u; }

// Linux (5.16 and later) gives a process the AMX tile data state only on request: the first
// tile instruction of a process that has not asked faults. The request covers every thread of
// the process, those started before it included. Values from <asm/prctl.h> and the kernel's
// xfeature numbering.
bool request_amx_state() {
#if defined(__linux__)
  constexpr long kArchRequestXcompPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
  constexpr long kXfeatureTileData = 18;                // XFEATURE_XTILEDATA
  return syscall(SYS_arch_prctl, kArchRequestXcompPermission, kXfeatureTileData) == 0;
#else
  return false;
#endif
}

uint64_t read_xcr0() {
  uint32_t low = 0;
  uint32_t high = 0;
  __asm__("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
  return (uint64_t{high} << 32) | low;
}

CpuFeatures detect() {
  CpuFeatures features;
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return features;
  bool osxsave = bit(ecx, 27);
  bool avx = bit(ecx, 28);
  bool fma = bit(ecx, 12);
  bool f16c = bit(ecx, 29);
  if (!osxsave || !avx) return features;

  // XCR0 lists the register files the OS saves on a context switch. Bits 1-2 cover the YMM
  // state, bits 5-7 the AVX-512 opmask and ZMM state, bits 17-18 the AMX tile state.
  uint64_t xcr0 = read_xcr0();
  bool os_avx = (xcr0 & 0x6) == 0x6;
  bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
  bool os_amx = (xcr0 & 0x60000) == 0x60000;
  if (!os_avx) return features;

  features.fma = fma;
  features.f16c = f16c;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
    features.avx2 = bit(ebx, 5);
    features.avx512f = os_avx512 && bit(ebx, 16);
    features.avx512dq = os_avx512 && bit(ebx, 17);
    features.avx512bw = os_avx512 && bit(ebx, 30);
    features.avx512vl = os_avx512 && bit(ebx, 31);
    features.amx_bf16 = os_amx && bit(edx, 22);
    features.amx_tile = os_amx && bit(edx, 24);
  }
  if (features.amx_tile && !request_amx_state()) {
    features.amx_tile = false;
    features.amx_bf16 = false;
  }
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
    features.avx512_bf16 = os_avx512 && bit(eax, 5);
  }
  return features;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

SimdLevel best_simd_level() {
  const CpuFeatures& cpu = cpu_features();
  if (!(cpu.avx2 && cpu.fma && cpu.f16c)) return SimdLevel::kScalar;
  if (!(cpu.avx512f && cpu.avx512bw && cpu.avx512vl && cpu.avx512dq)) return SimdLevel::kAvx2;
  if (!cpu.avx512_bf16) return SimdLevel::kAvx512;
  return SimdLevel::kAvx512Bf16;
}

std::string_view simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar: return "scalar";
    case SimdLevel::kAvx2: return "avx2";
    case SimdLevel::kAvx512: return "avx512";
    case SimdLevel::kAvx512Bf16: return "avx512_bf16";
  }
  return "?";
}

std::optional<SimdLevel> parse_simd_level(std::string_view name) {
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512,
                          SimdLevel::kAvx512Bf16}) {
    if (simd_level_name(level) == name) return level;
  }
  return std::nullopt;
}

}  // namespace glyph
