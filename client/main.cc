// ftctl: the command-line client of ftd (submit, list, get, cancel and watch finetuning jobs).
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "lib/cancel_token.h"
#include "lib/ftctl_commands.h"
#include "lib/ftd_calls.h"
#include "lib/health_command.h"
#include "lib/plot_command.h"
#include "lib/rpc_errors.h"
#include "lib/text_util.h"
#include "spec/spec_limits.h"

namespace {

using ft::client::OutputFormat;

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0    success (watch: the job SUCCEEDED)\n"
    "  1    the watched job FAILED, or an unexpected error\n"
    "  2    bad usage or request (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION)\n"
    "  3    ftd unreachable (UNAVAILABLE, DEADLINE_EXCEEDED)\n"
    "  4    the watched job was CANCELLED\n"
    "  130  interrupted with Ctrl-C while watching (the job goes on)\n";

std::string DefaultServer() {
  if (const char* server = std::getenv("FT_SERVER"); server != nullptr && *server != '\0') {
    return server;
  }
  return "127.0.0.1:50051";
}

int TerminalWidth() {
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

bool StdoutIsLiveTerminal() {
  const char* term = std::getenv("TERM");
  return isatty(STDOUT_FILENO) == 1 && (term == nullptr || std::strcmp(term, "dumb") != 0);
}

// A flag whose value lands in `target` only when given, so that -f values are kept otherwise.
template <typename T>
CLI::Option* AddSpecOption(CLI::App* app, const std::string& name, std::optional<T>& target,
                           const std::string& help, const std::string& type_name) {
  return app
      ->add_option_function<T>(
          name, [&target](const T& value) { target = value; }, help)
      ->type_name(type_name);
}

void AddSpecOptions(CLI::App* submit, ft::client::SpecFlags& f) {
  namespace limits = ft::spec;
  const std::string data = "Dataset";
  AddSpecOption(submit, "--model", f.model,
                "model to finetune: scratch:bloom-tiny, or a local Hugging Face BLOOM folder "
                "(config.json + model.safetensors)",
                "NAME|DIR");
  AddSpecOption(submit, "--train", f.train,
                "training examples: a CSV, TSV or JSONL file, or an aclImdb-style folder", "PATH")
      ->group(data);
  AddSpecOption(submit, "--validation", f.validation,
                "validation examples (default: a seeded split of --train)", "PATH")
      ->group(data);
  AddSpecOption(submit, "--test", f.test, "test examples, evaluated at the end (default: none)",
                "PATH")
      ->group(data);
  AddSpecOption(submit, "--format", f.format, "file format (default: from the file name)", "FMT")
      ->check(CLI::IsMember({"csv", "tsv", "jsonl", "aclimdb"}))
      ->group(data);
  AddSpecOption(submit, "--text-column", f.text_column, "column with the text (default: text)",
                "COL")
      ->group(data);
  AddSpecOption(submit, "--label-column", f.label_column, "column with the label (default: label)",
                "COL")
      ->group(data);
  AddSpecOption(submit, "--validation-fraction", f.validation_fraction,
                absl::StrCat("share of --train held out when there is no --validation (default ",
                             limits::kDefaultValidationFraction, ")"),
                "F")
      ->group(data);

  const std::string batch = "Batching and schedule";
  AddSpecOption(submit, "--micro-batch-size", f.micro_batch_size,
                absl::StrCat("examples per forward/backward pass, 1..", limits::kMaxMicroBatchSize,
                             " (default ", ft::client::kDefaultMicroBatchSize, ")"),
                "N")
      ->group(batch);
  AddSpecOption(submit, "--accumulation-steps", f.accumulation_steps,
                absl::StrCat("micro-batches per optimizer step, 1..", limits::kMaxAccumulationSteps,
                             " (default ", ft::client::kDefaultAccumulationSteps,
                             "); effective batch = micro-batch-size x accumulation-steps"),
                "K")
      ->group(batch);
  AddSpecOption(submit, "--epochs", f.epochs,
                absl::StrCat("passes over --train, 1..", limits::kMaxEpochs, " (default ",
                             ft::client::kDefaultEpochs, ")"),
                "E")
      ->group(batch);
  AddSpecOption(submit, "--max-steps", f.max_steps, "stop after N optimizer steps (default: none)",
                "N")
      ->group(batch);
  AddSpecOption(submit, "--max-seq-length", f.max_seq_length,
                absl::StrCat("tokens per example after truncation, 1..", limits::kMaxSeqLength,
                             " (default ", limits::kDefaultMaxSeqLength, ")"),
                "L")
      ->group(batch);
  AddSpecOption(submit, "--seed", f.seed, "seed for data order, split and initial weights", "S")
      ->group(batch);
  AddSpecOption(submit, "--effective-batch-size", f.effective_batch_size,
                absl::StrCat("examples per optimizer step, 1..", limits::kMaxEffectiveBatchSize,
                             ", instead of --accumulation-steps (= effective / micro-batch, which "
                             "must divide it)"),
                "B")
      ->group(batch);
  submit
      ->add_flag_function(
          "--auto-micro-batch", [&f](int64_t count) { f.auto_micro_batch = count > 0; },
          "the worker picks the largest micro-batch (up to --micro-batch-size if given) whose "
          "pass on the longest sequence fits its memory budget; needs --effective-batch-size")
      ->group(batch);
  submit
      ->add_flag_function(
          "--group-by-length", [&f](int64_t count) { f.group_by_length = count > 0; },
          "windows of similar-length examples in random order: less padding, same exactness")
      ->group(batch);

  const std::string optim = "Optimizer";
  AddSpecOption(submit, "--lr", f.learning_rate,
                absl::StrCat("peak learning rate, up to ", limits::kMaxLearningRate, " (default ",
                             limits::kDefaultScratchLearningRate, " for scratch models)"),
                "X")
      ->group(optim);
  AddSpecOption(submit, "--optimizer", f.optimizer, "adamw (default) or sgd", "NAME")
      ->check(CLI::IsMember({"adamw", "sgd"}))
      ->group(optim);
  AddSpecOption(submit, "--weight-decay", f.weight_decay,
                "AdamW decoupled weight decay, 0..1 (default 0)", "W")
      ->group(optim);
  AddSpecOption(submit, "--max-grad-norm", f.max_grad_norm,
                "clip the global gradient norm to G (default 0: no clipping)", "G")
      ->group(optim);
  AddSpecOption(submit, "--warmup-steps", f.warmup_steps,
                "linear warmup steps, then the --lr-scheduler (default 0: no warmup)", "N")
      ->group(optim);
  AddSpecOption(submit, "--lr-scheduler", f.lr_scheduler,
                "after the warmup: linear (default, decays to 0 at the last step), cosine "
                "(half a cosine down to 0) or constant",
                "NAME")
      ->check(CLI::IsMember({"linear", "cosine", "constant"}))
      ->group(optim);
  AddSpecOption(submit, "--label-smoothing", f.label_smoothing,
                "label smoothing of the training loss, 0..<1 (default 0), as PyTorch's "
                "CrossEntropyLoss(label_smoothing=)",
                "S")
      ->group(optim);
  AddSpecOption(submit, "--precision", f.precision,
                "fp32 (default), bf16 (bfloat16 autocast for the forward pass; float32 "
                "weights, gradients and optimizer) or fp16 (float16 autocast with dynamic loss "
                "scaling; CUDA only)",
                "P")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}))
      ->group(optim);
  submit
      ->add_flag_function(
          "--activation-checkpointing",
          [&f](int64_t) { f.activation_checkpointing = true; },
          "recompute each block's activations in the backward pass: less memory, about one "
          "more forward per step")
      ->group(optim);
  AddSpecOption(submit, "--checkpoint-every-steps", f.checkpoint_every_steps,
                "checkpoint every N optimizer steps (default 0: every 100) and at each epoch "
                "end; a re-queued job resumes from the newest one",
                "N")
      ->group(optim);

  const std::string report = "Reporting and evaluation";
  AddSpecOption(submit, "--log-every-steps", f.log_every_steps,
                absl::StrCat("a progress event every N optimizer steps (default ",
                             limits::kDefaultLogEverySteps, ")"),
                "N")
      ->group(report);
  AddSpecOption(submit, "--eval-every-steps", f.eval_every_steps,
                "evaluate on validation every N optimizer steps (default: once per epoch)", "N")
      ->group(report);
  AddSpecOption(submit, "--max-eval-examples", f.max_eval_examples,
                "evaluate on at most N examples per split (default: all)", "N")
      ->group(report);
  AddSpecOption(submit, "--early-stopping-patience", f.early_stopping_patience,
                absl::StrCat("stop when the validation metric has not improved for N consecutive "
                             "evaluations, 0..",
                             limits::kMaxEarlyStoppingPatience, " (default 0: never)"),
                "N")
      ->group(report);
  AddSpecOption(submit, "--early-stopping-metric", f.early_stopping_metric,
                "validation metric for early stopping and --keep-best-model: accuracy (default), "
                "loss or macro_f1",
                "METRIC")
      ->check(CLI::IsMember({"accuracy", "loss", "macro_f1"}))
      ->group(report);
  submit
      ->add_flag_function(
          "--keep-best-model,!--no-keep-best-model",
          [&f](int64_t count) { f.keep_best_model = count > 0; },
          "export the weights of the best validation evaluation instead of the last; test "
          "metrics are then those of the best weights")
      ->group(report);
  AddSpecOption(submit, "--name", f.display_name, "free text shown by ftctl", "TEXT")
      ->group(report);
}

CLI::Option* AddOutputOption(CLI::App* app, std::string& output) {
  return app->add_option("-o,--output", output, "table or json (protobuf JSON mapping)")
      ->check(CLI::IsMember({"table", "json"}))
      ->type_name("FORMAT")
      ->capture_default_str();
}

OutputFormat ToFormat(const std::string& output) {
  return output == "json" ? OutputFormat::kJson : OutputFormat::kTable;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = DefaultServer();
  double timeout_seconds = 10;

  CLI::App app{"ftctl: submit, list, inspect, cancel and watch finetuning jobs on ftd."};
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(
      absl::StrCat("\nExample:\n  ftctl submit --model scratch:bloom-tiny --train "
                   "sms_spam.csv --micro-batch-size 16 --accumulation-steps 2 "
                   "--epochs 3 --watch\n\n",
                   kExitCodes));
  app.add_option("--server", server,
                 "ftd address HOST:PORT (default: $FT_SERVER, else "
                 "127.0.0.1:50051)")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  app.add_option("--timeout", timeout_seconds, "deadline of each call except watch streams")
      ->type_name("SECONDS")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  // submit
  ft::client::SubmitArgs submit_args;
  CLI::App* submit = app.add_subcommand(
      "submit",
      "Submit a finetuning job and print its id (alone on stdout, for scripts). Relative dataset "
      "paths are resolved against the current folder. Flags override the fields of -f FILE.");
  submit
      ->add_option("-f,--file", submit_args.spec_file,
                   "JobSpec in protobuf JSON (\"-\": stdin), e.g. {\"model\": "
                   "\"scratch:bloom-tiny\", \"dataset\": {\"train\": \"a.csv\"}, "
                   "\"micro_batch_size\": 16}")
      ->type_name("JOB.json");
  AddSpecOptions(submit, submit_args.flags);
  submit
      ->add_option("--request-id", submit_args.request_id,
                   "idempotency key: resubmitting it returns the job created the first time "
                   "(default: a random one, reused by the automatic retry)")
      ->type_name("ID");
  submit->add_flag("--watch", submit_args.watch,
                   "follow the job like `ftctl watch` (exit codes too)");
  submit->footer(
      "\nExamples:\n"
      "  ftctl submit --model scratch:bloom-tiny --train data/sms_spam.csv "
      "--micro-batch-size 16 \\\n"
      "      --accumulation-steps 4 --epochs 2 --lr 5e-4 --name sms-baseline --watch\n"
      "  JOB=$(ftctl submit -f job.json --epochs 5)");

  // list
  ft::client::ListArgs list_args;
  std::vector<std::string> list_states;
  std::string list_output = "table";
  CLI::App* list = app.add_subcommand("list", "List jobs, newest first.");
  list->add_option("--state", list_states,
                   "only jobs in this state (repeatable, or comma-separated): queued, running, "
                   "cancelling, succeeded, failed, cancelled")
      ->delimiter(',')
      ->type_name("STATE")
      ->check(CLI::Validator(
          [](std::string& name) -> std::string {
            return ft::client::ParseState(name) ? "" : "unknown job state '" + name + "'";
          },
          ""));
  list->add_option("--limit", list_args.limit, "show at most N jobs (0: all)")
      ->type_name("N")
      ->capture_default_str();
  AddOutputOption(list, list_output);
  list->footer("\nExamples:\n  ftctl list\n  ftctl list --state running --state queued -o json");

  // get
  ft::client::GetArgs get_args;
  std::string get_output = "table";
  CLI::App* get = app.add_subcommand(
      "get", "Show one job: state, spec, effective batch, progress, evaluations, error, output.");
  get->add_option("ID", get_args.job_id, "job id")->required();
  AddOutputOption(get, get_output);
  get->footer("\nExamples:\n  ftctl get job-3\n  ftctl get job-3 -o json | jq .progress");

  // cancel
  ft::client::CancelArgs cancel_args;
  CLI::App* cancel = app.add_subcommand(
      "cancel",
      "Cancel a job (a queued one at once, a running one within seconds) and print "
      "its new state. Fails with FAILED_PRECONDITION when it has already ended.");
  cancel->add_option("ID", cancel_args.job_id, "job id")->required();
  cancel->add_option("--reason", cancel_args.reason, "why, stored with the job")->type_name("TEXT");
  cancel->footer("\nExample:\n  ftctl cancel job-3 --reason \"wrong dataset\"");

  // watch
  ft::client::WatchArgs watch_args;
  CLI::App* watch = app.add_subcommand(
      "watch",
      "Follow a job's events until it ends: on a terminal a live progress line, otherwise one "
      "line per event. Reconnects (for up to ~30 s) if the connection to ftd breaks. Prints the "
      "final state, error and validation/test accuracy at the end.");
  watch->add_option("ID", watch_args.job_id, "job id")->required();
  watch
      ->add_option("--after-seq", watch_args.after_seq,
                   "show only events after this sequence number (0: from the start)")
      ->type_name("N")
      ->capture_default_str();
  watch->footer(absl::StrCat(
      "\nExample:\n  ftctl watch job-3 && echo trained\n\n"
      "Exit codes: 0 the job SUCCEEDED, 1 FAILED, 4 CANCELLED, 130 Ctrl-C (the job goes on);\n"
      "2 and 3 as for the other verbs (unknown job, ftd unreachable).\n"));

  // plot
  ft::client::PlotArgs plot_args;
  std::string plot_x = "step";
  CLI::App* plot = app.add_subcommand(
      "plot",
      "Draw jobs' training loss and validation accuracy into one SVG file: two panels, one "
      "line per job, the final validation/test accuracy in the legend. Jobs are read from ftd "
      "(a running one as far as it got); --from-events reads the events.jsonl that ftd leaves "
      "in a finished job's folder, without ftd.");
  plot->add_option("ID", plot_args.job_ids, "job ids")->type_name("ID");
  plot->add_option("--from-events", plot_args.event_files,
                   "a job's events.jsonl (repeatable); result.json beside it names the batch shape")
      ->type_name("FILE.jsonl");
  plot->add_option("--out", plot_args.out, "the SVG file to write (\"-\": stdout)")
      ->type_name("FILE.svg")
      ->required();
  plot->add_option("--x", plot_x,
                   "x axis: step (optimizer steps) or examples (training examples seen, to "
                   "compare jobs with different batch sizes)")
      ->check(CLI::IsMember({"step", "examples"}))
      ->type_name("AXIS")
      ->capture_default_str();
  plot->add_option("--title", plot_args.title, "the chart's title")->type_name("TEXT");
  plot->footer(
      "\nExamples:\n  ftctl plot job-3 --out job-3.svg\n"
      "  ftctl plot job-4 job-5 --x examples --title \"1 x 1 vs 1 x 16\" --out compare.svg\n"
      "  ftctl plot --from-events ~/.ftd/jobs/job-3/events.jsonl --out job-3.svg");

  // health
  ft::client::HealthArgs health_args;
  CLI::App* health = app.add_subcommand(
      "health",
      "Ask ftd's grpc.health.v1 service whether it serves: SERVING once its job store answers "
      "and a worker is connected, else NOT_SERVING. Prints the status.");
  health->add_option("--service", health_args.service,
                     "a service name, e.g. ft.v1.FinetuneService (default: the whole server)")
      ->type_name("NAME");
  health->add_flag("--watch", health_args.watch, "print each status change until interrupted");
  health->footer(
      "\nExample:\n  ftctl --server 127.0.0.1:50051 health && echo ready\n\n"
      "Exit codes: 0 SERVING, 1 NOT_SERVING (or UNKNOWN), 2 unknown service, 3 ftd unreachable.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : ft::client::kExitBadRequest;
  }

  ft::client::Console console;
  console.live = StdoutIsLiveTerminal();
  console.terminal_width = TerminalWidth;
  console.glyphs = ft::client::ChooseSparkGlyphs(console.live, std::getenv("LC_ALL"),
                                                 std::getenv("LC_CTYPE"), std::getenv("LANG"));

  // Before gRPC starts its threads, so that they inherit the blocked signals.
  ft::client::CancelToken token;
  const bool watching = watch->parsed() || (submit->parsed() && submit_args.watch);
  if (watching) ft::client::CancelOnSignals(&token, console.live);

  std::shared_ptr<grpc::Channel> channel = ft::client::MakeFtdChannel(server);
  std::unique_ptr<ft::v1::FinetuneService::Stub> stub = ft::v1::FinetuneService::NewStub(channel);
  ft::client::FtdConnection ftd;
  ftd.stub = stub.get();
  ftd.channel = channel.get();
  ftd.server = server;
  ftd.timeout = absl::Seconds(timeout_seconds);

  if (submit->parsed()) {
    std::error_code error;
    submit_args.cwd = std::filesystem::current_path(error).string();
    return ft::client::RunSubmit(ftd, submit_args, console, &token);
  }
  if (list->parsed()) {
    for (const std::string& name : list_states) {
      list_args.states.push_back(*ft::client::ParseState(name));
    }
    list_args.output = ToFormat(list_output);
    return ft::client::RunList(ftd, list_args, console);
  }
  if (get->parsed()) {
    get_args.output = ToFormat(get_output);
    return ft::client::RunGet(ftd, get_args, console);
  }
  if (cancel->parsed()) return ft::client::RunCancel(ftd, cancel_args, console);
  if (health->parsed()) {
    return ft::client::RunHealth(channel, server, health_args, ftd.timeout, std::cout, std::cerr);
  }
  if (plot->parsed()) {
    plot_args.x = plot_x == "examples" ? ft::client::PlotX::kExamples : ft::client::PlotX::kStep;
    return ft::client::RunPlot(ftd, plot_args, console);
  }
  return ft::client::RunWatch(ftd, watch_args, console, &token);
}
