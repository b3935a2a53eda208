# iarnet-k8s-provider: a multi-stage build on Debian 12.
#   docker build -t iarnet/iarnet-k8s-provider:0.1.0 .
#   make image        (buildah on a locally made Debian base, no Docker: hack/build-image.sh)
# The builder installs the same build packages as hack/install-deps.sh (a test checks
# that the two lists agree); the runtime stage has only the shared libraries the binary
# links, and runs as a non-root user. BASE_IMAGE is any Debian 12 (bookworm) image.
ARG BASE_IMAGE=debian:12-slim

FROM ${BASE_IMAGE} AS build
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      cmake make ninja-build g++ pkg-config ccache \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto \
      nlohmann-json3-dev libyaml-cpp-dev \
      libboost-system-dev libboost-program-options-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The compiler cache outlives the layer: a changed source (or a fresh clone, whose new
# mtimes invalidate the COPY layer) recompiles only what really changed.
ENV CCACHE_DIR=/root/.cache/ccache
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    && cmake --build /build --target iarnet-k8s-provider iarnet-cli \
    && strip /build/grpc-gateway/iarnet-k8s-provider /build/grpc-gateway/iarnet-cli

FROM ${BASE_IMAGE}
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libgrpc++1.51 libgrpc29 libprotobuf32 libyaml-cpp0.7 \
      libboost-system1.74.0 libboost-program-options1.74.0 libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 65532 iarnet \
    && useradd --system --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin iarnet
COPY --from=build /build/grpc-gateway/iarnet-k8s-provider /build/grpc-gateway/iarnet-cli /usr/local/bin/
COPY examples/config.yaml /etc/iarnet/config.yaml
USER 65532:65532
# gRPC (the iarnet control plane) and HTTP (REST, /healthz, /readyz, /metrics).
EXPOSE 50052 8080
ENTRYPOINT ["/usr/local/bin/iarnet-k8s-provider"]
CMD ["--config", "/etc/iarnet/config.yaml"]
