# iarnet-k8s-provider: a multi-stage build on Debian 12.
#   docker build -t iarnet/iarnet-k8s-provider:0.1.0 .
# The builder installs the same build packages as hack/install-deps.sh (a test checks
# that the two lists agree); the runtime stage has only the shared libraries the binary
# links, and runs as a non-root user.

FROM debian:12-slim AS build
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      cmake make ninja-build g++ pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto \
      nlohmann-json3-dev libyaml-cpp-dev \
      libboost-system-dev libboost-program-options-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
    && cmake --build /build --target iarnet-k8s-provider iarnet-cli \
    && strip /build/grpc-gateway/iarnet-k8s-provider /build/grpc-gateway/iarnet-cli

FROM debian:12-slim
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
