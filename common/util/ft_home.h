// The state folder ftd and ftworker default to: $FT_HOME, else $HOME/.ftd, else /var/lib/ftd.
#pragma once

#include <string>

namespace ft {

std::string DefaultFtHome();

}  // namespace ft
