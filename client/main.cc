// ftctl: the command-line client of ftd (submit, list, get, cancel and watch finetuning jobs).
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/lib/cmd/completion_script.h"
#include "client/lib/cmd/event_verbs.h"
#include "client/lib/cmd/ftctl_commands.h"
#include "client/lib/cmd/health_command.h"
#include "client/lib/cmd/plot_command.h"
#include "client/lib/cmd/retry_command.h"
#include "client/lib/cmd/wait_command.h"
#include "client/lib/config/client_config.h"
#include "client/lib/format/text_util.h"
#include "client/lib/rpc/cancel_token.h"
#include "client/lib/rpc/ftd_calls.h"
#include "client/lib/rpc/rpc_errors.h"
#include "common/spec/spec_limits.h"

namespace {

using ft::client::OutputFormat;

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
                "model to finetune: scratch:bloom-tiny, a local Hugging Face folder "
                "(config.json + model.safetensors), or a Hub id org/name[@revision]",
                "NAME|DIR|ORG/NAME");
  AddSpecOption(submit, "--dataset", f.dataset_name,
                "a named dataset instead of --train/--validation/--test: imdb (the seed's split)",
                "NAME")
      ->group(data);
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

// -o/--output with the formats `app` offers ("table", "json", "yaml", maybe "ids").
CLI::Option* AddOutputOption(CLI::App* app, std::string& output,
                             const std::vector<std::string>& formats) {
  return app
      ->add_option("-o,--output", output,
                   "output format: " + absl::StrJoin(formats, ", ") +
                       " (json: protobuf's JSON mapping; yaml: the same data)")
      ->check(CLI::IsMember(formats))
      ->type_name("FORMAT")
      ->capture_default_str();
}

OutputFormat ToFormat(const std::string& output) {
  if (output == "json") return OutputFormat::kJson;
  if (output == "yaml") return OutputFormat::kYaml;
  if (output == "ids") return OutputFormat::kIds;
  return OutputFormat::kTable;
}

// Every verb's flags and positional words, read back from the parser for the completion scripts.
ft::client::CompletionModel BuildCompletionModel(CLI::App& app) {
  ft::client::CompletionModel model;
  const std::vector<std::string> states = {"queued",    "running", "cancelling",
                                           "succeeded", "failed",  "cancelled"};
  const std::map<std::string, std::vector<std::string>> choices = {
      {"-o", {"table", "json", "yaml", "ids"}},
      {"--output", {"table", "json", "yaml", "ids"}},
      {"--color", {"auto", "always", "never"}},
      {"--state", states},
      {"--format", {"csv", "tsv", "jsonl", "aclimdb"}},
      {"--optimizer", {"adamw", "sgd"}},
      {"--lr-scheduler", {"linear", "cosine", "constant"}},
      {"--precision", {"fp32", "bf16", "fp16"}},
      {"--early-stopping-metric", {"accuracy", "loss", "macro_f1"}},
      {"--x", {"step", "examples"}},
  };
  const std::set<std::string> files = {"-f",      "--file",   "--train", "--validation", "--test",
                                       "--model", "--config", "--out",   "--from-events"};
  auto add_flags = [&](const CLI::App& owner, std::vector<std::string>* out) {
    for (const CLI::Option* option : owner.get_options()) {
      if (option->get_positional()) continue;
      std::vector<std::string> names;
      for (const std::string& name : option->get_snames()) names.push_back("-" + name);
      for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
      for (const std::string& name : names) {
        out->push_back(name);
        if (option->get_expected_max() == 0) continue;  // a flag, no value
        if (auto it = choices.find(name); it != choices.end()) {
          model.value_flags[name] = it->second;
        } else if (files.count(name) > 0) {
          model.value_flags[name] = {ft::client::kFileValue};
        } else {
          model.value_flags[name];
        }
      }
    }
  };
  add_flags(app, &model.global_flags);
  const std::set<std::string> with_ids = {"get",    "cancel", "watch", "logs",
                                          "events", "wait",   "retry", "plot",
                                          "delete"};
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    ft::client::CompletionVerb verb;
    verb.name = sub->get_name();
    verb.help = sub->get_description().substr(0, sub->get_description().find(". "));
    add_flags(*sub, &verb.flags);
    verb.takes_job_ids = with_ids.count(verb.name) > 0;
    for (CLI::App* nested : sub->get_subcommands([](CLI::App*) { return true; })) {
      verb.words.push_back(nested->get_name());
    }
    if (verb.name == "completion") verb.words = {"bash", "zsh"};
    model.verbs.push_back(std::move(verb));
  }
  return model;
}

}  // namespace

int main(int argc, char** argv) {
  ft::client::ConfigFlags config_flags;
  double timeout_seconds = 10;

  CLI::App app{"ftctl: submit, list, inspect, cancel and follow finetuning jobs on ftd."};
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(absl::StrCat(
      "\nExamples:\n"
      "  ftctl submit --model scratch:bloom-tiny --train sms_spam.csv --micro-batch-size 16 "
      "--epochs 3 --watch\n"
      "  ftctl list --state running\n"
      "  ftctl logs job-3 --follow\n"
      "  ftctl wait job-3 --timeout 600 && ftctl get job-3 -o yaml\n"
      "  source <(ftctl completion bash)\n\n"
      "Settings: --server/--token > $FTD_SERVER/$FTD_TOKEN > the config file "
      "(`ftctl config show` says which).\n"
      "Colours and progress bars only on a terminal; NO_COLOR or --color never turns colours "
      "off.\n\n",
      ft::client::kExitCodeHelp));
  app.add_option("--server", config_flags.server,
                 "ftd address (default: $FTD_SERVER, else `server` in the config file, else "
                 "127.0.0.1:50051)")
      ->type_name("HOST:PORT");
  app.add_option("--token", config_flags.token,
                 "bearer token sent to ftd (default: $FTD_TOKEN, else `token` in the config file)")
      ->type_name("TOKEN");
  app.add_option("--config", config_flags.config_file,
                 "config file (default: $FTCTL_CONFIG, else $XDG_CONFIG_HOME/ftctl/config.toml, "
                 "else ~/.config/ftctl/config.toml)")
      ->type_name("FILE");
  // TLS (the token comes from the client config above).
  ft::net::ChannelSecurity security;
  if (const char* ca = std::getenv("FT_TLS_CA"); ca != nullptr) security.tls_ca_file = ca;
  app.add_option("--tls-ca", security.tls_ca_file,
                 "speak TLS, trusting this PEM CA certificate (default: $FT_TLS_CA)")
      ->type_name("CA.pem");
  app.add_option("--timeout", timeout_seconds,
                 "deadline of each call to ftd (following a job has none)")
      ->type_name("SECONDS")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--color", config_flags.color,
                 "colours: auto (on a terminal, unless NO_COLOR is set), always, never "
                 "(default: `color` in the config file, else auto)")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN");

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
  std::string submit_output = "table";
  AddOutputOption(submit, submit_output, {"table", "json", "yaml"})
      ->description("table: the new id alone; json or yaml: the new job (protobuf JSON mapping)");
  submit->footer(
      "\nExamples:\n"
      "  ftctl submit --model scratch:bloom-tiny --train data/sms_spam.csv "
      "--micro-batch-size 16 \\\n"
      "      --accumulation-steps 4 --epochs 2 --lr 5e-4 --name sms-baseline --watch\n"
      "  JOB=$(ftctl submit -f job.json --epochs 5)\n"
      "  ftctl submit -f job.json -o json | jq -r .id");

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
  AddOutputOption(list, list_output, {"table", "json", "yaml", "ids"});
  list->footer(
      "\nExamples:\n  ftctl list\n  ftctl list --state running --state queued -o json\n"
      "  ftctl list --state failed -o ids | xargs -n1 ftctl retry");

  // get
  ft::client::GetArgs get_args;
  std::string get_output = "table";
  CLI::App* get = app.add_subcommand(
      "get", "Show one job: state, spec, effective batch, progress, evaluations, error, output.");
  get->add_option("ID", get_args.job_id, "job id")->required();
  AddOutputOption(get, get_output, {"table", "json", "yaml"});
  get->footer(
      "\nExamples:\n  ftctl get job-3\n  ftctl get job-3 -o json | jq .progress\n"
      "  ftctl get job-3 -o yaml");

  // cancel
  ft::client::CancelArgs cancel_args;
  CLI::App* cancel = app.add_subcommand(
      "cancel",
      "Cancel a job (a queued one at once, a running one within seconds) and print "
      "its new state. Fails with FAILED_PRECONDITION when it has already ended.");
  cancel->add_option("ID", cancel_args.job_id, "job id")->required();
  cancel->add_option("--reason", cancel_args.reason, "why, stored with the job")->type_name("TEXT");
  cancel->footer("\nExample:\n  ftctl cancel job-3 --reason \"wrong dataset\"");

  // delete
  ft::client::DeleteArgs delete_args;
  CLI::App* delete_cmd = app.add_subcommand(
      "delete",
      "Delete an ended job: its record, events and folder (model, checkpoints, logs). Fails with "
      "FAILED_PRECONDITION while it is queued or running (cancel it first).");
  delete_cmd->add_option("ID", delete_args.job_id, "job id")->required();
  delete_cmd->footer("\nExample:\n  ftctl delete job-3");

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
      "Exit codes: 0 the job SUCCEEDED, 1 FAILED, 5 CANCELLED, 130 Ctrl-C (the job goes on);\n"
      "3 unknown job, 4 ftd unreachable (`ftctl --help` lists them all).\n"));

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

  // logs and events
  ft::client::EventsArgs events_args;
  std::string events_output = "table";
  CLI::App* events = app.add_subcommand(
      "events",
      "Print a job's events, one per line (state changes, progress, evaluations, logs); with "
      "--follow, then the new ones live until the job ends, reconnecting after a dropped "
      "connection without missing or repeating one.");
  events->add_option("ID", events_args.job_id, "job id")->required();
  events->add_flag("-f,--follow", events_args.follow,
                   "keep printing new events until the job ends");
  events
      ->add_option("--after-seq", events_args.after_seq,
                   "only events after this sequence number (0: from the start)")
      ->type_name("N")
      ->capture_default_str();
  AddOutputOption(events, events_output, {"table", "json", "yaml"})
      ->description(
          "table: text lines; json: JSON lines (one JobEvent each); yaml: one "
          "document per event");
  events->footer(
      "\nExamples:\n  ftctl events job-3\n  ftctl events job-3 --follow -o json | jq -c "
      "'select(.progress) | .progress.loss'\n");

  ft::client::EventsArgs logs_args;
  logs_args.logs_only = true;
  std::string logs_output = "table";
  CLI::App* logs = app.add_subcommand(
      "logs",
      "Print a job's log lines (warnings and errors the worker reported), with --follow until "
      "the job ends.");
  logs->add_option("ID", logs_args.job_id, "job id")->required();
  logs->add_flag("-f,--follow", logs_args.follow, "keep printing new lines until the job ends");
  AddOutputOption(logs, logs_output, {"table", "json", "yaml"})
      ->description("table: \"TIME LEVEL: message\"; json: JSON lines; yaml: one document each");
  logs->footer("\nExamples:\n  ftctl logs job-3\n  ftctl logs job-3 -f | grep -i error\n");

  // wait
  ft::client::WaitArgs wait_args;
  double wait_timeout = 0;
  std::string wait_output = "table";
  CLI::App* wait = app.add_subcommand(
      "wait",
      "Block until a job ends, showing nothing meanwhile, then print its final summary. The "
      "exit code is the job's outcome (0 SUCCEEDED, 1 FAILED, 5 CANCELLED; 7 after --timeout).");
  wait->add_option("ID", wait_args.job_id, "job id")->required();
  wait->add_option("--timeout", wait_timeout,
                   "give up after this long with exit code 7; the job goes on (0: never)")
      ->type_name("SECONDS")
      ->check(CLI::NonNegativeNumber);
  AddOutputOption(wait, wait_output, {"table", "json", "yaml"});
  wait->footer(
      "\nExamples:\n  ftctl wait job-3 && echo trained\n"
      "  ftctl wait job-3 --timeout 3600 -o json > job-3.json\n"
      "  for j in $(ftctl list --state running -o ids); do ftctl wait $j; done\n");

  // retry
  ft::client::RetryArgs retry_args;
  std::string retry_output = "table";
  CLI::App* retry = app.add_subcommand(
      "retry",
      "Submit a FAILED or CANCELLED job's spec again as a new job and print the new id. A queued, "
      "running or succeeded job is refused (exit code 6) unless --force.");
  retry->add_option("ID", retry_args.job_id, "the job to run again")->required();
  retry->add_flag("--force", retry_args.force,
                  "resubmit even a job that is queued, running or succeeded");
  retry->add_flag("--watch", retry_args.watch, "follow the new job like `ftctl watch`");
  retry
      ->add_option("--request-id", retry_args.request_id, "idempotency key (default: a random one)")
      ->type_name("ID");
  AddOutputOption(retry, retry_output, {"table", "json", "yaml"});
  retry->footer(
      "\nExamples:\n  ftctl retry job-3 --watch\n"
      "  ftctl list --state failed -o ids | xargs -n1 ftctl retry\n");

  // completion
  std::string completion_shell;
  CLI::App* completion = app.add_subcommand(
      "completion",
      "Print a shell completion script for bash or zsh: verbs, flags, flag values and job ids "
      "(asked of ftd as you type).");
  completion->add_option("SHELL", completion_shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  completion->footer(
      "\nExamples:\n"
      "  source <(ftctl completion bash)          # in ~/.bashrc\n"
      "  ftctl completion bash > ~/.local/share/bash-completion/completions/ftctl\n"
      "  source <(ftctl completion zsh)           # in ~/.zshrc, after compinit\n");

  // config
  CLI::App* config_verb = app.add_subcommand(
      "config",
      "Show ftctl's settings (server, token, color), where each comes from, and the config "
      "file's path.");
  config_verb->require_subcommand(1);
  bool reveal_token = false;
  CLI::App* config_show =
      config_verb->add_subcommand("show",
                                  "Print the settings in use, as the config file would "
                                  "hold them, with their source.");
  config_show->add_flag("--show-token", reveal_token, "print the token in full");
  config_verb->footer(absl::StrCat(
      "\nThe config file (", ft::client::DefaultConfigPath(ft::client::ProcessEnv()),
      " here) holds `key = value` lines; # starts a comment:\n"
      "  server = \"ftd.example.org:50051\"\n"
      "  token = \"s3cret\"\n"
      "  color = \"auto\"        # auto, always or never\n"
      "Precedence: flags > environment (FTD_SERVER, FTD_TOKEN; FTCTL_CONFIG names the file) > "
      "file > defaults.\n\n"
      "Examples:\n  ftctl config show\n  FTD_SERVER=gpu-box:50051 ftctl config show\n"));
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
      "Exit codes: 0 SERVING, 1 NOT_SERVING (or UNKNOWN), 3 unknown service, 4 ftd unreachable.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : ft::client::kExitBadRequest;
  }

  // A watch writes its lines to stdout: JSON or YAML there would be spoilt for a reader.
  if ((submit->parsed() && submit_args.watch && submit_output != "table") ||
      (retry->parsed() && retry_args.watch && retry_output != "table")) {
    std::cerr << "ftctl: --watch prints event lines, not "
              << (submit->parsed() ? submit_output : retry_output)
              << "; to get the finished job as data, drop --watch and run `ftctl wait ID -o "
              << (submit->parsed() ? submit_output : retry_output) << "`" << std::endl;
    return ft::client::kExitBadRequest;
  }
  if (completion->parsed()) {
    const ft::client::CompletionModel model = BuildCompletionModel(app);
    std::cout << (completion_shell == "zsh" ? ft::client::ZshCompletionScript(model)
                                            : ft::client::BashCompletionScript(model));
    return ft::client::kExitOk;
  }

  absl::StatusOr<ft::client::ClientConfig> config =
      ft::client::ResolveClientConfig(config_flags, ft::client::ProcessEnv());
  if (!config.ok()) {
    std::cerr << ft::client::ErrorLine(config.status()) << std::endl;
    return ft::client::kExitBadRequest;
  }
  if (config_show->parsed()) {
    std::cout << ft::client::FormatClientConfig(*config, reveal_token);
    return ft::client::kExitOk;
  }
  const std::string& server = config->server;

  ft::client::Console console;
  console.live = StdoutIsLiveTerminal();
  console.terminal_width = TerminalWidth;
  console.glyphs = ft::client::ChooseSparkGlyphs(console.live, std::getenv("LC_ALL"),
                                                 std::getenv("LC_CTYPE"), std::getenv("LANG"));
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  console.palette = ft::client::Palette(ft::client::ShouldColor(
      config->color, isatty(STDOUT_FILENO) == 1, no_color != nullptr && *no_color != '\0',
      term == nullptr ? "" : term));

  // Before gRPC starts its threads, so that they inherit the blocked signals.
  ft::client::CancelToken token;
  const bool following = watch->parsed() || (submit->parsed() && submit_args.watch) ||
                         (retry->parsed() && retry_args.watch) || wait->parsed() ||
                         (events->parsed() && events_args.follow) ||
                         (logs->parsed() && logs_args.follow);
  if (following) ft::client::CancelOnSignals(&token, console.live);

  absl::StatusOr<std::shared_ptr<grpc::Channel>> made =
      ft::client::MakeFtdChannel(server, security);
  if (!made.ok()) {
    std::cerr << "ftctl: " << made.status().message() << "\n";
    return ft::client::kExitBadRequest;
  }
  std::shared_ptr<grpc::Channel> channel = *made;
  std::unique_ptr<ft::v1::FinetuneService::Stub> stub = ft::v1::FinetuneService::NewStub(channel);
  ft::client::FtdConnection ftd;
  ftd.stub = stub.get();
  ftd.channel = channel.get();
  ftd.server = server;
  ftd.token = config->token;
  ftd.timeout = absl::Seconds(timeout_seconds);

  if (submit->parsed()) {
    std::error_code error;
    submit_args.cwd = std::filesystem::current_path(error).string();
    submit_args.output = ToFormat(submit_output);
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
  if (delete_cmd->parsed()) return ft::client::RunDelete(ftd, delete_args, console);
  if (health->parsed()) {
    return ft::client::RunHealth(channel, server, health_args, ftd.timeout, std::cout, std::cerr);
  }
  if (plot->parsed()) {
    plot_args.x = plot_x == "examples" ? ft::client::PlotX::kExamples : ft::client::PlotX::kStep;
    return ft::client::RunPlot(ftd, plot_args, console);
  }
  if (events->parsed()) {
    events_args.output = ToFormat(events_output);
    return ft::client::RunEvents(ftd, events_args, console, &token);
  }
  if (logs->parsed()) {
    logs_args.output = ToFormat(logs_output);
    return ft::client::RunEvents(ftd, logs_args, console, &token);
  }
  if (wait->parsed()) {
    if (wait_timeout > 0) wait_args.timeout = absl::Seconds(wait_timeout);
    wait_args.output = ToFormat(wait_output);
    return ft::client::RunWait(ftd, wait_args, console, &token);
  }
  if (retry->parsed()) {
    retry_args.output = ToFormat(retry_output);
    return ft::client::RunRetry(ftd, retry_args, console, &token);
  }
  return ft::client::RunWatch(ftd, watch_args, console, &token);
}
