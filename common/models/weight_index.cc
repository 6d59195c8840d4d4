#include "common/models/weight_index.h"

#include <nlohmann/json.hpp>
#include <set>

namespace ft::models {

std::string WeightFileNames() {
  std::vector<std::string_view> names;
  for (const WeightFiles& format : kWeightFormats) {
    names.push_back(format.single);
    names.push_back(format.index);
  }
  std::string joined;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) joined += i + 1 == names.size() ? " or " : ", ";
    joined += names[i];
  }
  return joined;
}

std::vector<std::string> ShardsOfIndex(const std::string& index_text, const std::string& where) {
  using Json = nlohmann::json;
  Json json;
  try {
    json = Json::parse(index_text);
  } catch (const Json::exception& error) {
    throw std::invalid_argument(where + ": not valid JSON: " + error.what());
  }
  const auto map = json.is_object() ? json.find("weight_map") : json.end();
  if (map == json.end() || !map->is_object() || map->empty()) {
    throw std::invalid_argument(where + ": weight_map: missing, empty or not an object of "
                                        "tensor -> file");
  }
  std::set<std::string> shards;
  for (const auto& [name, file] : map->items()) {
    const std::string shard = file.is_string() ? file.get<std::string>() : "";
    if (shard.empty() || shard.find("..") != std::string::npos ||
        shard.find_first_of("/\\") != std::string::npos) {
      throw std::invalid_argument(where + ": weight_map['" + name +
                                  "']: expected a file name, got " + file.dump());
    }
    shards.insert(shard);
  }
  return {shards.begin(), shards.end()};
}

}  // namespace ft::models
