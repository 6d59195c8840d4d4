// libFuzzer target: the CSV, TSV and JSONL readers (header and whole file) on arbitrary bytes.
// They may only answer with a DataError; any other exception, a crash or a sanitizer report is a
// bug. The first input byte picks the format; the rest is the file. Built by scripts/fuzz.sh.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "common/data/dataset.h"

namespace {

const std::string& FilePath() {
  static const std::string path = "/tmp/ft_fuzz_data_" + std::to_string(getpid());
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const ft::data::Format kFormats[] = {ft::data::Format::kCsv, ft::data::Format::kTsv,
                                              ft::data::Format::kJsonl};
  ft::data::DatasetSource source;
  source.path = FilePath();
  source.format = kFormats[data[0] % 3];
  FILE* file = std::fopen(source.path.c_str(), "wb");
  if (file == nullptr) return 0;
  std::fwrite(data + 1, 1, size - 1, file);
  std::fclose(file);
  try {
    ft::data::ReadHeader(source);
  } catch (const ft::data::DataError&) {
  }
  try {
    const std::vector<ft::data::RawExample> examples = ft::data::ReadExamples(source);
    const ft::data::LabelMap labels = ft::data::LabelMap::Build(examples, source.path);
    for (const ft::data::RawExample& example : examples) labels.IdOf(example, source.path);
  } catch (const ft::data::DataError&) {
  }
  return 0;
}
