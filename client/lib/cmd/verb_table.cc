#include "client/lib/cmd/verb_table.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/lib/cmd/artifact_verbs.h"
#include "client/lib/cmd/completion_model.h"
#include "client/lib/cmd/completion_script.h"
#include "client/lib/cmd/event_verbs.h"
#include "client/lib/cmd/health_command.h"
#include "client/lib/cmd/plot_command.h"
#include "client/lib/cmd/retry_command.h"
#include "client/lib/cmd/verb_flags.h"
#include "client/lib/cmd/wait_command.h"
#include "client/lib/format/text_util.h"
#include "client/lib/rpc/rpc_errors.h"

namespace ft::client {
namespace {

// A --watch writes event lines to stdout: JSON or YAML there would be spoilt for a reader.
absl::Status CheckWatchOutput(bool watch, const std::string& output) {
  if (!watch || output == "table") return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "--watch prints event lines, not ", output,
      "; to get the finished job as data, drop --watch and run `ftctl wait ID -o ", output, "`"));
}

Verb SubmitVerb() {
  struct State {
    SubmitArgs args;
    std::string output = "table";
  };
  auto state = std::make_shared<State>();
  Verb verb;
  verb.name = "submit";
  verb.help =
      "Submit a finetuning job and print its id (alone on stdout, for scripts). Relative dataset "
      "paths are resolved against the current folder. Flags override the fields of -f FILE.";
  verb.footer =
      "\nExamples:\n"
      "  ftctl submit --model scratch:bloom-tiny --train data/sms_spam.csv "
      "--micro-batch-size 16 \\\n"
      "      --accumulation-steps 4 --epochs 2 --lr 5e-4 --name sms-baseline --watch\n"
      "  JOB=$(ftctl submit -f job.json --epochs 5)\n"
      "  ftctl submit -f job.json -o json | jq -r .id";
  verb.add_flags = [state](CLI::App& app) {
    app.add_option("-f,--file", state->args.spec_file,
                   "JobSpec in protobuf JSON (\"-\": stdin), e.g. {\"model\": "
                   "\"scratch:bloom-tiny\", \"dataset\": {\"train\": \"a.csv\"}, "
                   "\"micro_batch_size\": 16}")
        ->type_name("JOB.json");
    AddSpecOptions(&app, state->args.flags);
    app.add_option("--request-id", state->args.request_id,
                   "idempotency key: resubmitting it returns the job created the first time "
                   "(default: a random one, reused by the automatic retry)")
        ->type_name("ID");
    app.add_flag("--watch", state->args.watch,
                 "follow the job like `ftctl watch` (exit codes too)");
    AddOutputOption(&app, state->output, {"table", "json", "yaml"})
        ->description("table: the new id alone; json or yaml: the new job (protobuf JSON mapping)");
  };
  verb.check = [state] { return CheckWatchOutput(state->args.watch, state->output); };
  verb.follows = [state] { return state->args.watch; };
  verb.run = [state](const VerbContext& context) {
    std::error_code error;
    state->args.cwd = std::filesystem::current_path(error).string();
    state->args.output = ToFormat(state->output);
    return RunSubmit(*context.ftd, state->args, *context.console, context.token);
  };
  return verb;
}

Verb ListVerb() {
  struct State {
    ListArgs args;
    std::vector<std::string> states;
    std::string output = "table";
  };
  auto state = std::make_shared<State>();
  Verb verb;
  verb.name = "list";
  verb.help = "List jobs, newest first.";
  verb.footer =
      "\nExamples:\n  ftctl list\n  ftctl list --state running --state queued -o json\n"
      "  ftctl list --state failed -o ids | xargs -n1 ftctl retry";
  verb.add_flags = [state](CLI::App& app) {
    app.add_option("--state", state->states,
                   "only jobs in this state (repeatable, or comma-separated): queued, running, "
                   "cancelling, succeeded, failed, cancelled")
        ->delimiter(',')
        ->type_name("STATE")
        ->check(CLI::Validator(
            [](std::string& name) -> std::string {
              return ParseState(name) ? "" : "unknown job state '" + name + "'";
            },
            ""));
    app.add_option("--limit", state->args.limit, "show at most N jobs (0: all)")
        ->type_name("N")
        ->capture_default_str();
    AddOutputOption(&app, state->output, {"table", "json", "yaml", "ids"});
  };
  verb.run = [state](const VerbContext& context) {
    for (const std::string& name : state->states) state->args.states.push_back(*ParseState(name));
    state->args.output = ToFormat(state->output);
    return RunList(*context.ftd, state->args, *context.console);
  };
  return verb;
}

Verb GetVerb() {
  struct State {
    GetArgs args;
    std::string output = "table";
  };
  auto state = std::make_shared<State>();
  Verb verb;
  verb.name = "get";
  verb.help = "Show one job: state, spec, effective batch, progress, evaluations, error, output.";
  verb.footer =
      "\nExamples:\n  ftctl get job-3\n  ftctl get job-3 -o json | jq .progress\n"
      "  ftctl get job-3 -o yaml";
  verb.takes_job_ids = true;
  verb.add_flags = [state](CLI::App& app) {
    app.add_option("ID", state->args.job_id, "job id")->required();
    AddOutputOption(&app, state->output, {"table", "json", "yaml"});
  };
  verb.run = [state](const VerbContext& context) {
    state->args.output = ToFormat(state->output);
    return RunGet(*context.ftd, state->args, *context.console);
  };
  return verb;
}

Verb CancelVerb() {
  auto args = std::make_shared<CancelArgs>();
  Verb verb;
  verb.name = "cancel";
  verb.help =
      "Cancel a job (a queued one at once, a running one within seconds) and print "
      "its new state. Fails with FAILED_PRECONDITION when it has already ended.";
  verb.footer = "\nExample:\n  ftctl cancel job-3 --reason \"wrong dataset\"";
  verb.takes_job_ids = true;
  verb.add_flags = [args](CLI::App& app) {
    app.add_option("ID", args->job_id, "job id")->required();
    app.add_option("--reason", args->reason, "why, stored with the job")->type_name("TEXT");
  };
  verb.run = [args](const VerbContext& context) {
    return RunCancel(*context.ftd, *args, *context.console);
  };
  return verb;
}

Verb DeleteVerb() {
  auto args = std::make_shared<DeleteArgs>();
  Verb verb;
  verb.name = "delete";
  verb.help =
      "Delete an ended job: its record, events and folder (model, checkpoints, logs). Fails with "
      "FAILED_PRECONDITION while it is queued or running (cancel it first).";
  verb.footer = "\nExample:\n  ftctl delete job-3";
  verb.takes_job_ids = true;
  verb.add_flags = [args](CLI::App& app) {
    app.add_option("ID", args->job_id, "job id")->required();
  };
  verb.run = [args](const VerbContext& context) {
    return RunDelete(*context.ftd, *args, *context.console);
  };
  return verb;
}

Verb WatchVerb() {
  auto args = std::make_shared<WatchArgs>();
  Verb verb;
  verb.name = "watch";
  verb.help =
      "Follow a job's events until it ends: on a terminal a live progress line, otherwise one "
      "line per event. Reconnects (for up to ~30 s) if the connection to ftd breaks. Prints the "
      "final state, error and validation/test accuracy at the end.";
  verb.footer =
      "\nExample:\n  ftctl watch job-3 && echo trained\n\n"
      "Exit codes: 0 the job SUCCEEDED, 1 FAILED, 5 CANCELLED, 130 Ctrl-C (the job goes on);\n"
      "3 unknown job, 4 ftd unreachable (`ftctl --help` lists them all).\n";
  verb.takes_job_ids = true;
  verb.add_flags = [args](CLI::App& app) {
    app.add_option("ID", args->job_id, "job id")->required();
    app.add_option("--after-seq", args->after_seq,
                   "show only events after this sequence number (0: from the start)")
        ->type_name("N")
        ->capture_default_str();
  };
  verb.follows = [] { return true; };
  verb.run = [args](const VerbContext& context) {
    return RunWatch(*context.ftd, *args, *context.console, context.token);
  };
  return verb;
}

Verb PlotVerb() {
  struct State {
    PlotArgs args;
    std::string x = "step";
  };
  auto state = std::make_shared<State>();
  Verb verb;
  verb.name = "plot";
  verb.help =
      "Draw jobs' training loss and validation accuracy into one SVG file: two panels, one "
      "line per job, the final validation/test accuracy in the legend. Jobs are read from ftd "
      "(a running one as far as it got); --from-events reads the events.jsonl that ftd leaves "
      "in a finished job's folder, without ftd.";
  verb.footer =
      "\nExamples:\n  ftctl plot job-3 --out job-3.svg\n"
      "  ftctl plot job-4 job-5 --x examples --title \"1 x 1 vs 1 x 16\" --out compare.svg\n"
      "  ftctl plot --from-events ~/.ftd/jobs/job-3/events.jsonl --out job-3.svg";
  verb.takes_job_ids = true;
  verb.add_flags = [state](CLI::App& app) {
    app.add_option("ID", state->args.job_ids, "job ids")->type_name("ID");
    app.add_option("--from-events", state->args.event_files,
                   "a job's events.jsonl (repeatable); result.json beside it names the batch "
                   "shape")
        ->type_name("FILE.jsonl");
    app.add_option("--out", state->args.out, "the SVG file to write (\"-\": stdout)")
        ->type_name("FILE.svg")
        ->required();
    app.add_option("--x", state->x,
                   "x axis: step (optimizer steps) or examples (training examples seen, to "
                   "compare jobs with different batch sizes)")
        ->check(CLI::IsMember({"step", "examples"}))
        ->type_name("AXIS")
        ->capture_default_str();
    app.add_option("--title", state->args.title, "the chart's title")->type_name("TEXT");
  };
  verb.run = [state](const VerbContext& context) {
    state->args.x = state->x == "examples" ? PlotX::kExamples : PlotX::kStep;
    return RunPlot(*context.ftd, state->args, *context.console);
  };
  return verb;
}

Verb EventsVerb() {
  struct State {
    EventsArgs args;
    std::string output = "table";
  };
  auto state = std::make_shared<State>();
  Verb verb;
  verb.name = "events";
  verb.help =
      "Print a job's events, one per line (state changes, progress, evaluations, logs); with "
      "--follow, then the new ones live until the job ends, reconnecting after a dropped "
      "connection without missing or repeating one.";
  verb.footer =
      "\nExamples:\n  ftctl events job-3\n  ftctl events job-3 --follow -o json | jq -c "
      "'select(.progress) | .progress.loss'\n";
  verb.takes_job_ids = true;
  verb.add_flags = [state](CLI::App& app) {
    app.add_option("ID", state->args.job_id, "job id")->required();
    app.add_flag("-f,--follow", state->args.follow, "keep printing new events until the job ends");
    app.add_option("--after-seq", state->args.after_seq,
                   "only events after this sequence number (0: from the start)")
        ->type_name("N")
        ->capture_default_str();
    AddOutputOption(&app, state->output, {"table", "json", "yaml"})
        ->description(
            "table: text lines; json: JSON lines (one JobEvent each); yaml: one "
            "document per event");
  };
  verb.follows = [state] { return state->args.follow; };
  verb.run = [state](const VerbContext& context) {
    state->args.output = ToFormat(state->output);
    return RunEvents(*context.ftd, state->args, *context.console, context.token);
  };
  return verb;
}

Verb LogsVerb() {
  struct State {
    EventsArgs args;
    std::string output = "table";
  };
  auto state = std::make_shared<State>();
  state->args.logs_only = true;
  Verb verb;
  verb.name = "logs";
  verb.help =
      "Print a job's log lines (warnings and errors the worker reported), with --follow until "
      "the job ends.";
  verb.footer = "\nExamples:\n  ftctl logs job-3\n  ftctl logs job-3 -f | grep -i error\n";
  verb.takes_job_ids = true;
  verb.add_flags = [state](CLI::App& app) {
    app.add_option("ID", state->args.job_id, "job id")->required();
    app.add_flag("-f,--follow", state->args.follow, "keep printing new lines until the job ends");
    AddOutputOption(&app, state->output, {"table", "json", "yaml"})
        ->description("table: \"TIME LEVEL: message\"; json: JSON lines; yaml: one document each");
  };
  verb.follows = [state] { return state->args.follow; };
  verb.run = [state](const VerbContext& context) {
    state->args.output = ToFormat(state->output);
    return RunEvents(*context.ftd, state->args, *context.console, context.token);
  };
  return verb;
}

Verb WaitVerb() {
  struct State {
    WaitArgs args;
    double timeout = 0;
    std::string output = "table";
  };
  auto state = std::make_shared<State>();
  Verb verb;
  verb.name = "wait";
  verb.help =
      "Block until a job ends, showing nothing meanwhile, then print its final summary. The "
      "exit code is the job's outcome (0 SUCCEEDED, 1 FAILED, 5 CANCELLED; 7 after --timeout).";
  verb.footer =
      "\nExamples:\n  ftctl wait job-3 && echo trained\n"
      "  ftctl wait job-3 --timeout 3600 -o json > job-3.json\n"
      "  for j in $(ftctl list --state running -o ids); do ftctl wait $j; done\n";
  verb.takes_job_ids = true;
  verb.add_flags = [state](CLI::App& app) {
    app.add_option("ID", state->args.job_id, "job id")->required();
    app.add_option("--timeout", state->timeout,
                   "give up after this long with exit code 7; the job goes on (0: never)")
        ->type_name("SECONDS")
        ->check(CLI::NonNegativeNumber);
    AddOutputOption(&app, state->output, {"table", "json", "yaml"});
  };
  verb.follows = [] { return true; };
  verb.run = [state](const VerbContext& context) {
    if (state->timeout > 0) state->args.timeout = absl::Seconds(state->timeout);
    state->args.output = ToFormat(state->output);
    return RunWait(*context.ftd, state->args, *context.console, context.token);
  };
  return verb;
}

Verb RetryVerb() {
  struct State {
    RetryArgs args;
    std::string output = "table";
  };
  auto state = std::make_shared<State>();
  Verb verb;
  verb.name = "retry";
  verb.help =
      "Submit a FAILED or CANCELLED job's spec again as a new job and print the new id. A queued, "
      "running or succeeded job is refused (exit code 6) unless --force.";
  verb.footer =
      "\nExamples:\n  ftctl retry job-3 --watch\n"
      "  ftctl list --state failed -o ids | xargs -n1 ftctl retry\n";
  verb.takes_job_ids = true;
  verb.add_flags = [state](CLI::App& app) {
    app.add_option("ID", state->args.job_id, "the job to run again")->required();
    app.add_flag("--force", state->args.force,
                 "resubmit even a job that is queued, running or succeeded");
    app.add_flag("--watch", state->args.watch, "follow the new job like `ftctl watch`");
    app.add_option("--request-id", state->args.request_id,
                   "idempotency key (default: a random one)")
        ->type_name("ID");
    AddOutputOption(&app, state->output, {"table", "json", "yaml"});
  };
  verb.check = [state] { return CheckWatchOutput(state->args.watch, state->output); };
  verb.follows = [state] { return state->args.watch; };
  verb.run = [state](const VerbContext& context) {
    state->args.output = ToFormat(state->output);
    return RunRetry(*context.ftd, state->args, *context.console, context.token);
  };
  return verb;
}

Verb CompletionScriptVerb() {
  auto shell = std::make_shared<std::string>();
  Verb verb;
  verb.name = "completion";
  verb.help =
      "Print a shell completion script for bash or zsh: verbs, flags, flag values and job ids "
      "(asked of ftd as you type).";
  verb.footer =
      "\nExamples:\n"
      "  source <(ftctl completion bash)          # in ~/.bashrc\n"
      "  ftctl completion bash > ~/.local/share/bash-completion/completions/ftctl\n"
      "  source <(ftctl completion zsh)           # in ~/.zshrc, after compinit\n";
  verb.needs = VerbNeeds::kNothing;
  verb.words = {"bash", "zsh"};
  verb.add_flags = [shell](CLI::App& app) {
    app.add_option("SHELL", *shell, "bash or zsh")
        ->required()
        ->check(CLI::IsMember({"bash", "zsh"}));
  };
  verb.run = [shell](const VerbContext& context) {
    const CompletionModel model = BuildCompletionModel(*context.app, *context.verbs);
    std::cout << (*shell == "zsh" ? ZshCompletionScript(model) : BashCompletionScript(model));
    return kExitOk;
  };
  return verb;
}

Verb ConfigVerb() {
  auto reveal_token = std::make_shared<bool>(false);
  Verb verb;
  verb.name = "config";
  verb.help =
      "Show ftctl's settings (server, token, color), where each comes from, and the config "
      "file's path.";
  verb.footer = absl::StrCat(
      "\nThe config file (", DefaultConfigPath(ProcessEnv()),
      " here) holds `key = value` lines; # starts a comment:\n"
      "  server = \"ftd.example.org:50051\"\n"
      "  token = \"s3cret\"\n"
      "  color = \"auto\"        # auto, always or never\n"
      "Precedence: flags > environment (FTD_SERVER, FTD_TOKEN; FTCTL_CONFIG names the file) > "
      "file > defaults.\n\n"
      "Examples:\n  ftctl config show\n  FTD_SERVER=gpu-box:50051 ftctl config show\n");
  verb.needs = VerbNeeds::kSettings;
  // `show` is config's only word, so a parsed `config` is always `config show`.
  verb.add_flags = [reveal_token](CLI::App& app) {
    app.require_subcommand(1);
    CLI::App* show = app.add_subcommand("show",
                                        "Print the settings in use, as the config file would "
                                        "hold them, with their source.");
    show->add_flag("--show-token", *reveal_token, "print the token in full");
  };
  verb.run = [reveal_token](const VerbContext& context) {
    std::cout << FormatClientConfig(*context.config, *reveal_token);
    return kExitOk;
  };
  return verb;
}

Verb HealthVerb() {
  auto args = std::make_shared<HealthArgs>();
  Verb verb;
  verb.name = "health";
  verb.help =
      "Ask ftd's grpc.health.v1 service whether it serves: SERVING once its job store answers "
      "and a worker is connected, else NOT_SERVING. Prints the status.";
  verb.footer =
      "\nExample:\n  ftctl --server 127.0.0.1:50051 health && echo ready\n\n"
      "Exit codes: 0 SERVING, 1 NOT_SERVING (or UNKNOWN), 3 unknown service, 4 ftd unreachable.";
  verb.add_flags = [args](CLI::App& app) {
    app.add_option("--service", args->service,
                   "a service name, e.g. ft.v1.FinetuneService (default: the whole server)")
        ->type_name("NAME");
    app.add_flag("--watch", args->watch, "print each status change until interrupted");
  };
  verb.run = [args](const VerbContext& context) {
    return RunHealth(context.channel, context.ftd->server, *args, context.ftd->timeout, std::cout,
                     std::cerr);
  };
  return verb;
}

}  // namespace

std::vector<Verb> FtctlVerbs() {
  std::vector<Verb> verbs;
  verbs.push_back(SubmitVerb());
  verbs.push_back(ListVerb());
  verbs.push_back(GetVerb());
  verbs.push_back(CancelVerb());
  verbs.push_back(DeleteVerb());
  verbs.push_back(DownloadVerb());
  verbs.push_back(CheckpointsVerb());
  verbs.push_back(ArtifactsVerb());
  verbs.push_back(WatchVerb());
  verbs.push_back(PlotVerb());
  verbs.push_back(EventsVerb());
  verbs.push_back(LogsVerb());
  verbs.push_back(WaitVerb());
  verbs.push_back(RetryVerb());
  verbs.push_back(CompletionScriptVerb());
  verbs.push_back(ConfigVerb());
  verbs.push_back(HealthVerb());
  return verbs;
}

std::vector<CLI::App*> AddVerbs(CLI::App& app, const std::vector<Verb>& verbs) {
  std::vector<CLI::App*> subcommands;
  for (const Verb& verb : verbs) {
    CLI::App* sub = app.add_subcommand(verb.name, verb.help);
    verb.add_flags(*sub);
    if (!verb.footer.empty()) sub->footer(verb.footer);
    subcommands.push_back(sub);
  }
  return subcommands;
}

const Verb* ParsedVerb(const std::vector<Verb>& verbs, const std::vector<CLI::App*>& subcommands) {
  for (size_t i = 0; i < verbs.size() && i < subcommands.size(); ++i) {
    if (subcommands[i]->parsed()) return &verbs[i];
  }
  return nullptr;
}

}  // namespace ft::client
