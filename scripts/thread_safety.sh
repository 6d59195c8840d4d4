#!/usr/bin/env bash
# Clang's thread safety analysis over the parts without Torch: checks the abseil lock annotations
# (ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED, ...) that gcc, the normal build's compiler,
# ignores. Cheap on purpose: -fsyntax-only (no code generated) with clang-14, and only the
# translation units of server/, common/, client/, worker/daemon/ and their tests that see an
# annotated header (directly or through other headers), with the flags of the normal build's
# compile_commands.json. Any thread-safety warning fails.
#   bash scripts/thread_safety.sh          # after scripts/build.sh
#   JOBS=2 BUILD_DIR=build bash scripts/thread_safety.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
CLANG=${CLANG:-clang++-14}
JOBS=${JOBS:-2}
[ -f "$BUILD_DIR/compile_commands.json" ] ||
  { echo "thread_safety: no $BUILD_DIR/compile_commands.json (run scripts/build.sh first)" >&2; exit 2; }
command -v "$CLANG" >/dev/null || { echo "thread_safety: $CLANG not found" >&2; exit 2; }

list=$(mktemp)
trap 'rm -f "$list"' EXIT
python3 - "$BUILD_DIR/compile_commands.json" "$CLANG" > "$list" <<'PY'
import json, os, re, shlex, sys

database, clang = sys.argv[1], sys.argv[2]
root = os.getcwd()
folders = ("server/", "common/", "client/", "worker/daemon/", "tests/unit/server/",
           "tests/unit/client/", "tests/unit/common/", "tests/unit/worker/daemon/", "tests/support/")
annotation = re.compile(r"ABSL_(GUARDED_BY|PT_GUARDED_BY|EXCLUSIVE_LOCKS_REQUIRED|"
                        r"SHARED_LOCKS_REQUIRED|LOCKS_EXCLUDED|ACQUIRED_(AFTER|BEFORE)|"
                        r"(EXCLUSIVE_|SHARED_)?LOCK_FUNCTION|UNLOCK_FUNCTION|LOCK_RETURNED|"
                        r"ASSERT_EXCLUSIVE_LOCK|SCOPED_LOCKABLE|LOCKABLE)\b")
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

def read(path):
    try:
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""

# Headers of the repository that carry annotations, then those that include one, to a fixpoint.
headers = {}
for folder in folders:
    for dirpath, _, names in os.walk(os.path.join(root, folder)):
        for name in names:
            if name.endswith(".h"):
                path = os.path.relpath(os.path.join(dirpath, name), root)
                headers[path] = read(path)
annotated = {h for h, text in headers.items() if annotation.search(text)}
changed = True
while changed:
    changed = False
    for h, text in headers.items():
        if h not in annotated and any(i in annotated for i in include.findall(text)):
            annotated.add(h)
            changed = True

for entry in json.load(open(database)):
    source = os.path.relpath(entry["file"], root)
    if not source.startswith(folders) or not source.endswith(".cc"):
        continue
    text = read(source)
    if not annotation.search(text) and not any(i in annotated for i in include.findall(text)):
        continue
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    flags, skip = [], False
    for arg in args[1:]:
        if skip:
            skip = False
        elif arg in ("-o", "-c"):
            skip = arg == "-o"
        elif arg == entry["file"] or arg.startswith("-W"):
            continue
        else:
            flags.append(arg)
    command = [clang, "-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety"] + flags + [entry["file"]]
    print(shlex.join(["cd", entry["directory"]]) + " && " + shlex.join(command))
PY
count=$(wc -l < "$list")
start=$(date +%s)
# One line per translation unit; xargs runs JOBS at a time and fails if any fails.
if ! tr '\n' '\0' < "$list" | xargs -0 -P "$JOBS" -I{} bash -c '{}'; then
  echo "thread_safety: clang's thread safety analysis failed (above)" >&2
  exit 1
fi
echo "thread_safety: $count translation units clean in $(( $(date +%s) - start )) s"
