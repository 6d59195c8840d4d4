// ftctl's verbs for a job's files on ftd: `download` (the model folder, or a checkpoint, ready
// for transformers' from_pretrained), `checkpoints` and `artifacts` (what there is to download).
#pragma once

#include <string>

#include "client/lib/cmd/ftctl_commands.h"
#include "client/lib/cmd/verb.h"

namespace ft::client {

struct DownloadArgs {
  std::string job_id;
  std::string out_dir;     // empty: ./<job id> (or ./<job id>-<checkpoint>)
  std::string checkpoint;  // empty: the model folder; "latest": the newest checkpoint
};

struct ArtifactListArgs {
  std::string job_id;
  OutputFormat output = OutputFormat::kTable;
};

// Downloads the model's files (ARTIFACT_MODEL) or those of one checkpoint into out_dir, keeping
// their paths below that folder; prints the folder. A file already there with the right digest
// is not fetched again; a cut-off run resumes.
int RunDownload(const FtdConnection& ftd, const DownloadArgs& args, const Console& console);
// One line per checkpoint: name, files, bytes.
int RunCheckpoints(const FtdConnection& ftd, const ArtifactListArgs& args, const Console& console);
// One line per file: kind, size, SHA-256, name.
int RunArtifacts(const FtdConnection& ftd, const ArtifactListArgs& args, const Console& console);

Verb DownloadVerb();
Verb CheckpointsVerb();
Verb ArtifactsVerb();

}  // namespace ft::client
