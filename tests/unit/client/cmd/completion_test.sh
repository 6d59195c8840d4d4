#!/usr/bin/env bash
# ftctl's shell completion, loaded as a user would: `source <(ftctl completion bash)` in bash, the
# zsh script through compinit. Checks the registration and what a partial word completes to.
# Usage: completion_test.sh PATH/TO/ftctl
set -u
FTCTL=$1
failures=0

check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1: expected [$2], got [$3]"
    failures=$((failures + 1))
  fi
}

# COMPREPLY for a command line; a trailing space starts a new, empty word.
bash_complete() {
  FTCTL=$FTCTL LINE=$1 bash -c '
    source <("$FTCTL" completion bash) || exit 1
    read -ra COMP_WORDS <<< "$LINE"
    [[ "$LINE" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _ftctl
    echo "${COMPREPLY[*]}"'
}

check "bash: registered" "complete -F _ftctl ftctl" \
  "$(FTCTL=$FTCTL bash -c 'source <("$FTCTL" completion bash) && complete -p ftctl')"
check "bash: partial verb" "submit" "$(bash_complete 'ftctl su')"
check "bash: two verbs" "watch wait" "$(bash_complete 'ftctl w')"
check "bash: verb after a global flag" "list logs" "$(bash_complete 'ftctl --server h:1 l')"
check "bash: flag value" "json" "$(bash_complete 'ftctl list -o j')"
check "bash: list formats" "table json yaml ids" "$(bash_complete 'ftctl get -o ')"
check "bash: verb flags" "--follow" "$(bash_complete 'ftctl logs --fo')"
check "bash: fixed words" "bash zsh" "$(bash_complete 'ftctl completion ')"
check "bash: colour" "auto always" "$(bash_complete 'ftctl --color a')"
# No ftd here: job ids complete to nothing, quickly, without an error on the terminal.
check "bash: no ftd, no ids" "" "$(bash_complete 'ftctl --server 127.0.0.1:1 get job-' 2>&1)"

if command -v zsh >/dev/null; then
  # compadd and _describe stand in for zle's, printing what would be offered.
  zsh_complete() {
    FTCTL=$FTCTL LINE=$1 zsh -f -c '
      autoload -Uz compinit && compinit -u -D
      source <("$FTCTL" completion zsh) || exit 1
      [[ ${_comps[ftctl]} == _ftctl ]] || { echo "not registered"; exit 1; }
      compadd() { [[ $1 == -a ]] && print -r -- ${(P)2} || { shift; print -r -- "$@"; } }
      _describe() { print -r -- ${${(P)4}%%:*}; }
      words=(${(z)LINE}); [[ $LINE == *" " ]] && words+=("")
      CURRENT=${#words}
      _ftctl' | tr "\n" " " | sed "s/ *$//"
  }
  check "zsh: verbs" "$(bash_complete 'ftctl ' | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ *$//')" \
    "$(zsh_complete 'ftctl ' | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ *$//')"
  check "zsh: flag value" "table json yaml ids" "$(zsh_complete 'ftctl list -o ')"
  check "zsh: fixed words" "bash zsh" "$(zsh_complete 'ftctl completion ')"
else
  echo "skip zsh: not installed (scripts/install-test-deps.sh installs it)"
fi

((failures == 0)) || { echo "$failures failed"; exit 1; }
echo "all passed"
