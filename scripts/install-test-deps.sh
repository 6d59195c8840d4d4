#!/usr/bin/env bash
# Installs what only the tests need, after scripts/install-deps.sh (scripts/test.sh runs both;
# scripts/demo.sh runs neither this nor anything that downloads for tests). Run as root.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

TEST_PACKAGES=(
  # the unit tests (configured with FT_BUILD_TESTS=ON, the default)
  libgtest-dev libgmock-dev
  # the PyTorch reference, a second gRPC client, a real Prometheus server (and promtool)
  python3-torch python3-grpcio prometheus
  # ftctl's tests: a real terminal (tmux), zsh for its completion, PyYAML to read `-o yaml` back
  # (and deploy_check); the openssl CLI makes the TLS tests' certificates; tests of deploy/: the
  # compose tool validating deploy/compose.yaml
  tmux zsh python3-yaml openssl docker-compose
  # the chat template reference: Jinja2 configured as transformers configures it
  python3-jinja2
  # the fuzz stage (scripts/fuzz.sh): clang with libFuzzer and its sanitizer runtimes
  clang libclang-rt-14-dev
  # the web console in a real browser (console_browser_test drives it headless over the
  # DevTools protocol; nothing else downloads a browser)
  chromium
)
bash "$ROOT/scripts/install-deps.sh" "${TEST_PACKAGES[@]}"

# --- npm: JavaScript references (one block; add packages here) --------------------------------
# Hugging Face's tokenizers for the tests (not for building or running ftd), into a project-local
# folder (git-ignored; nothing downloads at build or test time): the JavaScript library
# (@huggingface/tokenizers), reference of tokenizer_js_parity_test and of the tokenizer
# benchmark, and the Rust library itself through its native bindings (npm `tokenizers`, which
# bundles its binaries), reference of tokenizer_rust_differential_test and of the benchmark.
# Needs node and npm (Debian's nodejs and npm, or any node >= 18 already present). Both are
# installed in one npm call: npm removes what a --no-save install of the other did not name.
HF_TOKENIZERS_JS_VERSION=0.2.0
HF_TOKENIZERS_RUST_VERSION=0.23.2
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
installed_version() {
  node -p "require('$ROOT/build-deps/node_modules/$1/package.json').version" 2>/dev/null || true
}
if [[ "$(installed_version @huggingface/tokenizers)" != "$HF_TOKENIZERS_JS_VERSION" ||
      "$(installed_version tokenizers)" != "$HF_TOKENIZERS_RUST_VERSION" ]]; then
  npm install --prefix "$ROOT/build-deps" --no-audit --no-fund --no-save \
    "@huggingface/tokenizers@$HF_TOKENIZERS_JS_VERSION" "tokenizers@$HF_TOKENIZERS_RUST_VERSION"
fi
# --- end of the npm block ------------------------------------------------------------------
