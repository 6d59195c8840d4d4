#!/usr/bin/python3
"""The shell blocks of README.md, docs/*.md and tests/bench/README.md run as written: each
```sh/```bash block passes `bash -n`; every path into the repository that a block names exists
(`build/bin/NAME` and `build/tests/NAME` must be targets the CMake files define); every command is
a project binary, a shell builtin or keyword, or a tool listed below; every `ftctl` verb and flag
and every `ftd`/`ftworker` flag is one their sources define. Nothing is run and nothing is built.

Usage: readme_commands_test.py [--root REPO]
Exits 1 and prints one line per problem (file:line: what is wrong).
"""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys

SHELL_LANGUAGES = {"sh", "bash", "shell"}
# Shell builtins and keywords the blocks may use.
SHELL_WORDS = {
    "cd", "export", "source", ".", "echo", "for", "in", "do", "done", "if", "then", "else", "fi",
    "while", "until", "case", "esac", "set", "unset", "exit", "true", "false", "test", "[", "[[",
    "read", "printf", "exec", "env", "time", "!", "{", "}", "wait", "kill", "trap",
}
# Tools outside the project that the docs may call (Debian packages, or the deploy targets').
EXTERNAL_TOOLS = {
    "bash", "sh", "cmake", "ctest", "ninja", "git", "python3", "pip", "protoc", "promtool",
    "prometheus", "docker", "docker-compose", "kubectl", "systemctl", "journalctl", "curl", "jq",
    "openssl", "sha256sum", "grep", "awk", "sed", "head", "tail", "cat", "ls", "mkdir", "rm", "cp",
    "mv", "ln", "tee", "xargs", "sort", "uniq", "wc", "mktemp", "sleep", "timeout", "nproc",
    "uptime", "strace", "pgrep", "node", "npm", "clang++", "tmux", "zsh", "apt-get", "dpkg",
    "nvidia-smi", "sudo", "od", "tr",
}
PROJECT_BINARIES = {"ftd", "ftworker", "ftctl"}
# Where ftctl's global flags, its verb table and the flags verbs share are defined.
FTCTL_SOURCES = ["client/main.cc", "client/lib/cmd/verb_table.cc", "client/lib/cmd/verb_flags.cc",
                 "client/lib/cmd/artifact_verbs.cc"]
# Folders of the repository: a word starting with one of them is a path that must exist.
REPO_FOLDERS = ("scripts/", "tests/", "docs/", "deploy/", "client/", "server/", "worker/",
                "common/", "proto/", ".ci/")
SEPARATORS = {"|", "||", "&&", ";", "&", "(", ")", "$(", "<(", ">(", "`", "{", "}", "!", "do",
              "then", "else"}
REDIRECTS = re.compile(r"^(\d?>>?|<|&>|\d?>&\d?|<<<?)$")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def shell_blocks(path):
    """(first line number, text) of each ```sh/```bash block of a markdown file."""
    blocks, lines, language, start = [], None, None, 0
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            stripped = line.strip()
            if lines is None and stripped.startswith("```"):
                language, lines, start = stripped[3:].strip().lower(), [], number + 1
            elif lines is not None and stripped.startswith("```"):
                if language in SHELL_LANGUAGES:
                    blocks.append((start, "".join(lines)))
                lines = None
            elif lines is not None:
                lines.append(line)
    return blocks


def logical_lines(text, first_line):
    """(line number, line) with backslash continuations joined and comments dropped."""
    out, pending, pending_line = [], "", first_line
    for offset, raw in enumerate(text.splitlines()):
        if not pending:
            pending_line = first_line + offset
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        out.append((pending_line, pending + raw))
        pending = ""
    if pending:
        out.append((pending_line, pending))
    return out


def split_words(line):
    """Shell words of a line, with $( <( and ` made separate tokens; None when it does not
    tokenize (bash -n reports that)."""
    line = re.sub(r"(\$\(|<\(|>\(|`)", r" \1 ", line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:
        return None


def commands(words):
    """(command word, its arguments) for each simple command among the words."""
    result, current, expect_command, skip_next, in_for = [], None, True, False, False
    for word in words:
        if skip_next:
            skip_next = False
            continue
        if word in SEPARATORS or word in ("$(", "<(", ">("):
            current, expect_command, in_for = None, True, False
            continue
        if REDIRECTS.match(word):
            skip_next = True
            continue
        if in_for:
            continue
        if expect_command:
            if ASSIGNMENT.match(word):
                continue
            if word == "for":
                in_for = True
                continue
            current = [word, []]
            result.append(current)
            expect_command = word in ("env", "time", "sudo", "exec", "timeout")
            continue
        if current is not None:
            current[1].append(word)
    return result


class Sources:
    """What the project defines: CMake executables, ftctl verbs, each binary's flags."""

    def __init__(self, root):
        self.root = root
        cmake_text = ""
        for pattern in ("**/CMakeLists.txt", "**/*.cmake"):
            for path in glob.glob(os.path.join(root, pattern), recursive=True):
                if os.path.relpath(path, root).startswith("build"):
                    continue  # build folders hold CMake files of their own
                with open(path, encoding="utf-8") as f:
                    cmake_text += f.read()
        self.executables = set(re.findall(r"(?:add_executable|ft_add_test)\(\s*([A-Za-z0-9_]+)",
                                          cmake_text))
        for names in re.findall(r"foreach\(test ([^)]*)\)", cmake_text):
            self.executables |= set(names.split())
        self.flags = {name: self._flags(paths) for name, paths in {
            "ftd": ["server/main.cc"],
            "ftworker": ["worker/main.cc"],
            "ftctl": FTCTL_SOURCES,
        }.items()}
        # The verb table names each verb (`verb.name = "submit";`); nested words are subcommands.
        self.ftctl_verbs = set()
        for path in FTCTL_SOURCES:
            with open(os.path.join(root, path), encoding="utf-8") as f:
                text = f.read()
            self.ftctl_verbs |= set(re.findall(r"add_subcommand\(\s*\"([a-z-]+)\"", text))
            self.ftctl_verbs |= set(re.findall(r"\.name = \"([a-z-]+)\";", text))

    def _flags(self, paths):
        flags = {"--help", "-h"}
        for path in paths:
            with open(os.path.join(self.root, path), encoding="utf-8") as f:
                text = f.read()
            for option in re.findall(r"\"([^\"]*--?[A-Za-z][^\"]*)\"", text):
                for name in re.split(r"[,\s]", option):
                    name = name.lstrip("!")
                    if re.match(r"^--?[A-Za-z][A-Za-z0-9-]*$", name):
                        flags.add(name)
        return flags


def check_word_paths(problems, where, words, sources, root):
    for word in words:
        candidate = word.rstrip(".,:;")
        if candidate.startswith(("build/bin/", "build/tests/")):
            name = candidate.split("/", 2)[2]
            if name and name not in sources.executables:
                problems.append("{}: {} is not a target of the CMake files".format(
                    where, candidate))
        elif candidate.startswith(REPO_FOLDERS) and not re.search(r"[$*?<>{}\[\]]", candidate):
            if not os.path.exists(os.path.join(root, candidate)):
                problems.append("{}: {} does not exist".format(where, candidate))


def check_command(problems, where, name, args, sources):
    base = os.path.basename(name)
    if name.startswith(("build/bin/", "build/tests/")):
        pass  # the target itself is checked with the other words
    elif "/" in name:
        if not name.startswith("/") and not name.startswith("$") and not name.startswith("~"):
            return  # a repository path: checked with the other words
        if name.startswith("/usr/bin/") and base not in EXTERNAL_TOOLS:
            problems.append("{}: unknown tool {}".format(where, name))
        return
    elif name.startswith("$") or name in SHELL_WORDS or name in EXTERNAL_TOOLS:
        return
    elif name not in PROJECT_BINARIES:
        problems.append("{}: unknown command {!r} (a typo, or add it to EXTERNAL_TOOLS in "
                        "tests/docs/readme_commands_test.py)".format(where, name))
        return
    if base in sources.flags:
        for arg in args:
            flag = arg.split("=", 1)[0]
            if re.match(r"^--?[A-Za-z][A-Za-z0-9-]*$", flag) and flag not in sources.flags[base]:
                problems.append("{}: {} has no flag {}".format(where, base, flag))
    if base == "ftctl":
        verb = first_verb(args)
        if verb is None:
            problems.append("{}: ftctl without a verb".format(where))
        elif verb not in sources.ftctl_verbs:
            problems.append("{}: ftctl has no verb {!r} (verbs: {})".format(
                where, verb, ", ".join(sorted(sources.ftctl_verbs))))


FTCTL_GLOBAL_WITH_VALUE = {"--server", "--token", "--config", "--tls-ca", "--timeout", "--color"}


def first_verb(args):
    """The first argument that is neither a flag nor a global flag's value."""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in FTCTL_GLOBAL_WITH_VALUE:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg
    return None


def check_file(problems, root, relative, sources):
    path = os.path.join(root, relative)
    blocks = shell_blocks(path)
    for first_line, text in blocks:
        syntax = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
        if syntax.returncode != 0:
            problems.append("{}:{}: bash -n refuses the block: {}".format(
                relative, first_line, syntax.stderr.strip().replace("\n", " ")))
            continue
        for number, line in logical_lines(text, first_line):
            where = "{}:{}".format(relative, number)
            words = split_words(line)
            if words is None:
                problems.append("{}: does not tokenize".format(where))
                continue
            check_word_paths(problems, where, words, sources, root)
            for name, args in commands(words):
                check_command(problems, where, name, args, sources)
    return len(blocks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    root = os.path.abspath(parser.parse_args().root)
    sources = Sources(root)
    files = ["README.md"] + sorted(
        os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "docs", "*.md")))
    files.append(os.path.join("tests", "bench", "README.md"))
    problems, blocks = [], 0
    for relative in files:
        if os.path.exists(os.path.join(root, relative)):
            blocks += check_file(problems, root, relative, sources)
    if blocks < 10:
        problems.append("found only {} shell blocks in {}".format(blocks, ", ".join(files)))
    for problem in problems:
        print(problem)
    print("{} shell block(s) in {} file(s), {} problem(s)".format(blocks, len(files),
                                                                  len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
