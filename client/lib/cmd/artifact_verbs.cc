#include "client/lib/cmd/artifact_verbs.h"

#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/lib/cmd/verb_flags.h"
#include "client/lib/format/text_util.h"
#include "client/lib/rpc/artifact_calls.h"
#include "client/lib/rpc/rpc_errors.h"
#include "google/protobuf/util/json_util.h"

namespace ft::client {
namespace {

std::string Bytes(uint64_t bytes) {
  if (bytes < (1u << 10)) return absl::StrCat(bytes, " B");
  if (bytes < (1u << 20)) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  if (bytes < (1u << 30)) return absl::StrFormat("%.1f MiB", bytes / 1048576.0);
  return absl::StrFormat("%.2f GiB", bytes / 1073741824.0);
}

std::string KindName(ft::v1::ArtifactKind kind) {
  switch (kind) {
    case ft::v1::ARTIFACT_MODEL:
      return "model";
    case ft::v1::ARTIFACT_CHECKPOINT:
      return "checkpoint";
    case ft::v1::ARTIFACT_RESULT:
      return "result";
    case ft::v1::ARTIFACT_LOG:
      return "log";
    default:
      return "other";
  }
}

// Prints `artifacts` as the protobuf JSON of a ListArtifactsResponse.
int PrintJson(const std::vector<ft::v1::Artifact>& artifacts, const Console& console) {
  ft::v1::ListArtifactsResponse response;
  for (const auto& artifact : artifacts) *response.add_artifacts() = artifact;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(response, &json, options).ok()) {
    return Fail(console, absl::InternalError("cannot print the artifacts as JSON"));
  }
  *console.out << json << std::flush;
  return kExitOk;
}

// The checkpoint names in `artifacts`, oldest first (step-N names sort by step).
std::map<std::string, std::vector<const ft::v1::Artifact*>> ByCheckpoint(
    const std::vector<ft::v1::Artifact>& artifacts) {
  std::map<std::string, std::vector<const ft::v1::Artifact*>> checkpoints;
  for (const auto& artifact : artifacts) {
    if (artifact.kind() == ft::v1::ARTIFACT_CHECKPOINT) {
      checkpoints[artifact.checkpoint()].push_back(&artifact);
    }
  }
  return checkpoints;
}

// What `download` fetches: the model's files, or those of one checkpoint.
struct Selection {
  std::vector<ft::v1::Artifact> files;
  std::string checkpoint;  // "latest" resolved; empty for the model
  std::string prefix;      // "" (the model's files are at the top) or "checkpoints/NAME/"
};

absl::StatusOr<Selection> Select(const FtdConnection& ftd, const DownloadArgs& args) {
  absl::StatusOr<std::vector<ft::v1::Artifact>> all = ListArtifacts(ftd, args.job_id);
  if (!all.ok()) return all.status();
  std::string checkpoint = args.checkpoint;
  if (checkpoint == "latest") {
    const auto checkpoints = ByCheckpoint(*all);
    if (checkpoints.empty()) {
      return absl::NotFoundError(absl::StrCat("job ", args.job_id, " has no checkpoint on ftd"));
    }
    checkpoint = checkpoints.rbegin()->first;
  }
  Selection selection;
  selection.checkpoint = checkpoint;
  selection.prefix = checkpoint.empty() ? "" : absl::StrCat("checkpoints/", checkpoint, "/");
  for (const auto& artifact : *all) {
    const bool wanted = checkpoint.empty() ? artifact.kind() == ft::v1::ARTIFACT_MODEL
                                           : absl::StartsWith(artifact.name(), selection.prefix);
    if (wanted) selection.files.push_back(artifact);
  }
  if (!selection.files.empty()) return selection;
  if (!checkpoint.empty()) {
    return absl::NotFoundError(absl::StrCat("job ", args.job_id, " has no checkpoint ", checkpoint,
                                            " on ftd (`ftctl checkpoints ", args.job_id,
                                            "` lists them)"));
  }
  absl::StatusOr<ft::v1::Job> job = GetJob(ftd, args.job_id);
  const std::string state = job.ok() ? StateName(job->state()) : "unknown";
  return absl::FailedPreconditionError(
      absl::StrCat("job ", args.job_id, " (", state,
                   ") has no model folder on ftd: it is written when the "
                   "job succeeds, on ftd's host only for a local worker (`ftctl artifacts ",
                   args.job_id, "` lists what there is)"));
}

}  // namespace

int RunDownload(const FtdConnection& ftd, const DownloadArgs& args, const Console& console) {
  absl::StatusOr<Selection> selection = Select(ftd, args);
  if (!selection.ok()) return Fail(console, selection.status());
  std::string out_dir = args.out_dir;
  if (out_dir.empty()) {
    out_dir = selection->checkpoint.empty() ? args.job_id
                                            : absl::StrCat(args.job_id, "-", selection->checkpoint);
  }
  uint64_t fetched = 0;
  int kept = 0;
  for (const auto& artifact : selection->files) {
    const std::string relative = artifact.name().substr(selection->prefix.size());
    const std::string path = (std::filesystem::path(out_dir) / relative).string();
    absl::StatusOr<DownloadOutcome> outcome = DownloadArtifact(ftd, args.job_id, artifact, path);
    if (!outcome.ok()) return Fail(console, outcome.status());
    if (*outcome == DownloadOutcome::kAlreadyThere) {
      ++kept;
    } else {
      fetched += artifact.size_bytes();
    }
  }
  *console.err << "ftctl: " << selection->files.size() << " files, " << Bytes(fetched)
               << " downloaded";
  if (kept > 0) *console.err << ", " << kept << " already there";
  *console.err << ", SHA-256 checked" << std::endl;
  *console.out << out_dir << std::endl;
  return kExitOk;
}

int RunCheckpoints(const FtdConnection& ftd, const ArtifactListArgs& args, const Console& console) {
  absl::StatusOr<std::vector<ft::v1::Artifact>> all = ListArtifacts(ftd, args.job_id);
  if (!all.ok()) return Fail(console, all.status());
  std::vector<ft::v1::Artifact> checkpoint_files;
  for (const auto& artifact : *all) {
    if (artifact.kind() == ft::v1::ARTIFACT_CHECKPOINT) checkpoint_files.push_back(artifact);
  }
  if (args.output == OutputFormat::kJson) return PrintJson(checkpoint_files, console);
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, files] : ByCheckpoint(checkpoint_files)) {
    uint64_t bytes = 0;
    for (const auto* file : files) bytes += file->size_bytes();
    rows.push_back({name, std::to_string(files.size()), Bytes(bytes)});
  }
  if (rows.empty()) {
    *console.err << "ftctl: job " << args.job_id << " has no checkpoint on ftd" << std::endl;
    return kExitOk;
  }
  *console.out << RenderTable({"CHECKPOINT", "FILES", "SIZE"}, rows) << std::flush;
  return kExitOk;
}

int RunArtifacts(const FtdConnection& ftd, const ArtifactListArgs& args, const Console& console) {
  absl::StatusOr<std::vector<ft::v1::Artifact>> all = ListArtifacts(ftd, args.job_id);
  if (!all.ok()) return Fail(console, all.status());
  if (args.output == OutputFormat::kJson) return PrintJson(*all, console);
  std::vector<std::vector<std::string>> rows;
  for (const auto& artifact : *all) {
    rows.push_back({KindName(artifact.kind()), Bytes(artifact.size_bytes()),
                    artifact.sha256().substr(0, 16), artifact.name()});
  }
  *console.out << RenderTable({"KIND", "SIZE", "SHA-256", "NAME"}, rows) << std::flush;
  return kExitOk;
}

Verb DownloadVerb() {
  auto args = std::make_shared<DownloadArgs>();
  Verb verb;
  verb.name = "download";
  verb.help =
      "Download a job's model folder (or one checkpoint) from ftd into a folder that "
      "transformers' from_pretrained loads, checking each file's SHA-256; prints the folder. "
      "Run it again to resume a cut-off download.";
  verb.footer =
      "\nExamples:\n"
      "  ftctl download job-3 --out ./sentiment-model\n"
      "  ftctl download job-3 --checkpoint latest\n";
  verb.takes_job_ids = true;
  verb.add_flags = [args](CLI::App& app) {
    app.add_option("ID", args->job_id, "job id")->required();
    app.add_option("--out", args->out_dir, "folder to write (default: ./ID, ./ID-CHECKPOINT)")
        ->type_name("DIR");
    app.add_option("--checkpoint", args->checkpoint,
                   "a checkpoint (`ftctl checkpoints ID`) or `latest` instead of the model")
        ->type_name("NAME");
  };
  verb.run = [args](const VerbContext& context) {
    return RunDownload(*context.ftd, *args, *context.console);
  };
  return verb;
}

// checkpoints and artifacts: a job id and -o table|json; the caller names it and says what it does.
Verb ArtifactListVerb(int (*run)(const FtdConnection&, const ArtifactListArgs&, const Console&)) {
  struct State {
    ArtifactListArgs args;
    std::string output = "table";
  };
  auto state = std::make_shared<State>();
  Verb verb;
  verb.takes_job_ids = true;
  verb.add_flags = [state](CLI::App& app) {
    app.add_option("ID", state->args.job_id, "job id")->required();
    AddOutputOption(&app, state->output, {"table", "json"})
        ->description("table, or json: the artifacts as ListArtifactsResponse's JSON mapping");
  };
  verb.run = [state, run](const VerbContext& context) {
    state->args.output = ToFormat(state->output);
    return run(*context.ftd, state->args, *context.console);
  };
  return verb;
}

Verb CheckpointsVerb() {
  Verb verb = ArtifactListVerb(RunCheckpoints);
  verb.name = "checkpoints";
  verb.help =
      "List a job's checkpoints on ftd (name, files, size), for `ftctl download --checkpoint`.";
  verb.footer = "\nExample:\n  ftctl checkpoints job-3\n";
  return verb;
}

Verb ArtifactsVerb() {
  Verb verb = ArtifactListVerb(RunArtifacts);
  verb.name = "artifacts";
  verb.help =
      "List the files of a job's folder on ftd: kind, size, SHA-256 (first 16 digits), name.";
  verb.footer = "\nExample:\n  ftctl artifacts job-3 -o json\n";
  return verb;
}

}  // namespace ft::client
