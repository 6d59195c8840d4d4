#!/usr/bin/env bash
# Installs everything ftd needs to build, run and test, from Debian 12's packages. Run as root.
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ pkg-config ccache
  # the product card
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libspdlog-dev prometheus-cpp-dev libgtest-dev libgmock-dev
  libtorch-dev libsqlite3-dev nlohmann-json3-dev libre2-dev libcli11-dev
  # the Hugging Face Hub and named datasets (HTTP(S), .tar.gz), bearer tokens' SHA-256; the
  # openssl CLI makes the TLS tests' certificates
  libcurl4-openssl-dev libssl-dev zlib1g-dev openssl
  # the tokenizer (common/tokenize): Unicode data and regexes
  libicu-dev
  # Debian's LibTorch links the generic libblas.so.3: without an optimized BLAS it runs the slow
  # reference implementation (a Linear forward+backward measured 26x slower).
  libopenblas0-pthread
  # tests: the PyTorch reference, a second gRPC client, a real Prometheus server
  python3-torch python3-grpcio prometheus
  # ftctl's tests: a real terminal (tmux), zsh for its completion, PyYAML to read `-o yaml` back;
  # tests of deploy/: the compose tool validating deploy/compose.yaml
  tmux zsh python3-yaml docker-compose
  # the fuzz stage (scripts/fuzz.sh): clang with libFuzzer and its sanitizer runtimes
  clang libclang-rt-14-dev
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

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
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
installed_version() {
  node -p "require('$ROOT/build-deps/node_modules/$1/package.json').version" 2>/dev/null || true
}
if [[ "$(installed_version @huggingface/tokenizers)" != "$HF_TOKENIZERS_JS_VERSION" ||
      "$(installed_version tokenizers)" != "$HF_TOKENIZERS_RUST_VERSION" ]]; then
  npm install --prefix "$ROOT/build-deps" --no-audit --no-fund --no-save \
    "@huggingface/tokenizers@$HF_TOKENIZERS_JS_VERSION" "tokenizers@$HF_TOKENIZERS_RUST_VERSION"
fi
