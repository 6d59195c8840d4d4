// Test support: checks an SVG file with Python's XML parser (tests/support/svg_check.py, run by
// /usr/bin/python3) and returns what it found, one fact a line ("ok svg", "series 0 0 12", ...).
#pragma once

#include <string>

namespace ft::testing {

struct SvgCheck {
  bool ran = false;      // false: no /usr/bin/python3 (the caller skips)
  int exit_status = -1;  // 0: well-formed
  std::string output;    // the script's lines
};

SvgCheck CheckSvgFile(const std::string& path);

}  // namespace ft::testing
