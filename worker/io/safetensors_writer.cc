#include "worker/io/safetensors_writer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/util/atomic_file.h"

namespace ft::io {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; this writer copies memory as is");

int64_t ElementCount(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

void SortByName(std::vector<Float32TensorView>& tensors) {
  std::sort(tensors.begin(), tensors.end(),
            [](const Float32TensorView& a, const Float32TensorView& b) { return a.name < b.name; });
  for (std::size_t i = 1; i < tensors.size(); ++i) {
    if (tensors[i].name == tensors[i - 1].name) {
      throw std::runtime_error("duplicate tensor name in safetensors: " + tensors[i].name);
    }
  }
}

}  // namespace

std::string SafetensorsHeader(const std::vector<Float32TensorView>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  uint64_t offset = 0;
  for (const Float32TensorView& tensor : tensors) {
    const uint64_t bytes = static_cast<uint64_t>(ElementCount(tensor.shape)) * sizeof(float);
    header[tensor.name] = {
        {"dtype", "F32"}, {"shape", tensor.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  return header.dump();
}

void WriteSafetensors(const std::string& path, std::vector<Float32TensorView> tensors,
                      const std::map<std::string, std::string>& metadata) {
  SortByName(tensors);
  std::string header = SafetensorsHeader(tensors, metadata);
  // Padding keeps the data 8-byte aligned for readers that map the file.
  header.append((8 - header.size() % 8) % 8, ' ');

  const uint64_t header_size = header.size();
  unsigned char length_prefix[8];
  for (int i = 0; i < 8; ++i) length_prefix[i] = static_cast<unsigned char>(header_size >> (8 * i));

  AtomicFileWriter writer(path);
  writer.Write(length_prefix, sizeof(length_prefix));
  writer.Write(header);
  for (const Float32TensorView& tensor : tensors) {
    writer.Write(tensor.data, static_cast<std::size_t>(ElementCount(tensor.shape)) * sizeof(float));
  }
  writer.Commit();
}

}  // namespace ft::io
