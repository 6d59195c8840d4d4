// Writer for the safetensors format (https://github.com/huggingface/safetensors):
//   8-byte little-endian header length N, N bytes of JSON header (padded with spaces to a
//   multiple of 8), then the raw little-endian tensor data.
// The header maps each name to {"dtype","shape","data_offsets":[begin,end]} (offsets relative to
// the start of the data) and may carry "__metadata__" (string -> string).
// Plain pointers in, so that this file needs no LibTorch.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ft::io {

// A contiguous float32 tensor owned elsewhere; must stay alive during WriteSafetensors.
struct Float32TensorView {
  std::string name;
  std::vector<int64_t> shape;
  const float* data = nullptr;
};

// The JSON header (without the length prefix and padding) for `tensors` laid out in name order.
std::string SafetensorsHeader(const std::vector<Float32TensorView>& tensors,
                              const std::map<std::string, std::string>& metadata);

// Writes `path` atomically. Tensors are stored in name order. Throws std::runtime_error on I/O
// errors or duplicate names.
void WriteSafetensors(const std::string& path, std::vector<Float32TensorView> tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace ft::io
