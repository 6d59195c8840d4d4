// Fixtures for the dataset reader tests: a temporary folder to write files into and a check
// for the DataError a call throws.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include "data/dataset.h"

namespace ft::data::testing {

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = std::filesystem::temp_directory_path() /
            ("ft_data_test_" + std::to_string(now) + "_" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `bytes` to <dir>/<name> (creating subfolders) and returns the full path.
  std::string Write(const std::string& name, std::string_view bytes) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    EXPECT_TRUE(out.good()) << "cannot write " << file;
    return file.string();
  }

  std::string MakeFolder(const std::string& name) const {
    std::filesystem::create_directories(path_ / name);
    return (path_ / name).string();
  }

 private:
  std::filesystem::path path_;
};

inline DatasetSource Source(const std::string& path, const std::string& text = "text",
                            const std::string& label = "label") {
  DatasetSource source;
  source.path = path;
  source.text_column = text;
  source.label_column = label;
  return source;
}

// Runs `call` and checks that it throws a DataError with this file, line and column and a
// message containing `fragment`.
inline void CheckDataError(const std::function<void()>& call, const std::string& file,
                           std::size_t line, std::size_t column, const std::string& fragment) {
  try {
    call();
  } catch (const DataError& error) {
    EXPECT_EQ(error.file(), file);
    EXPECT_EQ(error.line(), line) << error.what();
    EXPECT_EQ(error.column(), column) << error.what();
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
        << "message \"" << error.what() << "\" lacks \"" << fragment << "\"";
    return;
  }
  ADD_FAILURE() << "no DataError thrown (expected one containing \"" << fragment << "\")";
}

}  // namespace ft::data::testing

// SCOPED_TRACE makes a failure point at the line that used the macro.
#define EXPECT_DATA_ERROR(expr, file, line, column, fragment)                                 \
  do {                                                                                        \
    SCOPED_TRACE(#expr);                                                                      \
    ::ft::data::testing::CheckDataError([&] { (void)(expr); }, file, line, column, fragment); \
  } while (0)
