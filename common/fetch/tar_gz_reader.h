// Streams the regular files of a .tar.gz archive (ustar, GNU long names, pax path records)
// through zlib, without unpacking to disk: named datasets ship as tarballs (aclImdb_v1.tar.gz).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace ft::fetch {

// Called for each regular file with its path in the archive and its size. Return true to
// receive its content through `on_content` (called once with all of it), false to skip it.
using TarFileFilter = std::function<bool(const std::string& path, int64_t size)>;
using TarFileContent = std::function<void(const std::string& path, std::string content)>;

// Throws std::runtime_error naming the archive for a damaged or truncated file.
void ReadTarGz(const std::string& archive, const TarFileFilter& wanted,
               const TarFileContent& on_content);

}  // namespace ft::fetch
