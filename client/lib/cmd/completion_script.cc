#include "client/lib/cmd/completion_script.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace ft::client {
namespace {

// Flags whose value selects the server, passed on to `ftctl list -o ids`.
constexpr const char* kConnectionFlags = "--server|--config|--token";

std::string ValueFlagPattern(const CompletionModel& model) {
  std::vector<std::string> names;
  for (const auto& [flag, choices] : model.value_flags) names.push_back(flag);
  return absl::StrJoin(names, "|");
}

// Single-quoted for the shell.
std::string Quote(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

}  // namespace

std::string BashCompletionScript(const CompletionModel& model) {
  std::vector<std::string> verb_names;
  for (const CompletionVerb& verb : model.verbs) verb_names.push_back(verb.name);
  std::string s;
  absl::StrAppend(&s,
                  "# bash completion for ftctl. Load it with\n"
                  "#   source <(ftctl completion bash)\n"
                  "# or save it as ~/.local/share/bash-completion/completions/ftctl\n\n"
                  "_ftctl_job_ids() {\n"
                  "  local -a conn=()\n"
                  "  local i\n"
                  "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
                  "    case \"${COMP_WORDS[i]}\" in\n"
                  "      ",
                  kConnectionFlags,
                  ") conn+=(\"${COMP_WORDS[i]}\" \"${COMP_WORDS[i+1]}\");;\n"
                  "    esac\n"
                  "  done\n"
                  "  \"${COMP_WORDS[0]}\" \"${conn[@]}\" --timeout 2 list -o ids --limit 200 "
                  "2>/dev/null\n"
                  "}\n\n"
                  "_ftctl() {\n"
                  "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" verb=\"\" i word\n"
                  "  ((COMP_CWORD > 0)) && prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
                  "  COMPREPLY=()\n"
                  "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
                  "    word=\"${COMP_WORDS[i]}\"\n"
                  "    case \"$word\" in\n"
                  "      ",
                  ValueFlagPattern(model),
                  ") ((i++));;\n"
                  "      -*) ;;\n"
                  "      *) verb=\"$word\"; break;;\n"
                  "    esac\n"
                  "  done\n"
                  "  case \"$prev\" in\n");
  for (const auto& [flag, choices] : model.value_flags) {
    if (choices.empty()) {
      absl::StrAppend(&s, "    ", flag, ") return;;\n");
    } else if (choices == std::vector<std::string>{kFileValue}) {
      absl::StrAppend(&s, "    ", flag, ") COMPREPLY=($(compgen -f -- \"$cur\")); return;;\n");
    } else {
      absl::StrAppend(&s, "    ", flag, ") COMPREPLY=($(compgen -W ",
                      Quote(absl::StrJoin(choices, " ")), " -- \"$cur\")); return;;\n");
    }
  }
  absl::StrAppend(&s,
                  "  esac\n"
                  "  local flags=",
                  Quote(absl::StrJoin(model.global_flags, " ")),
                  " words=\"\" ids=0\n"
                  "  case \"$verb\" in\n"
                  "    \"\")\n"
                  "      if [[ \"$cur\" == -* ]]; then\n"
                  "        COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
                  "      else\n"
                  "        COMPREPLY=($(compgen -W ",
                  Quote(absl::StrJoin(verb_names, " ")),
                  " -- \"$cur\"))\n"
                  "      fi\n"
                  "      return;;\n");
  for (const CompletionVerb& verb : model.verbs) {
    absl::StrAppend(&s, "    ", verb.name, ") flags=", Quote(absl::StrJoin(verb.flags, " ")),
                    "; words=", Quote(absl::StrJoin(verb.words, " ")),
                    "; ids=", verb.takes_job_ids ? 1 : 0, ";;\n");
  }
  absl::StrAppend(&s,
                  "  esac\n"
                  "  if [[ \"$cur\" == -* ]]; then\n"
                  "    COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
                  "  elif [[ -n \"$words\" ]]; then\n"
                  "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
                  "  elif ((ids)); then\n"
                  "    COMPREPLY=($(compgen -W \"$(_ftctl_job_ids)\" -- \"$cur\"))\n"
                  "  fi\n"
                  "}\n\n"
                  "complete -F _ftctl ftctl\n");
  return s;
}

std::string ZshCompletionScript(const CompletionModel& model) {
  std::string s;
  absl::StrAppend(&s,
                  "#compdef ftctl\n"
                  "# zsh completion for ftctl. Load it with\n"
                  "#   source <(ftctl completion zsh)      (after compinit)\n"
                  "# or save it as _ftctl in a folder on $fpath.\n\n"
                  "_ftctl_job_ids() {\n"
                  "  local -a conn ids\n"
                  "  local i\n"
                  "  for ((i = 2; i < CURRENT; i++)); do\n"
                  "    case ${words[i]} in\n"
                  "      ",
                  kConnectionFlags,
                  ") conn+=(${words[i]} ${words[i+1]});;\n"
                  "    esac\n"
                  "  done\n"
                  "  ids=(${(f)\"$(${words[1]} $conn --timeout 2 list -o ids --limit 200 "
                  "2>/dev/null)\"})\n"
                  "  compadd -a ids\n"
                  "}\n\n"
                  "_ftctl() {\n"
                  "  local cur=${words[CURRENT]} prev=${words[CURRENT-1]} verb= i\n"
                  "  for ((i = 2; i < CURRENT; i++)); do\n"
                  "    case ${words[i]} in\n"
                  "      ",
                  ValueFlagPattern(model),
                  ") ((i++));;\n"
                  "      -*) ;;\n"
                  "      *) verb=${words[i]}; break;;\n"
                  "    esac\n"
                  "  done\n"
                  "  case $prev in\n");
  for (const auto& [flag, choices] : model.value_flags) {
    if (choices.empty()) {
      absl::StrAppend(&s, "    ", flag, ") _message 'value'; return;;\n");
    } else if (choices == std::vector<std::string>{kFileValue}) {
      absl::StrAppend(&s, "    ", flag, ") _files; return;;\n");
    } else {
      absl::StrAppend(&s, "    ", flag, ") compadd -- ", absl::StrJoin(choices, " "),
                      "; return;;\n");
    }
  }
  absl::StrAppend(&s, "  esac\n  local -a flags verbs fixed\n  local ids=0\n  flags=(",
                  absl::StrJoin(model.global_flags, " "), ")\n  verbs=(\n");
  for (const CompletionVerb& verb : model.verbs) {
    // _describe splits "name:description" at the first unescaped colon.
    absl::StrAppend(
        &s, "    ",
        Quote(absl::StrCat(verb.name, ":", absl::StrReplaceAll(verb.help, {{":", "\\:"}}))), "\n");
  }
  absl::StrAppend(&s,
                  "  )\n"
                  "  case $verb in\n"
                  "    '')\n"
                  "      if [[ $cur == -* ]]; then compadd -a flags; else _describe -t verbs "
                  "'ftctl verb' verbs; fi\n"
                  "      return;;\n");
  for (const CompletionVerb& verb : model.verbs) {
    absl::StrAppend(&s, "    ", verb.name, ") flags=(", absl::StrJoin(verb.flags, " "),
                    "); fixed=(", absl::StrJoin(verb.words, " "),
                    "); ids=", verb.takes_job_ids ? 1 : 0, ";;\n");
  }
  absl::StrAppend(&s,
                  "  esac\n"
                  "  if [[ $cur == -* ]]; then\n"
                  "    compadd -a flags\n"
                  "  elif (( ${#fixed} )); then\n"
                  "    compadd -a fixed\n"
                  "  elif (( ids )); then\n"
                  "    _ftctl_job_ids\n"
                  "  else\n"
                  "    _files\n"
                  "  fi\n"
                  "}\n\n"
                  "if (( $+functions[compdef] )); then\n"
                  "  compdef _ftctl ftctl\n"
                  "fi\n");
  return s;
}

}  // namespace ft::client
