// ftctl's verbs as a table (verb.h), in the order `ftctl --help` lists them, and the parser built
// from it: each entry becomes a subcommand with its own flags, and after parsing exactly the
// entry whose subcommand was given runs.
#pragma once

#include <vector>

#include "CLI/CLI.hpp"
#include "client/lib/cmd/verb.h"

namespace ft::client {

// submit, list, get, cancel, delete, watch, plot, events, logs, wait, retry, completion, config,
// health.
std::vector<Verb> FtctlVerbs();

// Adds a subcommand to `app` for each verb (name, help, footer, flags); returns them in the
// verbs' order.
std::vector<CLI::App*> AddVerbs(CLI::App& app, const std::vector<Verb>& verbs);

// The verb whose subcommand was parsed; null when none was.
const Verb* ParsedVerb(const std::vector<Verb>& verbs, const std::vector<CLI::App*>& subcommands);

}  // namespace ft::client
