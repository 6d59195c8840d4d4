# syntax=docker/dockerfile:1
# ftd + ftworker + ftctl in one image. Two stages: `build` compiles with Debian 12's packages
# (scripts/install-deps.sh, what the demo installs: building and running, no test tools; the
# tests are not built); `runtime` holds the three binaries, the shared libraries they link (and
# nothing else) and a non-root user.
#
# CPU image (Debian's LibTorch 1.13, CPU only):
#   docker build -t ftd .
#   docker run -p 50051:50051 -p 9464:9464 -v ftd-home:/var/lib/ftd ftd
# ftd needs /var/lib/ftd/tokens (`TOKEN USER ROLE` lines, docs/daemon.md "Security") in the
# volume and reads datasets from /var/lib/ftd/data (its default --data-root).
#
# CUDA image: LibTorch with CUDA replaces Debian's CPU build. Put a LibTorch archive from
# pytorch.org (C++ ABI, "shared-with-deps", which bundles the CUDA runtime, cuBLAS and cuDNN) in
# the build context and name it:
#   docker build --build-arg LIBTORCH_ZIP=libtorch-cxx11-abi-shared-with-deps-2.1.2+cu121.zip \
#       -t ftd:cuda .
#   docker run --gpus all -p 50051:50051 -p 9464:9464 -v ftd-home:/var/lib/ftd ftd:cuda
# It is unpacked to /opt/libtorch, found first by CMake (CMAKE_PREFIX_PATH), and the binaries
# find its libraries there at run time (build-tree RPATH); the host provides the NVIDIA driver
# (NVIDIA Container Toolkit). ftworker picks cuda:0 when LibTorch sees a GPU.
ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build
ARG LIBTORCH_ZIP=
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN mkdir -p /opt/libtorch/lib \
 && if [ -n "${LIBTORCH_ZIP}" ]; then \
      apt-get update -qq && apt-get install -y -qq --no-install-recommends unzip \
      && unzip -q "${LIBTORCH_ZIP}" -d /opt && rm -rf /var/lib/apt/lists/*; \
    fi \
 && cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFT_BUILD_TESTS=OFF \
      -DCMAKE_PREFIX_PATH=/opt/libtorch \
 && cmake --build /build -j"$(nproc)"

FROM debian:${DEBIAN_RELEASE} AS runtime
# The packages of the shared libraries ftd, ftworker and ftctl link (tests/deploy check this list
# against the binaries' NEEDED entries and against scripts/install-deps.sh).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libtorch1.13 libopenblas0-pthread libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 \
      libspdlog1.10 libfmt9 libprometheus-cpp-pull1.0 libprometheus-cpp-core1.0 libcivetweb1 \
      libsqlite3-0 libicu72 libgomp1 \
      libcurl4 ca-certificates zlib1g libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/ftd --create-home ftd
COPY --from=build /opt/libtorch/lib /opt/libtorch/lib
COPY --from=build /build/bin/ftd /build/bin/ftworker /build/bin/ftctl /usr/local/bin/
USER ftd
ENV FT_HOME=/var/lib/ftd
VOLUME /var/lib/ftd
# 50051: the gRPC API (ftctl, clients, remote workers); 9464: Prometheus /metrics.
EXPOSE 50051 9464
# SERVING once the job store answers and a worker is connected (grpc.health.v1, `ftctl health`).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["ftctl", "--server", "127.0.0.1:50051", "--timeout", "3", "health"]
ENTRYPOINT ["ftd", "--listen", "0.0.0.0:50051", "--metrics-listen", "0.0.0.0:9464", "--home", "/var/lib/ftd", "--token-file", "/var/lib/ftd/tokens"]
