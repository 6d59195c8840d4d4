#include "client/lib/cmd/completion_model.h"

#include <map>
#include <set>
#include <string>

namespace ft::client {

CompletionModel BuildCompletionModel(CLI::App& app, const std::vector<Verb>& verbs) {
  CompletionModel model;
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
          model.value_flags[name] = {kFileValue};
        } else {
          model.value_flags[name];
        }
      }
    }
  };
  add_flags(app, &model.global_flags);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    CompletionVerb verb;
    verb.name = sub->get_name();
    verb.help = sub->get_description().substr(0, sub->get_description().find(". "));
    add_flags(*sub, &verb.flags);
    for (CLI::App* nested : sub->get_subcommands([](CLI::App*) { return true; })) {
      verb.words.push_back(nested->get_name());
    }
    for (const Verb& entry : verbs) {
      if (entry.name != verb.name) continue;
      verb.takes_job_ids = entry.takes_job_ids;
      verb.words.insert(verb.words.end(), entry.words.begin(), entry.words.end());
    }
    model.verbs.push_back(std::move(verb));
  }
  return model;
}

}  // namespace ft::client
