#include "common/spec/batch_geometry.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/spec/spec_limits.h"

namespace ft::spec {
namespace {

std::string Range(const char* field, uint64_t value, uint64_t min, uint64_t max) {
  if (value >= min && value <= max) return "";
  return absl::StrCat("spec.", field, ": must be ", min, "..", max, ", got ", value);
}

}  // namespace

absl::StatusOr<BatchGeometry> ResolveBatchGeometry(const ft::v1::JobSpec& spec) {
  std::vector<std::string> problems;
  const auto add = [&problems](std::string problem) {
    if (!problem.empty()) problems.push_back(std::move(problem));
  };
  const uint64_t micro = spec.micro_batch_size();
  const uint64_t accumulation = spec.accumulation_steps();
  const uint64_t effective = spec.effective_batch_size();
  // A data-parallel job's step takes micro x accumulation examples on each of its ranks.
  const uint64_t ranks = spec.world_size() > 1 ? spec.world_size() : 1;
  const std::string per_rank = ranks > 1 ? absl::StrCat(" x world_size ", ranks) : "";
  BatchGeometry geometry;
  geometry.auto_micro_batch = spec.auto_micro_batch();

  add(Range("micro_batch_size", micro, spec.auto_micro_batch() ? 0 : 1, kMaxMicroBatchSize));
  add(Range("effective_batch_size", effective, 0, kMaxEffectiveBatchSize));
  if (effective == 0) {
    add(Range("accumulation_steps", accumulation, 1, kMaxAccumulationSteps));
    if (accumulation == 0) {
      problems.back() += " (or give effective_batch_size, and accumulation_steps is derived)";
    }
    if (spec.auto_micro_batch() && micro == 0) {
      add("spec.auto_micro_batch: needs spec.effective_batch_size (or spec.micro_batch_size and "
          "spec.accumulation_steps, whose product is the effective batch)");
    }
  } else {
    add(Range("accumulation_steps", accumulation, 0, kMaxAccumulationSteps));
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));

  if (effective == 0) {
    geometry.micro_batch_size = static_cast<uint32_t>(micro);
    geometry.accumulation_steps = static_cast<uint32_t>(accumulation);
    geometry.effective_batch_size = micro * accumulation * ranks;
  } else if (accumulation != 0) {
    if (micro * accumulation * ranks != effective) {
      return absl::InvalidArgumentError(absl::StrCat(
          "spec.effective_batch_size (", effective, ") and spec.accumulation_steps (", accumulation,
          ") disagree: spec.micro_batch_size x spec.accumulation_steps", per_rank.empty() ? "" :
          " x spec.world_size", " = ", micro, " x ", accumulation, per_rank.empty() ? "" :
          absl::StrCat(" x ", ranks), " = ", micro * accumulation * ranks,
          "; give only one of them"));
    }
    geometry.micro_batch_size = static_cast<uint32_t>(micro);
    geometry.accumulation_steps = static_cast<uint32_t>(accumulation);
    geometry.effective_batch_size = effective;
  } else if (spec.auto_micro_batch()) {
    geometry.micro_batch_size = static_cast<uint32_t>(micro);
    geometry.effective_batch_size = effective;
  } else {
    if (effective % (micro * ranks) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "spec.effective_batch_size (", effective, ") is not a multiple of spec.micro_batch_size (",
          micro, ")", per_rank, ": accumulation_steps = effective_batch_size / (micro_batch_size",
          per_rank, ") must be a whole number; choose a micro-batch that divides it, or set "
          "auto_micro_batch"));
    }
    const uint64_t derived = effective / (micro * ranks);
    if (derived > kMaxAccumulationSteps) {
      return absl::InvalidArgumentError(absl::StrCat(
          "spec.effective_batch_size (", effective, ") / (spec.micro_batch_size (", micro, ")",
          per_rank, ") = ", derived, " accumulation steps, more than ", kMaxAccumulationSteps));
    }
    geometry.micro_batch_size = static_cast<uint32_t>(micro);
    geometry.accumulation_steps = static_cast<uint32_t>(derived);
    geometry.effective_batch_size = effective;
  }
  if (geometry.auto_micro_batch) geometry.accumulation_steps = 0;
  return geometry;
}

}  // namespace ft::spec
