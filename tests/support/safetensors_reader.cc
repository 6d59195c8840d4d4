#include "tests/support/safetensors_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace ft::testing {

std::map<std::string, Tensor> ReadSafetensors(const std::string& path) {
  std::map<std::string, Tensor> tensors;
  std::ifstream in(path, std::ios::binary);
  uint64_t header_size = 0;
  if (!in.read(reinterpret_cast<char*>(&header_size), 8) || header_size > (1u << 26)) {
    ADD_FAILURE() << path << ": bad safetensors header size";
    return tensors;
  }
  std::string header(header_size, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_size));
  const nlohmann::json meta = nlohmann::json::parse(header);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& [name, info] : meta.items()) {
    if (name == "__metadata__") continue;
    EXPECT_EQ(info["dtype"], "F32") << name;
    Tensor tensor;
    tensor.shape = info["shape"].get<std::vector<int64_t>>();
    const size_t begin = info["data_offsets"][0], end = info["data_offsets"][1];
    EXPECT_LE(end, data.size()) << name;
    tensor.values.resize((end - begin) / 4);
    std::memcpy(tensor.values.data(), data.data() + begin, end - begin);
    tensors[name] = std::move(tensor);
  }
  return tensors;
}

double MaxRelativeDifference(const std::map<std::string, Tensor>& a,
                             const std::map<std::string, Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (const auto& [name, tb] : b) {
    auto it = a.find(name);
    if (it == a.end()) {
      ADD_FAILURE() << "missing tensor " << name;
      return INFINITY;
    }
    const Tensor& ta = it->second;
    EXPECT_EQ(ta.values.size(), tb.values.size()) << name;
    double max_abs = 0, max_diff = 0;
    for (size_t i = 0; i < std::min(ta.values.size(), tb.values.size()); ++i) {
      max_abs = std::max(max_abs, static_cast<double>(std::fabs(tb.values[i])));
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(ta.values[i] - tb.values[i])));
    }
    if (max_abs > 0) worst = std::max(worst, max_diff / max_abs);
  }
  return worst;
}

}  // namespace ft::testing
