#include "common/fetch/hub_model.h"

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/fetch/file_digest.h"
#include "common/fetch/http_client.h"
#include "common/models/weight_index.h"
#include "common/util/atomic_file.h"

namespace ft::fetch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kConfig = "config.json";
// Tokenizer files taken along when the repository has them.
constexpr std::string_view kTokenizerFiles[] = {"tokenizer.json", "tokenizer_config.json",
                                                 "special_tokens_map.json", "vocab.txt",
                                                 "vocab.json", "merges.txt"};

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

bool IsTrue(std::string value) {
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return value == "1" || value == "ON" || value == "YES" || value == "TRUE";
}

bool ValidIdPart(std::string_view part) {
  if (part.empty() || part.size() > 96 || part.front() == '.' || part.front() == '-' ||
      part.back() == '.' || part.find("..") != std::string_view::npos ||
      part.find("--") != std::string_view::npos) {
    return false;
  }
  return std::all_of(part.begin(), part.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes through a temporary file and a rename, so readers never see half a file (a temporary
// name per process: two workers may fill one cache).
void WriteTextAtomically(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  try {
    WriteFileAtomically(path.string(), text, ".tmp" + std::to_string(::getpid()));
  } catch (const std::runtime_error& error) {
    throw HubError(false, error.what());
  }
}

fs::path RepoFolder(const std::string& cache_dir, const std::string& repo_id) {
  std::string name = "models--" + repo_id;
  const auto slash = name.find('/');
  name.replace(slash, 1, "--");
  return fs::path(cache_dir) / name;
}

bool IsCommitHash(const std::string& revision) {
  return revision.size() == 40 && std::all_of(revision.begin(), revision.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

// The shard files an index names (common/models/weight_index.h), as a HubError.
std::vector<std::string> ShardsOfIndex(const std::string& text, const std::string& where) {
  try {
    return models::ShardsOfIndex(text, where);
  } catch (const std::invalid_argument& bad) {
    throw HubError(false, bad.what());
  }
}

// The snapshot's files a model needs are all there: config and weights (single or sharded).
bool SnapshotComplete(const fs::path& snapshot) {
  std::error_code ec;
  if (!fs::exists(snapshot / kConfig, ec)) return false;
  for (const models::WeightFiles& format : models::kWeightFormats) {
    if (fs::exists(snapshot / format.single, ec)) return true;
    const fs::path index = snapshot / format.index;
    if (!fs::exists(index, ec)) continue;
    try {
      for (const std::string& shard : ShardsOfIndex(ReadText(index), index.string())) {
        if (!fs::exists(snapshot / shard, ec)) return false;
      }
    } catch (const HubError&) {
      return false;
    }
    return true;
  }
  return false;
}

std::string HumanBytes(int64_t bytes) {
  std::ostringstream text;
  text.precision(3);
  if (bytes >= (1LL << 30)) {
    text << bytes / double(1LL << 30) << " GiB";
  } else if (bytes >= (1LL << 20)) {
    text << bytes / double(1LL << 20) << " MiB";
  } else {
    text << bytes << " bytes";
  }
  return text.str();
}

class HubClient {
 public:
  HubClient(const HubModelRef& model, const HubOptions& options, const HubLog& log)
      : model_(model), options_(options), log_(log),
        repo_folder_(RepoFolder(options.cache_dir, model.repo_id)) {}

  std::string Resolve() {
    json info;
    try {
      info = RevisionInfo();
    } catch (const TransferError& e) {
      if (auto cached = CachedHubSnapshot(model_, options_.cache_dir)) {
        log_("warning", "the Hub at " + options_.endpoint + " cannot be reached (" + e.what() +
                            "); using the cached snapshot " + *cached);
        return *cached;
      }
      throw HubError(false, model_.repo_id + ": the Hub at " + options_.endpoint +
                                " cannot be reached (" + e.what() + ") and no complete snapshot of '" +
                                model_.revision + "' is cached in " + options_.cache_dir);
    }
    const std::string commit = info.value("sha", "");
    if (!IsCommitHash(commit)) {
      throw HubError(false, model_.repo_id + ": the Hub's answer has no commit hash (\"sha\")");
    }
    std::set<std::string> listed;
    if (info.contains("siblings") && info["siblings"].is_array()) {
      for (const auto& sibling : info["siblings"]) {
        if (sibling.is_object() && sibling.contains("rfilename") && sibling["rfilename"].is_string()) {
          listed.insert(sibling["rfilename"].get<std::string>());
        }
      }
    }
    const fs::path snapshot = repo_folder_ / "snapshots" / commit;
    if (!listed.count(std::string(kConfig))) {
      throw HubError(true, model_.repo_id + "@" + model_.revision + ": the repository has no config.json");
    }
    Fetch(commit, snapshot, std::string(kConfig));
    FetchWeights(commit, snapshot, listed);
    for (std::string_view name : kTokenizerFiles) {
      if (listed.count(std::string(name))) Fetch(commit, snapshot, std::string(name));
    }
    if (model_.revision != commit) {
      WriteTextAtomically(repo_folder_ / "refs" / model_.revision, commit);
    }
    return snapshot.string();
  }

 private:
  std::vector<std::string> Headers() const {
    std::vector<std::string> headers;
    if (!options_.token.empty()) headers.push_back("Authorization: Bearer " + options_.token);
    return headers;
  }

  [[noreturn]] void FailStatus(const HttpResponse& response, const std::string& what) const {
    const long status = response.status;
    if (status == 401 || status == 403) {
      throw HubError(false, what + ": access denied (HTTP " + std::to_string(status) + ")" +
                                (options_.token.empty() ? "; set HF_TOKEN for gated or private models"
                                                        : "; check that HF_TOKEN may read it"));
    }
    if (status == 404) throw HubError(true, what + ": not found on " + options_.endpoint);
    throw HubError(false, what + ": HTTP " + std::to_string(status) + " from " + options_.endpoint);
  }

  json RevisionInfo() {
    HttpRequest request;
    request.url = options_.endpoint + "/api/models/" + model_.repo_id + "/revision/" + model_.revision;
    request.headers = Headers();
    const HttpResponse response = HttpGet(request);
    if (response.status != 200) FailStatus(response, model_.repo_id + "@" + model_.revision);
    try {
      return json::parse(response.body);
    } catch (const json::exception& e) {
      throw HubError(false, request.url + ": not valid JSON: " + e.what());
    }
  }

  // The first format of models::kWeightFormats the repository has: its single file, or its index and
  // every shard the index names.
  void FetchWeights(const std::string& commit, const fs::path& snapshot,
                    const std::set<std::string>& listed) {
    for (const models::WeightFiles& format : models::kWeightFormats) {
      const std::string single(format.single);
      const std::string index_name(format.index);
      if (listed.count(single)) {
        Fetch(commit, snapshot, single);
        return;
      }
      if (!listed.count(index_name)) continue;
      Fetch(commit, snapshot, index_name);
      const fs::path index = snapshot / index_name;
      for (const std::string& shard : ShardsOfIndex(ReadText(index), index.string())) {
        if (!listed.count(shard)) {
          throw HubError(true, model_.repo_id + ": " + index_name + " names " + shard +
                                   ", which the repository does not have");
        }
        Fetch(commit, snapshot, shard);
      }
      return;
    }
    throw HubError(true, model_.repo_id + "@" + model_.revision +
                             ": no weights (" + models::WeightFileNames() + ")");
  }

  // Puts `name` into the snapshot, downloading its blob unless the cache already has it.
  void Fetch(const std::string& commit, const fs::path& snapshot, const std::string& name) {
    const fs::path link = snapshot / name;
    std::error_code ec;
    if (fs::exists(link, ec)) return;  // never twice: snapshots are immutable per commit
    HttpRequest request;
    request.url = options_.endpoint + "/" + model_.repo_id + "/resolve/" + commit + "/" + name;
    request.headers = Headers();
    request.follow_redirects = false;  // large files redirect; their metadata is on the redirect
    const HttpResponse head = HttpHead(request);
    if (head.status >= 400) FailStatus(head, model_.repo_id + "/" + name);
    std::string etag = head.Header("x-linked-etag");
    if (etag.empty()) etag = head.Header("etag");
    if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
    etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
    if (etag.empty() || !std::all_of(etag.begin(), etag.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        })) {
      throw HubError(false, request.url + ": no usable ETag in the Hub's answer");
    }
    std::string size_text = head.Header("x-linked-size");
    if (size_text.empty()) size_text = head.Header("content-length");
    const int64_t size = size_text.empty() ? -1 : std::atoll(size_text.c_str());
    const fs::path blob = repo_folder_ / "blobs" / etag;
    fs::create_directories(blob.parent_path());
    if (!fs::exists(blob, ec)) Download(request.url, blob, etag, size, name);
    fs::create_directories(link.parent_path());
    fs::path target = fs::relative(blob, link.parent_path());
    fs::remove(link, ec);
    fs::create_symlink(target, link);
  }

  void Download(const std::string& url, const fs::path& blob, const std::string& etag, int64_t size,
                const std::string& name) {
    // One download of a blob at a time (several workers may share the cache).
    const std::string lock_path = blob.string() + ".lock";
    const int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (lock < 0) throw HubError(false, "cannot write " + lock_path);
    ::flock(lock, LOCK_EX);
    struct Unlock {
      int fd;
      ~Unlock() { ::flock(fd, LOCK_UN); ::close(fd); }
    } unlock{lock};
    std::error_code ec;
    if (fs::exists(blob, ec)) return;  // another process finished it meanwhile
    const fs::path partial = blob.string() + ".incomplete";
    const auto partial_size = fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0;
    log_("info", "downloading " + model_.repo_id + "/" + name +
                     (size >= 0 ? " (" + HumanBytes(size) + ")" : std::string()) +
                     (partial_size > 0 ? ", resuming after " + HumanBytes(partial_size) : std::string()));
    const auto start = std::chrono::steady_clock::now();
    HttpRequest request;
    request.url = url;
    request.headers = Headers();
    try {
      const HttpResponse response = HttpDownloadWithRetries(
          request, partial.string(), 4, [&](const std::string& why) {
            log_("warning", "download of " + name + " interrupted (" + why +
                                "); resuming where it stopped");
          });
      if (response.status != 200 && response.status != 206 && response.status != 416) {
        FailStatus(response, model_.repo_id + "/" + name);
      }
    } catch (const TransferError& e) {
      throw HubError(false, model_.repo_id + "/" + name + ": " + e.what());
    }
    Verify(partial, etag, size, name);
    fs::rename(partial, blob);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log_("info", "downloaded " + model_.repo_id + "/" + name + " in " +
                     std::to_string(static_cast<int>(seconds * 10) / 10.0).substr(0, 5) + " s");
  }

  void Verify(const fs::path& partial, const std::string& etag, int64_t size,
              const std::string& name) {
    std::error_code ec;
    const auto got = static_cast<int64_t>(fs::file_size(partial, ec));
    std::string problem;
    if (size >= 0 && got != size) {
      problem = "size " + std::to_string(got) + " bytes, the Hub announced " + std::to_string(size);
    } else if (etag.size() == 64) {
      const std::string digest = FileDigest(partial.string(), DigestKind::kSha256);
      if (digest != etag) problem = "SHA-256 " + digest + ", expected " + etag;
    } else if (etag.size() == 40) {
      const std::string digest = FileDigest(partial.string(), DigestKind::kGitBlobSha1);
      if (digest != etag) problem = "git blob SHA-1 " + digest + ", expected " + etag;
    }
    if (!problem.empty()) {
      fs::remove(partial, ec);
      throw HubError(false, model_.repo_id + "/" + name + ": the download is corrupt (" + problem +
                                "); removed, the next attempt downloads it again");
    }
  }

  HubModelRef model_;
  HubOptions options_;
  HubLog log_;
  fs::path repo_folder_;
};

}  // namespace

std::optional<HubModelRef> ParseHubModelId(std::string_view model) {
  HubModelRef ref;
  const auto at = model.find('@');
  if (at != std::string_view::npos) {
    const std::string_view revision = model.substr(at + 1);
    if (!ValidIdPart(revision)) return std::nullopt;
    ref.revision = std::string(revision);
    model = model.substr(0, at);
  }
  const auto slash = model.find('/');
  if (slash == std::string_view::npos || model.find('/', slash + 1) != std::string_view::npos ||
      !ValidIdPart(model.substr(0, slash)) || !ValidIdPart(model.substr(slash + 1))) {
    return std::nullopt;
  }
  ref.repo_id = std::string(model);
  return ref;
}

HubOptions HubOptions::FromEnvironment() {
  HubOptions options;
  if (std::string endpoint = Env("HF_ENDPOINT"); !endpoint.empty()) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    options.endpoint = endpoint;
  }
  std::string home = Env("HF_HOME");
  if (home.empty()) {
    const std::string xdg = Env("XDG_CACHE_HOME");
    home = (xdg.empty() ? Env("HOME") + "/.cache" : xdg) + "/huggingface";
  }
  options.token = Env("HF_TOKEN");
  if (options.token.empty()) options.token = Env("HUGGING_FACE_HUB_TOKEN");
  if (options.token.empty()) {
    std::string token = ReadText(fs::path(home) / "token");
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    options.token = token;
  }
  options.cache_dir = Env("HF_HUB_CACHE");
  if (options.cache_dir.empty()) options.cache_dir = Env("HUGGINGFACE_HUB_CACHE");
  if (options.cache_dir.empty()) options.cache_dir = home + "/hub";
  options.offline = IsTrue(Env("HF_HUB_OFFLINE"));
  return options;
}

std::optional<std::string> CachedHubSnapshot(const HubModelRef& model, const std::string& cache_dir) {
  const fs::path repo = RepoFolder(cache_dir, model.repo_id);
  std::string commit = model.revision;
  if (!IsCommitHash(commit)) {
    commit = ReadText(repo / "refs" / model.revision);
    while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back()))) commit.pop_back();
    if (!IsCommitHash(commit)) return std::nullopt;
  }
  const fs::path snapshot = repo / "snapshots" / commit;
  if (!SnapshotComplete(snapshot)) return std::nullopt;
  return snapshot.string();
}

std::string ResolveHubModel(const HubModelRef& model, const HubOptions& options, const HubLog& log) {
  if (options.offline || IsCommitHash(model.revision)) {
    if (auto cached = CachedHubSnapshot(model, options.cache_dir)) return *cached;
    if (options.offline) {
      throw HubError(true, model.repo_id + "@" + model.revision +
                               ": HF_HUB_OFFLINE is set and no complete snapshot is cached in " +
                               options.cache_dir);
    }
  }
  return HubClient(model, options, log).Resolve();
}

}  // namespace ft::fetch
