// Named datasets (`spec.dataset.name`): the worker fetches the publisher's own archive, verifies
// it, and builds the splits as CSV files in a cache folder, once. `imdb` is the Stanford
// aclImdb_v1.tar.gz that the seed uses, split as the seed's loader does (see
// ../shared/data/imdb/PROVENANCE.md): test/pos, test/neg, train/pos, train/neg, files in name
// order, pos = 1, neg = 0, numpy RandomState(1)'s permutation, then 70 % / 10 % / 20 % (35,000 /
// 5,000 / 10,000 of the 50,000 reviews).
#pragma once

#include <string>
#include <vector>

#include "common/fetch/hub_model.h"

namespace ft::fetch {

struct NamedDatasetSplits {
  std::string train;
  std::string validation;
  std::string test;
};

struct DatasetFetchOptions {
  std::string cache_dir;  // <cache_dir>/<name>/{train,val,test}.csv
  // Replaces the scheme and host of catalogue URLs (FT_DATASETS_ENDPOINT), e.g. a mirror.
  std::string endpoint;
  // A JSON file whose entries replace the built-in catalogue's (FT_DATASETS_CATALOG):
  // {"imdb": {"url": ..., "md5": ..., "sha1": ...}}.
  std::string catalog_file;
  bool offline = false;  // FT_OFFLINE or HF_DATASETS_OFFLINE
  static DatasetFetchOptions FromEnvironment(const std::string& default_cache_dir);
};

// The names the catalogue knows ("imdb").
std::vector<std::string> NamedDatasets();
bool IsNamedDataset(const std::string& name);

// The split files, from the cache when all three are there (a folder filled by hand with the
// same three files works offline), else downloaded, verified (MD5 and SHA-1 of the archive) and
// built. Throws HubError (not_found() for an unknown name or an offline miss).
NamedDatasetSplits FetchNamedDataset(const std::string& name, const DatasetFetchOptions& options,
                                     const HubLog& log);

}  // namespace ft::fetch
