#include "server/console/assets.h"

namespace ft::console {

const Asset* FindAsset(std::string_view path) {
  for (size_t i = 0; i < kEmbeddedAssetCount; ++i) {
    if (kEmbeddedAssets[i].path == path) return &kEmbeddedAssets[i];
  }
  return nullptr;
}

}  // namespace ft::console
