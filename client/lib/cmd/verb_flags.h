// Flags several verbs share: -o/--output and the JobSpec flags of `submit`.
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "client/lib/cmd/ftctl_commands.h"
#include "client/lib/config/spec_flags.h"

namespace ft::client {

// -o/--output with the formats `app` offers ("table", "json", "yaml", maybe "ids").
CLI::Option* AddOutputOption(CLI::App* app, std::string& output,
                             const std::vector<std::string>& formats);

// The -o value as an OutputFormat (one AddOutputOption allowed).
OutputFormat ToFormat(const std::string& output);

// The JobSpec's flags (--model, --train, --micro-batch-size, ...), grouped for `submit --help`;
// each lands in `flags` only when given, so that the fields of -f FILE are kept otherwise.
void AddSpecOptions(CLI::App* submit, SpecFlags& flags);

}  // namespace ft::client
