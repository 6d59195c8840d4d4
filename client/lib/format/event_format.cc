#include "client/lib/format/event_format.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/lib/format/text_util.h"

namespace ft::client {

std::string FormatProgress(const ft::v1::TrainingProgress& p) {
  std::string line = absl::StrCat("step ", p.step());
  if (p.total_steps() > 0) absl::StrAppend(&line, "/", p.total_steps());
  if (p.epoch() > 0) absl::StrAppend(&line, " epoch ", p.epoch());
  absl::StrAppendFormat(&line, " loss %.4f lr %.2e", p.loss(), p.learning_rate());
  absl::StrAppendFormat(&line, " %.1f samples/s %.0f tokens/s", p.samples_per_second(),
                        p.tokens_per_second());
  if (std::isfinite(p.eta_seconds()) && p.eta_seconds() >= 0) {
    absl::StrAppend(&line, " eta ", FormatDuration(p.eta_seconds()));
  }
  return line;
}

std::string FormatEvaluation(const ft::v1::Evaluation& e) {
  if (e.target_tokens() > 0) {  // a causal LM: per target token
    return absl::StrFormat("%s: perplexity %.3f token accuracy %.2f%% loss %.4f (%d examples, %d "
                           "target tokens)",
                           e.split(), e.perplexity(), 100.0 * e.accuracy(), e.loss(),
                           e.examples(), e.target_tokens());
  }
  std::string line = absl::StrFormat("%s: accuracy %.2f%%", e.split(), 100.0 * e.accuracy());
  // Evaluations of older workers have no per-class metrics, hence no macro-F1.
  if (e.classes_size() > 0) absl::StrAppendFormat(&line, " macro-F1 %.4f", e.macro_f1());
  absl::StrAppendFormat(&line, " loss %.4f (%d examples)", e.loss(), e.examples());
  return line;
}

std::string FormatStateChange(const ft::v1::StateChange& change) {
  std::string line = change.from() == ft::v1::JOB_STATE_UNSPECIFIED
                         ? StateName(change.to())
                         : absl::StrCat(StateName(change.from()), " -> ", StateName(change.to()));
  if (!change.reason().empty()) absl::StrAppend(&line, ": ", change.reason());
  return line;
}

std::string FormatEventLine(const ft::v1::JobEvent& event) {
  std::string line = absl::StrCat("[", event.job_id(), " #", event.seq(), "] ");
  switch (event.kind_case()) {
    case ft::v1::JobEvent::kStateChange:
      absl::StrAppend(&line, "state ", FormatStateChange(event.state_change()));
      break;
    case ft::v1::JobEvent::kProgress:
      absl::StrAppend(&line, FormatProgress(event.progress()));
      break;
    case ft::v1::JobEvent::kEvaluation:
      absl::StrAppend(&line, "eval ", FormatEvaluation(event.evaluation()));
      break;
    case ft::v1::JobEvent::kLog:
      absl::StrAppend(&line, "log ", event.log().level().empty() ? "info" : event.log().level(),
                      ": ", event.log().message());
      break;
    case ft::v1::JobEvent::kCheckpointSaved:
      absl::StrAppendFormat(&line, "checkpoint at step %d (%.1f MB, %.2f s)",
                            event.checkpoint_saved().step(),
                            static_cast<double>(event.checkpoint_saved().bytes()) / 1e6,
                            event.checkpoint_saved().seconds());
      break;
    default:
      absl::StrAppend(&line, "(unknown event)");
      break;
  }
  return line;
}

}  // namespace ft::client
