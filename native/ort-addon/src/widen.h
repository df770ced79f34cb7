// fp16 -> fp32 on the host, for logits read back from a run (F16C where the CPU has it).
#pragma once

#include <cstddef>
#include <cstdint>

namespace marquee {

void WidenFp16(const uint16_t* src, float* dst, size_t count);

}  // namespace marquee
