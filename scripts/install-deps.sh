#!/usr/bin/env bash
# Installs what building and running ftd, ftworker and ftctl needs, from Debian 12's packages
# (scripts/demo.sh, the Dockerfile's build stage). Run as root. The tests' own tools are in
# scripts/install-test-deps.sh, which scripts/test.sh runs after this one.
#   bash scripts/install-deps.sh               # the packages below
#   bash scripts/install-deps.sh tmux zsh      # the same plus these (install-test-deps.sh)
set -euo pipefail

PACKAGES=(
  # build (scripts/build.sh; the demo configures with -DFT_BUILD_TESTS=OFF, so no GoogleTest)
  cmake ninja-build g++ pkg-config ccache
  # the product card
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libspdlog-dev prometheus-cpp-dev
  libtorch-dev libsqlite3-dev nlohmann-json3-dev libre2-dev libcli11-dev
  # c10d's ProcessGroupGloo headers (worker/distributed: data-parallel training)
  libgloo-dev
  # the web console's HTTP server (prometheus-cpp-dev pulls it in too; ftd uses it directly)
  libcivetweb-dev
  # the Hugging Face Hub and named datasets (HTTP(S), .tar.gz, the CAs to check the servers),
  # bearer tokens' SHA-256
  libcurl4-openssl-dev libssl-dev zlib1g-dev ca-certificates
  # the tokenizer (common/tokenize): Unicode data and regexes
  libicu-dev
  # Debian's LibTorch links the generic libblas.so.3: without an optimized BLAS it runs the slow
  # reference implementation (a Linear forward+backward measured 26x slower).
  libopenblas0-pthread
)

missing=()
for package in "${PACKAGES[@]}" "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
