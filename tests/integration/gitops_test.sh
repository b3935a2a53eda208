#!/usr/bin/env bash
# GitOps: examples/gitops applied with `kubectl apply -k` (as Argo CD or Flux would) is
# admitted by a running provider, and a second apply (a re-sync) changes nothing.
source "$(dirname "$0")/lib.sh"
make_test_namespace
bin="$IARNET_BUILD_DIR/grpc-gateway/iarnet-k8s-provider"
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  [ "$failures" != 0 ] && tail -30 "$work/provider.log" >&2
  rm -rf "$work"
  drop_test_namespace
}
trap cleanup EXIT
k() { kubectl -n "$ns" "$@"; }

k apply -k "$IARNET_SOURCE_DIR/examples/gitops" >/dev/null && pass "kubectl apply -k examples/gitops" \
  || fail "kubectl apply -k examples/gitops"
port=$(shuf -i 40000-49999 -n 1)
printf 'server: {port: %s, http_port: 0}\nkubernetes: {namespace: %s}\n' "$port" "$ns" >"$work/config.yaml"
"$bin" --config "$work/config.yaml" --kubeconfig "${IARNET_PROVIDER_KUBECONFIG:-$KUBECONFIG}" \
  >"$work/provider.log" 2>&1 &
pid=$!
for w in gitops-ingest gitops-report; do
  eventually 60 "$w is admitted and runs" \
    bash -c "[ \"\$(kubectl -n $ns get iw $w -o jsonpath='{.status.phase}')\" = Running ]"
done
eventually 20 "the ledger holds both, against the provider's capacity from Git" \
  bash -c "kubectl -n $ns get iarnetproviders iarnet-provider --no-headers | awk '{print \$2, \$5}' | grep -qx '750m/2 2'"
out=$(k apply -k "$IARNET_SOURCE_DIR/examples/gitops")
expect_eq "a re-sync finds no drift (all 5 objects unchanged)" "$(grep -c ' unchanged$' <<<"$out")" 5
finish
