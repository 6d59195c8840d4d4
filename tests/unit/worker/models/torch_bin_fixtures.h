// Test support: runs make_torch_bin_fixtures.py (PyTorch's own torch.save, the reference) into
// `out`. Returns "" on success, else why not (no /usr/bin/python3 or no torch in it: the caller
// skips with FT_SKIP_PREREQUISITE_MISSING). The test target defines FT_REFERENCE_PYTHON,
// FT_TORCH_BIN_MAKER and FT_SOURCE_DIR_FALLBACK.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace ft::testing {

inline std::filesystem::path HfFixtureModels() {
  const char* source = std::getenv("FT_SOURCE_DIR");
  return std::filesystem::path(source != nullptr ? source : FT_SOURCE_DIR_FALLBACK) /
         "tests/fixtures/hf/models";
}

inline std::string MakeTorchBinFixtures(const std::filesystem::path& out) {
  const std::string command = std::string(FT_REFERENCE_PYTHON) + " " + FT_TORCH_BIN_MAKER + " " +
                              out.string() + " " + HfFixtureModels().string() + " 2>&1";
  return std::system(command.c_str()) == 0 ? "" : "cannot run " + command;
}

}  // namespace ft::testing
