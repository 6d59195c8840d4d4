// The completion scripts' model of ftctl's command line (completion_script.h), read back from the
// parser built from the verb table, so that the scripts never fall behind it.
#pragma once

#include <vector>

#include "CLI/CLI.hpp"
#include "client/lib/cmd/completion_script.h"
#include "client/lib/cmd/verb.h"

namespace ft::client {

CompletionModel BuildCompletionModel(CLI::App& app, const std::vector<Verb>& verbs);

}  // namespace ft::client
