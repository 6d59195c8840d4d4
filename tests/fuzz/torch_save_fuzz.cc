// libFuzzer target: the pytorch_model.bin reader (common/torchsave: zip container, restricted
// unpickler, strided tensor views; standard library only) on arbitrary bytes: open and check the
// file, then convert every float tensor. It may only throw TorchSaveError; anything else, a crash
// or a sanitizer report is a bug. Built by scripts/fuzz.sh.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/torchsave/torch_save_file.h"

namespace {

// A stride-0 view may describe far more elements than its storage holds; the loader only reads
// tensors whose shape matches a parameter, so the fuzzer skips the very large ones.
constexpr uint64_t kMaxElements = 1 << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto file = ft::torchsave::TorchSaveFile::FromBytes(bytes, "fuzz.bin");
    for (const ft::torchsave::TorchSaveTensor& tensor : file->tensors()) {
      uint64_t count = 1;
      for (int64_t extent : tensor.view.shape) {
        count = extent == 0 || count > kMaxElements ? count * static_cast<uint64_t>(extent > 0)
                                                    : count * static_cast<uint64_t>(extent);
      }
      if (count > kMaxElements) continue;
      std::vector<float> out(count);
      try {
        file->ReadAsFloat32(tensor, out.data());
      } catch (const ft::torchsave::TorchSaveError&) {  // an integer tensor
      }
    }
  } catch (const ft::torchsave::TorchSaveError&) {
  }
  return 0;
}
