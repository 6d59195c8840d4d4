#include "worker/daemon/event_conversion.h"

#include "absl/time/clock.h"
#include "common/util/time_util.h"

namespace ft::worker {
namespace {

ft::v1::JobEvent Stamped() {
  ft::v1::JobEvent event;
  *event.mutable_time() = ToProtoTime(absl::Now());
  return event;
}

}  // namespace

ft::v1::JobEvent ProgressEvent(const train::ProgressReport& report) {
  ft::v1::JobEvent event = Stamped();
  ft::v1::TrainingProgress* p = event.mutable_progress();
  p->set_step(report.step);
  p->set_total_steps(report.total_steps);
  p->set_epoch(static_cast<uint32_t>(report.epoch));
  p->set_loss(report.loss);
  p->set_learning_rate(report.learning_rate);
  p->set_samples_per_second(report.samples_per_second);
  p->set_tokens_per_second(report.tokens_per_second);
  p->set_eta_seconds(report.eta_seconds);
  p->set_samples_seen(report.samples_seen);
  p->set_tokens_seen(report.tokens_seen);
  p->set_grad_norm(report.grad_norm);
  p->set_skipped_steps(static_cast<uint64_t>(report.skipped_steps));
  p->set_loss_scale(report.loss_scale);
  p->set_step_seconds(report.step_seconds);
  p->set_device_memory_bytes(report.device_memory_bytes);
  p->set_device_memory_peak_bytes(report.device_memory_peak_bytes);
  p->set_communication_seconds(report.communication_seconds);
  return event;
}

ft::v1::JobEvent CheckpointSavedEvent(const train::CheckpointReport& report) {
  ft::v1::JobEvent event = Stamped();
  ft::v1::CheckpointSaved* c = event.mutable_checkpoint_saved();
  c->set_step(static_cast<uint64_t>(report.step));
  c->set_bytes(report.bytes);
  c->set_seconds(report.seconds);
  return event;
}

ft::v1::JobEvent EvaluationEvent(const train::EvalReport& report) {
  ft::v1::JobEvent event = Stamped();
  ft::v1::Evaluation* e = event.mutable_evaluation();
  e->set_split(report.split);
  e->set_step(report.step);
  e->set_loss(report.loss);
  e->set_accuracy(report.accuracy);
  e->set_examples(report.examples);
  for (const train::ClassMetrics& c : report.classes) {
    ft::v1::ClassMetrics* out = e->add_classes();
    out->set_label(c.label);
    out->set_precision(c.precision);
    out->set_recall(c.recall);
    out->set_f1(c.f1);
    out->set_support(static_cast<uint64_t>(c.support));
    out->set_predicted(static_cast<uint64_t>(c.predicted));
  }
  e->set_macro_f1(report.macro_f1);
  e->set_perplexity(report.perplexity);
  e->set_target_tokens(static_cast<uint64_t>(report.target_tokens));
  for (int64_t count : report.confusion) e->add_confusion(static_cast<uint64_t>(count));
  return event;
}

ft::v1::JobEvent LogEvent(const std::string& level, const std::string& message) {
  ft::v1::JobEvent event = Stamped();
  event.mutable_log()->set_level(level);
  event.mutable_log()->set_message(message);
  return event;
}

}  // namespace ft::worker
