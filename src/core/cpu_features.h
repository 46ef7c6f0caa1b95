// Instruction-set support of the CPU and the operating system, read once from CPUID and XGETBV.
#pragma once

#include <optional>
#include <string_view>

namespace glyph {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_bf16 = false;  // VDPBF16PS: BF16 pair dot products into FP32.
  // AMX tiles and their BF16 dot products. Set only when Linux granted this process the tile
  // state, which cpu_features() requests on first use.
  bool amx_tile = false;
  bool amx_bf16 = false;
};

// Kernel families, each a superset of the one before. The CPU backend compiles one set of
// kernels per level and picks one at run time.
enum class SimdLevel {
  kScalar,      // Portable C++.
  kAvx2,        // AVX2 + FMA + F16C.
  kAvx512,      // AVX-512 F, BW, VL, DQ.
  kAvx512Bf16,  // kAvx512 + AVX512_BF16.
};

// Feature bits are cleared when the OS does not save the matching register state, because
// such instructions would fault.
const CpuFeatures& cpu_features();

SimdLevel best_simd_level();

std::string_view simd_level_name(SimdLevel level);

// Inverse of simd_level_name; nullopt for an unknown name.
std::optional<SimdLevel> parse_simd_level(std::string_view name);

}  // namespace glyph
