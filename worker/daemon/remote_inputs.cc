#include "worker/daemon/remote_inputs.h"

#include <filesystem>

#include "common/fetch/hub_model.h"
#include "common/fetch/named_dataset.h"
#include "common/util/ft_home.h"
#include "worker/daemon/chat_renderer.h"

namespace ft::worker {

absl::Status ResolveRemoteInputs(const ft::v1::JobSpec& spec, const std::string& datasets_dir,
                                 train::TrainOptions& options, train::TrainObserver* observer) {
  const auto log = [observer](const std::string& level, const std::string& message) {
    if (observer != nullptr) observer->OnLog(level, message);
  };
  try {
    if (const auto hub_id = fetch::ParseHubModelId(spec.model());
        hub_id && !std::filesystem::exists(spec.model())) {
      options.model = fetch::ResolveHubModel(*hub_id, fetch::HubOptions::FromEnvironment(), log);
      log("info", "model " + spec.model() + " from " + options.model);
    }
    if (!spec.dataset().name().empty()) {
      const fetch::NamedDatasetSplits splits = fetch::FetchNamedDataset(
          spec.dataset().name(), fetch::DatasetFetchOptions::FromEnvironment(datasets_dir), log);
      options.train_path = splits.train;
      options.validation_path = splits.validation;
      options.test_path = splits.test;
      options.format = "csv";
      log("info", "dataset " + spec.dataset().name() + " from " +
                      std::filesystem::path(splits.train).parent_path().string());
    }
    if (options.task == "causal_lm") {
      absl::StatusOr<train::ChatRenderer> renderer = ChatRendererFor(options.model);
      if (!renderer.ok()) {
        return absl::Status(renderer.status().code(),
                            "model: " + std::string(renderer.status().message()));
      }
      options.chat_renderer = *std::move(renderer);
    }
  } catch (const fetch::HubError& e) {
    return absl::FailedPreconditionError(e.what());
  } catch (const std::exception& e) {
    return absl::UnavailableError(std::string("fetching the job's inputs: ") + e.what());
  }
  return absl::OkStatus();
}

std::string DefaultDatasetsDir(const std::string& token_cache_dir) {
  const std::filesystem::path tokens(token_cache_dir);
  if (!token_cache_dir.empty() && tokens.filename() == "tokens") {
    return (tokens.parent_path() / "datasets").string();
  }
  return DefaultFtHome() + "/cache/datasets";
}

}  // namespace ft::worker
