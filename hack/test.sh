#!/usr/bin/env bash
# `make test`: build with sanitizers, start a fresh local cluster (its own state and ports,
# so a `make run` cluster is left alone), run every unit and integration test, stop it.
#   hack/test.sh BUILD_DIR [ctest arguments...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build_dir=$1
shift
source "$here/lib/versions.sh"
export IARNET_CLUSTER_DIR="$IARNET_CACHE/test-cluster"
export IARNET_APISERVER_PORT=${IARNET_TEST_APISERVER_PORT:-26443}
export IARNET_ETCD_PORT=${IARNET_TEST_ETCD_PORT:-22379}
# Room for the storm tests' 300 running Pods: the operator's ledger, not the node, is
# what they exercise.
export IARNET_NODE_CPU=${IARNET_NODE_CPU:-64} IARNET_NODE_MEMORY=${IARNET_NODE_MEMORY:-64Gi}
export IARNET_NODE_PODS=${IARNET_NODE_PODS:-1000}

phase() { printf '[test] %-28s %4d s\n' "$1" "$2" >&2; }
t=$SECONDS
"$here/build.sh" "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DIARNET_SANITIZE=ON -DIARNET_BUILD_TESTS=ON
phase "build (sanitizers)" $((SECONDS - t))

# The provider's image from the Dockerfile, for the chart's in-cluster tests.
t=$SECONDS
IARNET_PROVIDER_IMAGE_TAR=$("$here/build-image.sh")
export IARNET_PROVIDER_IMAGE_TAR
phase "image (buildah)" $((SECONDS - t))

t=$SECONDS
"$here/local-cluster.sh" down
trap '"$here/local-cluster.sh" down' EXIT
"$here/local-cluster.sh" up --node=real
eval "$("$here/local-cluster.sh" env)"
phase "local cluster up" $((SECONDS - t))

# The chart installed cluster-wide, and the provider processes of the tests run with its
# ServiceAccount's token: the end-to-end suite proves the chart's RBAC is enough.
t=$SECONDS
kubectl create namespace iarnet-system >/dev/null
helm install iarnet-k8s-provider "$here/../charts/iarnet-k8s-provider" -n iarnet-system \
  --set rbac.clusterWide=true >/dev/null
export IARNET_PROVIDER_KUBECONFIG="$IARNET_CLUSTER_DIR/provider-sa.kubeconfig"
"$here/sa-kubeconfig.sh" iarnet-system iarnet-k8s-provider "$IARNET_PROVIDER_KUBECONFIG" 3h
phase "chart installed (RBAC for tests)" $((SECONDS - t))

t=$SECONDS
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
ctest --test-dir "$build_dir" --output-on-failure --timeout 900 "$@" || status=$?
phase "tests" $((SECONDS - t))
exit $status
