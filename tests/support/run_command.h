// Test support: runs a program through the shell and captures its stdout and stderr together.
#pragma once

#include <string>
#include <vector>

namespace ft::testing {

struct CommandResult {
  bool started = false;
  int exit_status = -1;  // -1 when it did not exit normally
  std::string output;    // stdout and stderr, interleaved
};

// `argv[0]` is the program; every argument is quoted for the shell.
CommandResult RunCommand(const std::vector<std::string>& argv);

}  // namespace ft::testing
