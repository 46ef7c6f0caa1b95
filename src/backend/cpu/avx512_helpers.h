// Small AVX-512 building blocks shared by the *_avx512.cpp files.
//
// Included only by those files, each inside its own anonymous namespace, so every file gets a
// private copy and no symbol compiled for AVX-512 can be picked by the linker for code that
// runs on other CPUs. The including file includes <immintrin.h> and <cstdint> first, outside
// the namespace, which is why this header has no include guard or includes of its own.

// Lanes [0, count) set, count clamped to [0, 16].
inline __mmask16 lanes16(int64_t count) {
  if (count <= 0) return 0;
  return static_cast<__mmask16>(count >= 16 ? 0xffffu : (1u << count) - 1u);
}

// Transposes the 16 x 16 matrix of 32-bit elements whose rows are rows[0..15], in place: in
// four rounds of shuffles, pairs, then quads within 128-bit lanes, then the lanes.
inline void transpose16x16(__m512 rows[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(rows[2 * i], rows[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(rows[2 * i], rows[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]);
    const __m512d b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]);
    const __m512d d = _mm512_castps_pd(t[4 * i + 3]);
    rows[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    rows[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    rows[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    rows[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // Lane l of rows[4 * i + j] now contains column 4 * l + j of rows 4i..4i+3.
  for (int j = 0; j < 4; ++j) {
    t[j] = _mm512_shuffle_f32x4(rows[j], rows[4 + j], 0x88);
    t[4 + j] = _mm512_shuffle_f32x4(rows[j], rows[4 + j], 0xdd);
    t[8 + j] = _mm512_shuffle_f32x4(rows[8 + j], rows[12 + j], 0x88);
    t[12 + j] = _mm512_shuffle_f32x4(rows[8 + j], rows[12 + j], 0xdd);
  }
  for (int j = 0; j < 4; ++j) {
    rows[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
    rows[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
    rows[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
    rows[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xdd);
  }
}

// Rounds 16 floats to BF16, to nearest even on the integer bits as glyph::to_bf16; NaN inputs
// keep a quiet NaN. VCVTNEPS2BF16 would be shorter but flushes subnormal inputs to zero.
inline __m256i round16_to_bf16(__m512 value) {
  const __m512i bits = _mm512_castps_si512(value);
  const __m512i high = _mm512_srli_epi32(bits, 16);
  const __m512i lsb = _mm512_and_si512(high, _mm512_set1_epi32(1));
  __m512i rounded = _mm512_srli_epi32(
      _mm512_add_epi32(bits, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb)), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(value, value, _CMP_UNORD_Q);
  rounded = _mm512_mask_or_epi32(rounded, nan, high, _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(rounded);
}

// exp(x) for x <= 0, within about 2 ulp: x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two
// constants, as Cephes' expf does), exp(r) by its Taylor polynomial to degree 7 (truncation
// error below 6e-9 relative), times 2^n. Inputs below -87.33, where exp leaves the normal
// range, give 0; -inf gives 0 and NaN stays NaN.
inline __m512 exp16(__m512 x) {
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __m512 result = _mm512_scalef_ps(p, n);
  const __mmask16 underflow = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33654f), _CMP_LT_OQ);
  return _mm512_mask_mov_ps(result, underflow, _mm512_setzero_ps());
}
