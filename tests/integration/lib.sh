# Helpers for the integration test scripts. Sourced; expects KUBECONFIG (and the cluster's
# kubectl on PATH) from `hack/local-cluster.sh env`, as `make test` sets them.
set -euo pipefail

failures=0
checks=0

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }

pass() { checks=$((checks + 1)); log "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); log "FAILED: $*"; }

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# eventually TIMEOUT_SECONDS WHAT COMMAND...: succeeds once COMMAND does.
eventually() {
  local timeout=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      fail "$what (not within ${timeout}s)"
      return 1
    fi
    sleep 0.2
  done
  pass "$what"
}

# Creates a namespace of the test's own in $ns, removed when the script exits.
# (Not a $(...) function: the EXIT trap must belong to the script, not a subshell.)
make_test_namespace() {
  ns="it-$(basename "$0" .sh | tr '_' '-')-$$"
  kubectl create namespace "$ns" >/dev/null
  trap drop_test_namespace EXIT
  # Pods need the namespace's default ServiceAccount, which kube-controller-manager adds
  # shortly after (later still if it is reconnecting after an API server restart).
  local i
  for i in $(seq 300); do
    kubectl -n "$ns" get serviceaccount default >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  log "namespace $ns has no default service account after 60 s"
  return 1
}

# Deletes the test's namespace. Its providers are gone, so the release finalizer of its
# workloads is dropped too; otherwise the namespace stays Terminating for good.
drop_test_namespace() {
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  kubectl -n "$ns" get iarnetworkloads -o name 2>/dev/null | while read -r w; do
    kubectl -n "$ns" patch "$w" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  done
}

finish() {
  log "$((checks - failures)) passed, $failures failed"
  [ $failures = 0 ] && [ $checks -gt 0 ]
}
