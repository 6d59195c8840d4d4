#include "client/lib/format/job_format.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/lib/format/class_metrics_format.h"
#include "client/lib/format/event_format.h"
#include "client/lib/format/text_util.h"
#include "common/util/time_util.h"
#include "google/protobuf/util/json_util.h"

namespace ft::client {
namespace {

bool HasTime(const google::protobuf::Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

std::string Percent(double fraction) { return absl::StrFormat("%.2f%%", 100.0 * fraction); }

std::string StepOfTotal(const ft::v1::Job& job) {
  if (!job.has_progress()) return "-";
  const auto& p = job.progress();
  if (p.total_steps() == 0) return absl::StrCat(p.step());
  return absl::StrCat(p.step(), "/", p.total_steps());
}

std::string TimeLine(const google::protobuf::Timestamp& t, absl::Time now, absl::TimeZone zone) {
  const absl::Time time = FromProtoTime(t);
  return absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M:%S %Z", time, zone), " (",
                      FormatAge(now - time), " ago)");
}

class Summary {
 public:
  void Add(const std::string& key, const std::string& value) {
    absl::StrAppendFormat(&text_, "%-12s %s\n", key, value);
  }
  void More(const std::string& value) { Add("", value); }
  // Each line of a multi-line text (a table) as its own indented line.
  void MoreLines(const std::string& text) {
    for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      More(std::string(line));
    }
  }
  std::string text() && { return std::move(text_); }

 private:
  std::string text_;
};

// "micro-batch 8 x accumulation 4 = effective batch 32"; with auto_micro_batch the worker picks
// the micro-batch (up to the limit given) and derives the accumulation.
std::string BatchLine(const ft::v1::JobSpec& spec) {
  const uint64_t effective =
      spec.effective_batch_size() != 0
          ? spec.effective_batch_size()
          : static_cast<uint64_t>(spec.micro_batch_size()) * spec.accumulation_steps();
  std::string line;
  if (spec.auto_micro_batch()) {
    line = absl::StrFormat("effective batch %d, micro-batch picked by the worker", effective);
    if (spec.micro_batch_size() > 0) absl::StrAppend(&line, " (at most ", spec.micro_batch_size(), ")");
  } else {
    const uint64_t accumulation = spec.accumulation_steps() != 0
                                      ? spec.accumulation_steps()
                                      : effective / std::max<uint64_t>(1, spec.micro_batch_size());
    line = absl::StrFormat("micro-batch %d x accumulation %d = effective batch %d",
                           spec.micro_batch_size(), accumulation, effective);
  }
  if (spec.group_by_length()) absl::StrAppend(&line, ", grouped by length");
  if (spec.world_size() > 1) {
    absl::StrAppend(&line, ", split over ", spec.world_size(), " data-parallel workers");
  }
  return line;
}

std::string DatasetLine(const ft::v1::DatasetSpec& d) {
  std::string line = absl::StrCat("train ", d.train());
  const std::string format = d.format().empty() ? "inferred" : d.format();
  absl::StrAppend(&line, " (format ", format, ", text column \"", d.text_column(),
                  "\", label column \"", d.label_column(), "\")");
  return line;
}

std::string TrainingLine(const ft::v1::JobSpec& s) {
  std::string line = absl::StrFormat("epochs %d, lr %.2e, %s", s.epochs(), s.learning_rate(),
                                     s.optimizer().empty() ? "adamw" : s.optimizer());
  if (s.max_seq_length() > 0) absl::StrAppend(&line, ", max seq length ", s.max_seq_length());
  absl::StrAppend(&line, ", seed ", s.seed());
  if (s.max_steps() > 0) absl::StrAppend(&line, ", max steps ", s.max_steps());
  if (s.warmup_steps() > 0) absl::StrAppend(&line, ", warmup ", s.warmup_steps(), " steps");
  if (s.weight_decay() > 0) absl::StrAppendFormat(&line, ", weight decay %g", s.weight_decay());
  if (s.max_grad_norm() > 0) absl::StrAppendFormat(&line, ", clip grad norm %g", s.max_grad_norm());
  if (!s.lr_scheduler().empty()) absl::StrAppend(&line, ", ", s.lr_scheduler(), " schedule");
  if (s.model_dropout() == "off") absl::StrAppend(&line, ", no model dropout");
  if (s.label_smoothing() > 0) {
    absl::StrAppendFormat(&line, ", label smoothing %g", s.label_smoothing());
  }
  if (s.early_stopping_patience() > 0) {
    absl::StrAppend(&line, ", early stopping on validation ", s.early_stopping_metric(),
                    " (patience ", s.early_stopping_patience(), ")");
  }
  if (s.keep_best_model()) {
    absl::StrAppend(&line, ", keeps the best model by validation ", s.early_stopping_metric());
  }
  return line;
}

google::protobuf::util::JsonPrintOptions JsonOptions() {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  options.add_whitespace = true;
  return options;
}

}  // namespace

const ft::v1::Evaluation* LatestEvaluation(const ft::v1::Job& job, const std::string& split) {
  const ft::v1::Evaluation* latest = nullptr;
  for (const auto& e : job.evaluations()) {
    if (e.split() == split && (latest == nullptr || e.step() >= latest->step())) latest = &e;
  }
  return latest;
}

std::string FormatJobTable(const std::vector<ft::v1::Job>& jobs, absl::Time now,
                           const Palette& palette) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(jobs.size());
  for (const auto& job : jobs) {
    const ft::v1::Evaluation* val = LatestEvaluation(job, "validation");
    std::string state = palette.State(job.state());
    if (job.spec().world_size() > 1) absl::StrAppend(&state, " x", job.spec().world_size());
    rows.push_back(
        {job.id(), state, job.spec().model(), StepOfTotal(job),
         job.has_progress() ? absl::StrFormat("%.4f", job.progress().loss()) : "-",
         val != nullptr ? Percent(val->accuracy()) : "-",
         HasTime(job.create_time()) ? FormatAge(now - FromProtoTime(job.create_time())) : "-"});
  }
  return RenderTable({"ID", "STATE", "MODEL", "STEP/TOTAL", "LOSS", "VAL ACC", "AGE"}, rows);
}

std::string FormatJobSummary(const ft::v1::Job& job, absl::Time now, absl::TimeZone zone,
                             const Palette& palette) {
  const ft::v1::JobSpec& spec = job.spec();
  Summary s;
  s.Add("Job", spec.display_name().empty()
                   ? job.id()
                   : absl::StrCat(job.id(), " (", spec.display_name(), ")"));
  std::string state = palette.State(job.state());
  if (job.attempt() > 0) absl::StrAppend(&state, ", attempt ", job.attempt());
  if (!job.worker_id().empty()) {
    absl::StrAppend(&state, spec.world_size() > 1 ? ", rank 0 on worker " : ", worker ",
                    job.worker_id());
  }
  s.Add("State", state);
  if (job.state() == ft::v1::QUEUED && !job.waiting_reason().empty()) {
    s.Add("Waiting", job.waiting_reason());
  }
  s.Add("Model", spec.model());
  const ft::v1::DatasetSpec& data = spec.dataset();
  s.Add("Dataset", DatasetLine(data));
  if (!data.validation().empty()) {
    s.More(absl::StrCat("validation ", data.validation()));
  } else {
    const double fraction = data.validation_fraction() > 0 ? data.validation_fraction() : 0.1;
    s.More(absl::StrFormat("validation: %g%% of train, held out (seeded split)", 100 * fraction));
  }
  s.More(data.test().empty() ? "test: none" : absl::StrCat("test ", data.test()));
  s.Add("Batch", BatchLine(spec));
  s.Add("Training", TrainingLine(spec));
  if (job.has_progress()) {
    const auto& p = job.progress();
    std::string progress = absl::StrCat("step ", StepOfTotal(job));
    if (p.total_steps() > 0) {
      absl::StrAppendFormat(
          &progress, " (%.0f%%)",
          100.0 * static_cast<double>(p.step()) / static_cast<double>(p.total_steps()));
    }
    absl::StrAppendFormat(&progress, ", epoch %d, loss %.4f, %.1f samples/s", p.epoch(), p.loss(),
                          p.samples_per_second());
    if (job.state() == ft::v1::RUNNING) {
      absl::StrAppend(&progress, ", eta ", FormatDuration(p.eta_seconds()));
    }
    s.Add("Progress", progress);
  } else {
    s.Add("Progress", "-");
  }
  if (job.evaluations().empty()) {
    s.Add("Evaluations", "-");
  } else {
    bool first = true;
    for (const auto& e : job.evaluations()) {
      const std::string line = absl::StrCat(FormatEvaluation(e), " at step ", e.step());
      if (first) {
        s.Add("Evaluations", line);
      } else {
        s.More(line);
      }
      first = false;
    }
  }
  for (const auto& e : job.evaluations()) {
    const std::string classes = FormatClassTable(e);
    if (classes.empty()) continue;
    s.Add("Per class", absl::StrCat(e.split(), " at step ", e.step()));
    s.MoreLines(classes);
    const std::string confusion = FormatConfusionMatrix(e);
    if (confusion.empty()) continue;
    s.Add("Confusion", absl::StrCat(e.split(), " (rows: true label, columns: predicted)"));
    s.MoreLines(confusion);
  }
  if (!job.error().empty()) s.Add("Error", job.error());
  if (!job.output_dir().empty()) s.Add("Output", job.output_dir());
  if (!job.request_id().empty()) s.Add("Request id", job.request_id());
  if (HasTime(job.create_time())) s.Add("Created", TimeLine(job.create_time(), now, zone));
  if (HasTime(job.start_time())) s.Add("Started", TimeLine(job.start_time(), now, zone));
  if (HasTime(job.end_time())) s.Add("Ended", TimeLine(job.end_time(), now, zone));
  return std::move(s).text();
}

std::string FormatFinalSummary(const ft::v1::Job& job, const Palette& palette) {
  std::string text = absl::StrCat(job.id(), " ", palette.State(job.state()));
  if (HasTime(job.start_time()) && HasTime(job.end_time())) {
    const absl::Duration took = FromProtoTime(job.end_time()) - FromProtoTime(job.start_time());
    absl::StrAppend(&text, " after ", FormatDuration(absl::ToDoubleSeconds(took)));
  }
  if (job.attempt() > 1) absl::StrAppend(&text, " (attempt ", job.attempt(), ")");
  text += '\n';
  if (!job.error().empty()) {
    absl::StrAppend(&text, palette.Paint(Color::kRed, "error:"), " ", job.error(), "\n");
  }
  for (const char* split : {"validation", "test"}) {
    const ft::v1::Evaluation* e = LatestEvaluation(job, split);
    if (e == nullptr) continue;
    if (e->target_tokens() > 0) {
      absl::StrAppendFormat(&text, "%s perplexity %.3f token accuracy %s", split, e->perplexity(),
                            Percent(e->accuracy()));
    } else {
      absl::StrAppend(&text, split, " accuracy ", Percent(e->accuracy()));
    }
    if (e->classes_size() > 0) absl::StrAppendFormat(&text, " macro-F1 %.4f", e->macro_f1());
    absl::StrAppendFormat(&text, " (loss %.4f, %d examples, step %d)\n", e->loss(), e->examples(),
                          e->step());
  }
  if (job.state() == ft::v1::SUCCEEDED && !job.output_dir().empty()) {
    absl::StrAppend(&text, "output: ", job.output_dir(), "\n");
  }
  return text;
}

absl::StatusOr<std::string> JobToJson(const ft::v1::Job& job) {
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(job, &json, JsonOptions());
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot print job as JSON: ", status.ToString()));
  }
  while (!json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

absl::StatusOr<std::string> JobsToJson(const std::vector<ft::v1::Job>& jobs) {
  if (jobs.empty()) return std::string("[]");
  std::string out = "[\n";
  for (size_t i = 0; i < jobs.size(); ++i) {
    absl::StatusOr<std::string> json = JobToJson(jobs[i]);
    if (!json.ok()) return json.status();
    // Indent the object by two spaces inside the array.
    absl::StrAppend(&out, "  ", absl::StrReplaceAll(*json, {{"\n", "\n  "}}),
                    i + 1 < jobs.size() ? ",\n" : "\n");
  }
  out += "]";
  return out;
}

}  // namespace ft::client
