#!/usr/bin/env bash
# Installs every Debian package that the build, the tests and the local cluster need.
# Idempotent, and quick when everything is already there (no apt-get call at all).
#   hack/install-deps.sh              build + tests + local cluster
#   hack/install-deps.sh --dev        also the developer tools (clang-format)
#   hack/install-deps.sh --no-cluster build + unit tests only (`make unit`: no Go, no cluster)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

packages=(
  # build
  cmake make ninja-build g++ pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  nlohmann-json3-dev libyaml-cpp-dev
  libboost-system-dev libboost-program-options-dev libssl-dev
  # tests
  catch2
)
cluster_packages=(
  # local cluster and integration tests
  openssl curl ca-certificates iproute2 procps util-linux git jq
  # the real node (local-cluster.sh up --node=real): runtime, CNI, test image, pause
  containerd runc containernetworking-plugins busybox-static gcc libc6-dev iptables
  # the provider's image (hack/build-image.sh): buildah on a debootstrapped Debian base
  buildah debootstrap debian-archive-keyring
)
cluster=1
case "${1:-}" in
  --dev) packages+=(clang-format) ;;
  --no-cluster) cluster=0 ;;
esac
[ $cluster = 1 ] && packages+=("${cluster_packages[@]}")
# With no go at all, Debian's (1.19) is what fetches the pinned toolchain (below).
[ $cluster = 0 ] || command -v go >/dev/null || packages+=(golang-go)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install-deps] installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The cluster binaries are built from Go modules (hack/build-cluster-binaries.sh) and
# Kubernetes v1.34 needs Go >= 1.24, newer than Debian 12's golang-go.
[ $cluster = 0 ] || "$here/lib/go-toolchain.sh"
