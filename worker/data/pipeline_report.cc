#include "worker/data/pipeline_report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace ft::train {

double PaddingFraction(int64_t tokens, int64_t slots) {
  return slots > 0 ? static_cast<double>(slots - tokens) / static_cast<double>(slots) : 0.0;
}

std::string DescribePadding(const PipelineReport& report) {
  char line[256];
  std::snprintf(line, sizeof(line), "padding: %.1f %% of the %lld token slots computed",
                100.0 * PaddingFraction(report.tokens, report.padded_slots),
                static_cast<long long>(report.padded_slots));
  std::string text = line;
  if (!report.packing) return text;
  std::snprintf(line, sizeof(line),
                "; packing saved %.1f %% of the slots (%.1f %% padding without it, %lld slots)",
                report.unpacked_padded_slots > 0
                    ? 100.0 * static_cast<double>(report.unpacked_padded_slots -
                                                  report.padded_slots) /
                          static_cast<double>(report.unpacked_padded_slots)
                    : 0.0,
                100.0 * PaddingFraction(report.tokens, report.unpacked_padded_slots),
                static_cast<long long>(report.unpacked_padded_slots));
  return text + line;
}

std::string MicroBatchChoice::Describe() const {
  char line[512];
  std::snprintf(line, sizeof(line),
                "micro-batch %lld x accumulation %lld = effective batch %lld",
                static_cast<long long>(micro_batch_size),
                static_cast<long long>(accumulation_steps),
                static_cast<long long>(effective_batch_size));
  std::string text = line;
  if (!automatic) return text;
  std::string tried;
  for (const MicroBatchProbe& probe : probes) {
    char item[96];
    std::snprintf(item, sizeof(item), "%s%lld: %.1f MB%s%s", tried.empty() ? "" : ", ",
                  static_cast<long long>(probe.micro_batch_size), probe.peak_mb,
                  probe.measured ? "" : " predicted", probe.fits ? "" : " (over)");
    tried += item;
  }
  std::snprintf(line, sizeof(line),
                " (auto: largest that fits %.0f MB (%s) at the longest sequence, %lld tokens; "
                "%s)",
                budget_mb, budget_source.c_str(), static_cast<long long>(longest_sequence),
                method.c_str());
  text += line;
  if (!tried.empty()) text += "; probes " + tried;
  if (!note.empty()) text += "; " + note;
  return text;
}

std::string PipelineReportJson(const PipelineReport& report) {
  using Json = nlohmann::ordered_json;
  Json json;
  const TokenCacheReport& cache = report.token_cache;
  json["token_cache"] = {{"dir", cache.dir},
                         {"hits", cache.hits},
                         {"misses", cache.misses},
                         {"written", cache.written},
                         {"warnings", cache.warnings},
                         {"load_seconds", cache.seconds}};
  const MicroBatchChoice& choice = report.micro_batch;
  Json batch = {{"auto", choice.automatic},
                {"micro_batch_size", choice.micro_batch_size},
                {"accumulation_steps", choice.accumulation_steps},
                {"effective_batch_size", choice.effective_batch_size}};
  if (choice.automatic) {
    batch["longest_sequence"] = choice.longest_sequence;
    batch["limit"] = choice.limit;
    batch["budget_mb"] = choice.budget_mb;
    batch["budget_source"] = choice.budget_source;
    batch["method"] = choice.method;
    batch["note"] = choice.note;
    Json probes = Json::array();
    for (const MicroBatchProbe& probe : choice.probes) {
      probes.push_back({{"micro_batch_size", probe.micro_batch_size},
                        {"peak_mb", probe.peak_mb},
                        {"measured", probe.measured},
                        {"fits", probe.fits}});
    }
    batch["probes"] = probes;
  }
  json["micro_batch"] = batch;
  json["group_by_length"] = report.group_by_length;
  json["packing"] = report.packing;
  json["padding"] = {{"tokens", report.tokens},
                     {"slots", report.padded_slots},
                     {"fraction", PaddingFraction(report.tokens, report.padded_slots)},
                     {"unpacked_slots", report.unpacked_padded_slots},
                     {"unpacked_fraction",
                      PaddingFraction(report.tokens, report.unpacked_padded_slots)}};
  json["prefetch"] = {{"depth", report.prefetch_depth},
                      {"wait_seconds", report.prefetch_wait_seconds}};
  json["out_of_memory_retries"] = report.out_of_memory_retries;
  return json.dump();
}

}  // namespace ft::train
