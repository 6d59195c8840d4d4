#include "worker/checkpoint/checkpoint_header.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "worker/eval/eval_report_json.h"
#include "worker/train/train_option_fields.h"

namespace ft::train {
namespace {

using Json = nlohmann::ordered_json;

// FNV-1a over 64-bit words: a cheap content hash, not a cryptographic one.
class Fnv1a64 {
 public:
  void Add(uint64_t word) {
    for (int byte = 0; byte < 8; ++byte) {
      hash_ ^= (word >> (8 * byte)) & 0xFF;
      hash_ *= 0x100000001B3ULL;
    }
  }
  std::string Hex() const {
    char text[17];
    std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash_));
    return text;
  }

 private:
  uint64_t hash_ = 0xCBF29CE484222325ULL;
};

std::string TrainDataHash(const TokenizedSplit& split) {
  Fnv1a64 hash;
  hash.Add(split.size());
  for (std::size_t i = 0; i < split.size(); ++i) {
    if (!split.causal_lm()) hash.Add(static_cast<uint64_t>(split.labels[i]));
    hash.Add(split.input_ids[i].size());
    for (int64_t id : split.input_ids[i]) hash.Add(static_cast<uint64_t>(id));
    if (split.causal_lm()) {
      for (int64_t target : split.target_mask[i]) hash.Add(static_cast<uint64_t>(target));
    }
  }
  return hash.Hex();
}

}  // namespace

std::string CheckpointHeaderJson(const CheckpointHeader& header) {
  Json json;
  json["format_version"] = header.format_version;
  json["step"] = header.step;
  json["epoch"] = header.epoch;
  json["window_index"] = header.window_index;
  json["total_steps"] = header.total_steps;
  json["model"] = header.model;
  json["micro_batch_size"] = header.micro_batch_size;
  json["accumulation_steps"] = header.accumulation_steps;
  json["seed"] = header.seed;
  Json fingerprint = Json::object();
  for (const auto& [field, value] : header.fingerprint) fingerprint[field] = Json::parse(value);
  json["fingerprint"] = fingerprint;
  json["progress"] = {{"samples_seen", header.samples_seen},
                      {"tokens_seen", header.tokens_seen},
                      {"train_seconds", header.train_seconds},
                      {"eval_seconds", header.eval_seconds},
                      {"interval_samples", header.interval_samples},
                      {"interval_tokens", header.interval_tokens},
                      {"interval_loss_terms", header.interval_loss_terms},
                      {"interval_step_seconds", header.interval_step_seconds},
                      {"last_validation_step", header.last_validation_step}};
  Json evaluations = Json::array();
  for (const EvalReport& report : header.evaluations) evaluations.push_back(EvalReportJson(report));
  json["evaluations"] = evaluations;
  const ValidationTrackerState& tracking = header.validation_tracking;
  json["validation_tracking"] = {{"best_step", tracking.best_step},
                                 {"best_value", tracking.best_value},
                                 {"best_evaluation", EvalReportJson(tracking.best_report)},
                                 {"bad_evaluations", tracking.bad_evaluations},
                                 {"stopped_at_step", tracking.stopped_at_step}};
  json["checkpoints_written"] = header.checkpoints_written;
  json["runtime"] = {{"threads", header.threads},
                     {"cpu_replicas", header.cpu_replicas},
                     {"device", header.device},
                     {"libtorch", header.libtorch_version}};
  return json.dump(2) + "\n";
}

CheckpointHeader ParseCheckpointHeader(const std::string& text) {
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("format_version") ||
      !json["format_version"].is_number_integer()) {
    throw std::runtime_error("header.json is not a checkpoint header");
  }
  CheckpointHeader header;
  header.format_version = json["format_version"].get<int>();
  if (header.format_version != kCheckpointFormatVersion) return header;
  try {
    header.step = json.at("step").get<int64_t>();
    header.epoch = json.at("epoch").get<int64_t>();
    header.window_index = json.at("window_index").get<int64_t>();
    header.total_steps = json.at("total_steps").get<int64_t>();
    header.model = json.at("model").get<std::string>();
    header.micro_batch_size = json.at("micro_batch_size").get<int64_t>();
    header.accumulation_steps = json.at("accumulation_steps").get<int64_t>();
    header.seed = json.at("seed").get<uint64_t>();
    for (const auto& [field, value] : json.at("fingerprint").items()) {
      header.fingerprint.emplace_back(field, value.dump());
    }
    const Json& progress = json.at("progress");
    header.samples_seen = progress.at("samples_seen").get<int64_t>();
    header.tokens_seen = progress.at("tokens_seen").get<int64_t>();
    header.train_seconds = progress.at("train_seconds").get<double>();
    header.eval_seconds = progress.at("eval_seconds").get<double>();
    header.interval_samples = progress.at("interval_samples").get<int64_t>();
    header.interval_tokens = progress.at("interval_tokens").get<int64_t>();
    header.interval_loss_terms = progress.value("interval_loss_terms", int64_t{-1});
    header.interval_step_seconds = progress.at("interval_step_seconds").get<std::vector<double>>();
    header.last_validation_step = progress.at("last_validation_step").get<int64_t>();
    for (const Json& report : json.at("evaluations")) {
      header.evaluations.push_back(EvalReportFromJson(report));
    }
    if (json.contains("validation_tracking")) {  // absent in checkpoints of earlier builds
      const Json& tracking = json.at("validation_tracking");
      ValidationTrackerState& state = header.validation_tracking;
      state.best_step = tracking.at("best_step").get<int64_t>();
      state.best_value = tracking.at("best_value").get<double>();
      state.best_report = EvalReportFromJson(tracking.at("best_evaluation"));
      state.bad_evaluations = tracking.at("bad_evaluations").get<int64_t>();
      state.stopped_at_step = tracking.at("stopped_at_step").get<int64_t>();
    }
    header.checkpoints_written = json.at("checkpoints_written").get<int64_t>();
    const Json& runtime = json.at("runtime");
    header.threads = runtime.at("threads").get<int>();
    header.cpu_replicas = runtime.value("cpu_replicas", 1);
    header.device = runtime.at("device").get<std::string>();
    header.libtorch_version = runtime.at("libtorch").get<std::string>();
  } catch (const Json::exception& error) {
    throw std::runtime_error("header.json is incomplete: " + std::string(error.what()));
  }
  if (header.step < 0 || header.epoch < 1 || header.window_index < 0) {
    throw std::runtime_error("header.json holds an impossible position");
  }
  return header;
}

Fingerprint ResumeFingerprint(const TrainOptions& options, const JobData& data) {
  const auto text = [](const Json& value) { return value.dump(); };
  Fingerprint fingerprint;
  for (const TrainOptionField& field : kTrainOptionFields) {
    if (!InFingerprint(options, field)) continue;
    VisitOption(options, field,
                [&](const auto& value) { fingerprint.emplace_back(field.name, text(value)); });
  }
  fingerprint.emplace_back("labels", text(data.label_names));
  fingerprint.emplace_back("train_examples", text(data.train.size()));
  fingerprint.emplace_back("train_data_hash", text(TrainDataHash(data.train)));
  // A gang resumes bit-identically only with as many ranks (worker/distributed).
  if (options.distributed.world_size > 1) {
    fingerprint.emplace_back("world_size", text(options.distributed.world_size));
  }
  if (options.lora.enabled) {
    for (const auto& [field, value] : options.lora.Fields()) {
      fingerprint.emplace_back("lora." + field, value);
    }
  }
  return fingerprint;
}

void ExpectSameFingerprint(const Fingerprint& checkpoint, const Fingerprint& current) {
  for (const auto& [field, value] : current) {
    const auto saved =
        std::find_if(checkpoint.begin(), checkpoint.end(),
                     [&field = field](const auto& item) { return item.first == field; });
    if (saved == checkpoint.end()) {
      throw FingerprintMismatch(field + " is not recorded in the checkpoint");
    }
    if (saved->second != value) {
      throw FingerprintMismatch(field + " is " + value + " but the checkpoint was written with " +
                                saved->second);
    }
  }
  for (const auto& [field, value] : checkpoint) {
    const auto known =
        std::find_if(current.begin(), current.end(),
                     [&field = field](const auto& item) { return item.first == field; });
    if (known == current.end()) {
      throw FingerprintMismatch("the checkpoint records an unknown field " + field);
    }
  }
}

}  // namespace ft::train
