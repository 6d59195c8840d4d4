// `ftctl completion bash|zsh`: shell completion scripts generated from ftctl's own command line
// (verbs, their flags, the values of flags with a fixed set), so they never fall behind it. Job
// ids are asked of ftd when completing (`ftctl list -o ids`), with the --server/--config/--token
// already typed on the line.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ft::client {

inline constexpr const char* kFileValue = "<file>";

struct CompletionVerb {
  std::string name;
  std::string help;                // one line, for zsh's descriptions
  std::vector<std::string> flags;  // "-o", "--output", "--watch", ...
  std::vector<std::string> words;  // fixed positional words ("bash", "zsh"; "show")
  bool takes_job_ids = false;      // positional job ids
};

struct CompletionModel {
  std::vector<std::string> global_flags;
  std::vector<CompletionVerb> verbs;
  // Flags that take a value (global or a verb's): their fixed choices; {kFileValue} for a file
  // name; empty for a free value (nothing to complete).
  std::map<std::string, std::vector<std::string>> value_flags;
};

std::string BashCompletionScript(const CompletionModel& model);
std::string ZshCompletionScript(const CompletionModel& model);

}  // namespace ft::client
