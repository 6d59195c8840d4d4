#include "tests/support/svg_check.h"

#include <unistd.h>

#include "tests/support/run_command.h"

namespace ft::testing {

SvgCheck CheckSvgFile(const std::string& path) {
  SvgCheck check;
  const char* python = "/usr/bin/python3";
  if (access(python, X_OK) != 0) return check;
  // FT_SVG_CHECK_SCRIPT: the script's path in the source tree, set by CMake.
  const CommandResult result = RunCommand({python, FT_SVG_CHECK_SCRIPT, path});
  check.ran = result.started;
  check.exit_status = result.exit_status;
  check.output = result.output;
  return check;
}

}  // namespace ft::testing
