// The environment a local worker is exec'd with: ftd's own, with the variables ftd gives its
// workers set on top. Built as a whole for execve, so that what only the workers need (the
// worker secret above all) never enters ftd's own environment, where every other child and any
// code reading /proc/<ftd>/environ would see it.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ft::workers {

// "NAME=value" entries: those of `inherited` (a null-terminated environ-style array; may be
// null) whose names are not in `overrides`, in their order, then `overrides`.
std::vector<std::string> ChildEnvironment(const char* const* inherited,
                                          const std::map<std::string, std::string>& overrides);

}  // namespace ft::workers
