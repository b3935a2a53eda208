# Pinned versions of everything the local cluster is built from, and where it is cached.
# Sourced by the hack/ scripts; each may be overridden from the environment.
: "${IARNET_CACHE:=$HOME/.cache/iarnet}"
: "${KUBE_VERSION:=v1.34.4}"
: "${ETCD_VERSION:=v3.6.16}"
: "${KWOK_VERSION:=v0.7.0}"
: "${HELM_VERSION:=v3.22.0}"
: "${METRICS_SERVER_VERSION:=v0.8.0}"
: "${GRPCURL_VERSION:=v1.9.3}"
KUBE_BIN="$IARNET_CACHE/bin/kubernetes-$KUBE_VERSION"
ETCD_BIN="$IARNET_CACHE/bin/etcd-$ETCD_VERSION"
KWOK_BIN="$IARNET_CACHE/bin/kwok-$KWOK_VERSION"
HELM_BIN="$IARNET_CACHE/bin/helm-$HELM_VERSION"
METRICS_SERVER_BIN="$IARNET_CACHE/bin/metrics-server-$METRICS_SERVER_VERSION"
GRPCURL_BIN="$IARNET_CACHE/bin/grpcurl-$GRPCURL_VERSION"
# The real node's images, built locally by hack/build-images.sh (no registry). The pause
# image's name is containerd's sandbox_image; the test image's tag must not be `latest`,
# so that the default pull policy IfNotPresent uses the imported image.
IARNET_PAUSE_IMAGE=registry.k8s.io/pause:3.10
IARNET_TEST_IMAGE=iarnet.local/testbox:1
# Go: the modules above need Go >= 1.$GO_MIN_MINOR. Without one on PATH, install-deps
# (hack/lib/go-toolchain.sh) fetches $GO_TOOLCHAIN from the Go module proxy into
# $GO_TOOLCHAIN_DIR, and every script that sources this file uses it from there.
GO_MIN_MINOR=24
: "${GO_TOOLCHAIN:=go1.24.13}"
GO_TOOLCHAIN_DIR=$IARNET_CACHE/go/$GO_TOOLCHAIN
go_is_new_enough() {
  local minor
  command -v go >/dev/null || return 1
  minor=$(go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  [ -n "$minor" ] && [ "$minor" -ge "$GO_MIN_MINOR" ]
}
if [ -x "$GO_TOOLCHAIN_DIR/bin/go" ] && ! go_is_new_enough; then
  PATH=$GO_TOOLCHAIN_DIR/bin:$PATH
  export PATH
fi
export IARNET_CACHE KUBE_VERSION ETCD_VERSION KWOK_VERSION HELM_VERSION METRICS_SERVER_VERSION GRPCURL_VERSION
