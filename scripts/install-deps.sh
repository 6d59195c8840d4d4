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
  # Debian's LibTorch links the generic libblas.so.3: without an optimized BLAS it runs the slow
  # reference implementation (a Linear forward+backward measured 26x slower).
  libopenblas0-pthread
  # tests: the PyTorch reference, a second gRPC client, a real Prometheus server
  python3-torch python3-grpcio prometheus
  # tests of deploy/: YAML parsing, and the compose tool validating deploy/compose.yaml
  python3-yaml docker-compose
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
