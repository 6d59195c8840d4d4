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

#include "common/data/dataset.h"
#include "tests/support/temp_dir.h"

namespace ft::data::testing {

using TempDir = ft::testing::TempDir;

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
