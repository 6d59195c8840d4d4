// libFuzzer target: the safetensors reader (worker/io, standard library only) on arbitrary bytes:
// open and check the file, then convert every float tensor. It may only throw SafetensorsError;
// anything else, a crash or a sanitizer report is a bug. Built by scripts/fuzz.sh.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "worker/io/safetensors_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/ft_fuzz_safetensors_" + std::to_string(getpid());
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  try {
    const auto tensors = ft::io::SafetensorsFile::Open(path);
    for (const ft::io::SafetensorsEntry& entry : tensors->entries()) {
      if (entry.dtype != "F32" && entry.dtype != "F16" && entry.dtype != "BF16") continue;
      std::vector<float> out(static_cast<size_t>(entry.ElementCount()));
      tensors->ReadAsFloat32(entry, out.data());
    }
  } catch (const ft::io::SafetensorsError&) {
  }
  return 0;
}
