# syntax=docker/dockerfile:1
# CPU image of ftd + ftworker + ftctl, built from Debian 12's packages.
#   docker build -t ftd .
#   docker run -p 50051:50051 -p 9464:9464 -v ftd-home:/var/lib/ftd ftd
# ftd needs /var/lib/ftd/tokens (`TOKEN USER ROLE` lines, README "Security") in the volume and
# reads datasets from /var/lib/ftd/data (its default --data-root).
# A CUDA image needs LibTorch with CUDA instead of Debian's CPU build (libtorch-dev); that
# variant is not built here yet.
ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN BUILD_DIR=/build cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFT_BUILD_TESTS=OFF \
 && cmake --build /build -j"$(nproc)"

FROM debian:${DEBIAN_RELEASE} AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libtorch1.13 libopenblas0-pthread libgrpc++1.51 libprotobuf32 libspdlog1.10 \
      libprometheus-cpp-pull1.0 libprometheus-cpp-core1.0 libsqlite3-0 libicu72 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/ftd --create-home ftd
COPY --from=build /build/bin/ftd /build/bin/ftworker /build/bin/ftctl /usr/local/bin/
USER ftd
ENV FT_HOME=/var/lib/ftd
VOLUME /var/lib/ftd
EXPOSE 50051 9464
# Healthy while ftd answers, even UNAUTHENTICATED (ftctl's exit code 3: unreachable).
HEALTHCHECK --interval=30s --timeout=5s CMD ["sh", "-c", "ftctl --server 127.0.0.1:50051 list --limit 1 >/dev/null 2>&1; test $? -ne 3"]
ENTRYPOINT ["ftd", "--listen", "0.0.0.0:50051", "--metrics-listen", "0.0.0.0:9464", "--token-file", "/var/lib/ftd/tokens"]
