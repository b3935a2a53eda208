#!/usr/bin/env bash
# Builds the local cluster's programs from pinned Go modules and caches them by version
# under $IARNET_CACHE/bin/<component>-<version>/. Nothing is downloaded except Go modules
# through the Go module proxy; a second run with the same versions does nothing.
# Versions and the cache location are in hack/lib/versions.sh (KUBE_VERSION etc. override).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/versions.sh"

log() { printf '[build-cluster] %s\n' "$*" >&2; }

# Build one or more `main` packages of a module into $out, each given as NAME=PACKAGE. Staging modules of
# k8s.io/kubernetes are `v0.0.0 => ./staging/...` in its go.mod, which does not apply to a
# dependent module, so we replace each with the published v0.<minor>.<patch>.
build_module() {
  local name=$1 module=$2 version=$3 out=$4 ldflags=$5
  shift 5
  local pkgs=("$@")
  local missing=0 p
  for p in "${pkgs[@]}"; do [ -x "$out/${p%%=*}" ] || missing=1; done
  if [ $missing = 0 ]; then log "$name $version: cached in $out"; return; fi
  local work="$IARNET_CACHE/src/$name-$version"
  mkdir -p "$work" "$out"
  (
    cd "$work"
    if [ ! -f go.mod ]; then
      # Written to go.mod.new and renamed at the end, so an interrupted run leaves no
      # half-written go.mod behind.
      cat >go.mod.new <<MOD
module iarnet.local/build/$name

go 1.24

require $module $version
MOD
      if [ "$module" = k8s.io/kubernetes ]; then
        local staging="v0.${version#v1.}"
        local mod
        mod=$(go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
        sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$mod" | while read -r m; do
          echo "replace $m => $m $staging" >>go.mod.new
        done
      fi
      mv go.mod.new go.mod
    fi
    local start=$SECONDS
    for p in "${pkgs[@]}"; do
      local bin=${p%%=*} pkg=${p#*=}
      # Only what is missing: adding a program to a module does not rebuild the others.
      [ -x "$out/$bin" ] && continue
      log "$name $version: building $pkg"
      CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$out/$bin.tmp" "$pkg"
      mv "$out/$bin.tmp" "$out/$bin"
    done
    log "$name $version: built in $((SECONDS - start)) s"
  )
}

kube_ldflags() {
  local v=$KUBE_VERSION minor
  minor=${v#v1.}; minor=${minor%%.*}
  local pkg=k8s.io/component-base/version
  echo "-s -w -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
}

build_module kubernetes k8s.io/kubernetes "$KUBE_VERSION" "$KUBE_BIN" "$(kube_ldflags)" \
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
  kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler \
  kubectl=k8s.io/kubernetes/cmd/kubectl \
  kubelet=k8s.io/kubernetes/cmd/kubelet
build_module etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$ETCD_BIN" "-s -w" \
  etcd=go.etcd.io/etcd/server/v3
build_module kwok sigs.k8s.io/kwok "$KWOK_VERSION" "$KWOK_BIN" "-s -w" \
  kwok=sigs.k8s.io/kwok/cmd/kwok
# Helm, to install and test the chart (charts/iarnet-k8s-provider).
build_module helm helm.sh/helm/v3 "$HELM_VERSION" "$HELM_BIN" \
  "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  helm=helm.sh/helm/v3/cmd/helm
# metrics-server, for the real node's resource metrics (hack/lib/real-node.sh).
build_module metrics-server sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION" "$METRICS_SERVER_BIN" \
  "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION" \
  metrics-server=sigs.k8s.io/metrics-server/cmd/metrics-server
# grpcurl, to call the provider by reflection from the shell (tests, README examples).
build_module grpcurl github.com/fullstorydev/grpcurl "$GRPCURL_VERSION" "$GRPCURL_BIN" \
  "-s -w -X main.version=$GRPCURL_VERSION" \
  grpcurl=github.com/fullstorydev/grpcurl/cmd/grpcurl
