// The console page's files (web/), compiled into ftd by embed_assets.cmake so that ftd serves
// every byte the page needs: no CDN, no files to install beside the binary.
#pragma once

#include <cstddef>
#include <string_view>

namespace ft::console {

struct Asset {
  std::string_view path;          // "/index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

// The asset served at `path`, or null.
const Asset* FindAsset(std::string_view path);

// Defined in the generated console_assets_data.cc.
extern const Asset kEmbeddedAssets[];
extern const size_t kEmbeddedAssetCount;

}  // namespace ft::console
