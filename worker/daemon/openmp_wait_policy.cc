#include "worker/daemon/openmp_wait_policy.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

namespace ft::worker {

namespace {
constexpr char kVariable[] = "OMP_WAIT_POLICY";
}  // namespace

void ReexecWithPassiveOpenMpWait(char** argv) {
  if (std::getenv(kVariable) != nullptr) return;
  if (setenv(kVariable, "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);
  std::cerr << "ftworker: warning: cannot re-execute itself with OMP_WAIT_POLICY=PASSIVE ("
            << std::strerror(errno) << "); set it in the environment for full speed\n";
}

std::string OpenMpWaitPolicyAtLoad() {
  // The initial environment, NUL-separated; setenv() after start does not change it.
  std::ifstream in("/proc/self/environ", std::ios::binary);
  const std::string environ_text((std::istreambuf_iterator<char>(in)),
                                 std::istreambuf_iterator<char>());
  const std::string prefix = std::string(kVariable) + "=";
  size_t start = 0;
  while (start < environ_text.size()) {
    size_t end = environ_text.find('\0', start);
    if (end == std::string::npos) end = environ_text.size();
    if (environ_text.compare(start, prefix.size(), prefix) == 0) {
      return environ_text.substr(start + prefix.size(), end - start - prefix.size());
    }
    start = end + 1;
  }
  return "";
}

}  // namespace ft::worker
