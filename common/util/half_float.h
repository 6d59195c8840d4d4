// IEEE 754 half and bfloat16 bit patterns to float32, shared by the checkpoint readers.
// Standard library only.
#pragma once

#include <cstdint>

namespace ft::util {

// Exact; NaN (payload kept) and infinity kept.
float HalfToFloat(uint16_t bits);
float BFloat16ToFloat(uint16_t bits);

}  // namespace ft::util
