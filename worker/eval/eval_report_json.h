// An EvalReport as JSON and back: used by checkpoint headers (which must round-trip) and
// result.json. Standard library and nlohmann_json only.
#pragma once

#include <nlohmann/json.hpp>

#include "worker/train/train_job.h"

namespace ft::train {

// {"split", "step", "loss", "accuracy", "examples", "macro_f1", "classes": [{"label",
// "precision", "recall", "f1", "support", "predicted"}], "confusion": [[...], ...]}: the confusion
// matrix as one array per true label, each holding the counts per predicted label.
nlohmann::ordered_json EvalReportJson(const EvalReport& report);

// Reads what EvalReportJson wrote; "macro_f1", "classes" and "confusion" may be absent (then
// empty). Throws nlohmann::json::exception for a missing or mistyped required field.
EvalReport EvalReportFromJson(const nlohmann::ordered_json& json);

}  // namespace ft::train
