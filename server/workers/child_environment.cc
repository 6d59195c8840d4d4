#include "server/workers/child_environment.h"

#include <string_view>

namespace ft::workers {

std::vector<std::string> ChildEnvironment(const char* const* inherited,
                                          const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> environment;
  for (const char* const* entry = inherited; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string_view name = text.substr(0, text.find('='));
    if (overrides.count(std::string(name)) == 0) environment.emplace_back(text);
  }
  for (const auto& [name, value] : overrides) environment.push_back(name + "=" + value);
  return environment;
}

}  // namespace ft::workers
