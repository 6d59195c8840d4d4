// Test support: reads float32 tensors from a .safetensors file (header JSON + raw data).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ft::testing {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Every F32 tensor by name. Fails the current test (and returns what it has) on a bad file.
std::map<std::string, Tensor> ReadSafetensors(const std::string& path);

// max |a - b| / max(|b|) over each tensor, the worst across tensors (names must match).
double MaxRelativeDifference(const std::map<std::string, Tensor>& a,
                             const std::map<std::string, Tensor>& b);

}  // namespace ft::testing
