#!/usr/bin/env bash
# `make run`: runs the provider against the configured cluster, or against the embedded
# local cluster when no kubeconfig is configured (neither $KUBECONFIG nor
# kubernetes.kubeconfig / in_cluster in the config file).
#   hack/run.sh PROVIDER_BINARY CONFIG_FILE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bin=$1
config=$2
source "$here/lib/versions.sh"

# The effective configuration, as key=value lines; this also validates the file.
effective=$("$bin" --config "$config" --print-config)
setting() { sed -n "s/^$1=//p" <<<"$effective"; }

kubeconfig=${KUBECONFIG:-$(setting kubernetes.kubeconfig)}
if [ -z "$kubeconfig" ] && [ "$(setting kubernetes.in_cluster)" != true ]; then
  # Simulated nodes as large as the provider's configured capacity.
  export IARNET_NODE_CPU="$(setting resource.cpu)m"
  export IARNET_NODE_MEMORY="$(setting resource.memory)"
  export IARNET_NODE_GPU="$(setting resource.gpu)"
  "$here/local-cluster.sh" up
  eval "$("$here/local-cluster.sh" env)"
  kubeconfig=$KUBECONFIG
  echo "[run] local cluster: export KUBECONFIG=$kubeconfig PATH=$KUBE_BIN:\$PATH" >&2
fi

kubectl=$(command -v kubectl || true)
[ -n "$kubectl" ] || { "$here/build-cluster-binaries.sh"; kubectl=$KUBE_BIN/kubectl; }
"$kubectl" --kubeconfig "$kubeconfig" apply -f "$repo/crds/"
exec "$bin" --config "$config" --kubeconfig "$kubeconfig"
