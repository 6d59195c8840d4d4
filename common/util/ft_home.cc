#include "common/util/ft_home.h"

#include <cstdlib>

namespace ft {

std::string DefaultFtHome() {
  if (const char* home = std::getenv("FT_HOME"); home != nullptr && *home != '\0') return home;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.ftd";
  }
  return "/var/lib/ftd";
}

}  // namespace ft
