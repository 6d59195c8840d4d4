// Hugging Face Hub model ids as `spec.model` ("org/name", optionally "@revision"): the worker
// downloads config, tokenizer and weights (safetensors, else pytorch_model.bin) into the Hub's
// own cache layout ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub:
// models--org--name/{blobs, snapshots/<commit>, refs/<revision>}), so a cache filled by
// `huggingface_hub` serves ftd and the other way round. Honours HF_ENDPOINT, HF_TOKEN (else
// $HF_HOME/token) and HF_HUB_OFFLINE.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ft::fetch {

struct HubModelRef {
  std::string repo_id;            // "org/name"
  std::string revision = "main";  // branch, tag or commit
};

// "org/name" or "org/name@revision" (letters, digits, '-', '_', '.'); nullopt otherwise.
std::optional<HubModelRef> ParseHubModelId(std::string_view model);

struct HubOptions {
  std::string endpoint = "https://huggingface.co";
  std::string token;      // sent as a bearer token to the endpoint only
  std::string cache_dir;  // the hub cache root
  bool offline = false;   // never touch the network; the cache must hold the snapshot
  static HubOptions FromEnvironment();
};

// Why a model could not be resolved. not_found(): the Hub (or the offline cache) has no such
// repository, revision or file; otherwise access, transfer or verification failed.
class HubError : public std::runtime_error {
 public:
  HubError(bool not_found, const std::string& message)
      : std::runtime_error(message), not_found_(not_found) {}
  bool not_found() const { return not_found_; }

 private:
  bool not_found_;
};

// level ("info", "warning"), message.
using HubLog = std::function<void(const std::string&, const std::string&)>;

// The local snapshot folder holding config.json, the weights (model.safetensors, else
// pytorch_model.bin; single or sharded, with their index) and whichever tokenizer files the
// repository has. Files already in the cache are never downloaded again; partial downloads
// resume; every file is checked against the size and hash the Hub announces (SHA-256 for large
// files, git's blob SHA-1 for the others).
// When the Hub cannot be reached, a complete cached snapshot of the revision is used (warning).
std::string ResolveHubModel(const HubModelRef& model, const HubOptions& options, const HubLog& log);

// The cached snapshot folder for `model` if it is complete, without any network access.
std::optional<std::string> CachedHubSnapshot(const HubModelRef& model, const std::string& cache_dir);

}  // namespace ft::fetch
