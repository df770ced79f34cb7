#include "widen.h"

#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace marquee {

static float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t fraction = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (fraction == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exponent = 127 - 15 + 1;
      while (!(fraction & 0x400)) {
        fraction <<= 1;
        exponent--;
      }
      bits = sign | (exponent << 23) | ((fraction & 0x3ff) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000 | (fraction << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (fraction << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

#if defined(__x86_64__)
__attribute__((target("avx,f16c"))) static void WidenF16c(const uint16_t* src,
                                                          float* dst,
                                                          size_t count) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                  reinterpret_cast<const __m128i*>(src + i))));
  for (; i < count; i++) dst[i] = HalfToFloat(src[i]);
}
#endif

void WidenFp16(const uint16_t* src, float* dst, size_t count) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx")) {
    WidenF16c(src, dst, count);
    return;
  }
#endif
  for (size_t i = 0; i < count; i++) dst[i] = HalfToFloat(src[i]);
}

}  // namespace marquee
