// What a file of a job's folder is, from its name. The worker's layout (worker/output/,
// worker/checkpoint/checkpoint_store.h): the Hugging Face model folder's files at the top
// (config.json, model.safetensors, tokenizer files), result.json, checkpoints/step-N/, and ftd's
// events.jsonl.
#pragma once

#include <string>

#include "ft/v1/artifact.pb.h"

namespace ft::artifacts {

// Sets `artifact`'s kind (and checkpoint, for a checkpoint's file) from its name.
void ClassifyArtifact(ft::v1::Artifact& artifact);

// Whether a folder of the job's folder holds nothing to offer: a checkpoint being written
// (".partial-step-N", never complete) is not listed.
bool IsHiddenFolder(const std::string& folder_name);

}  // namespace ft::artifacts
