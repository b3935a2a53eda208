#!/usr/bin/env bash
# The provider process as users run it: it starts against the cluster, a workload applied
# with kubectl is admitted and runs, `kubectl get` shows it, re-applying the manifest is
# a no-op (the operator never writes spec), a SIGKILL and restart lose nothing, and
# deleting the workload releases its capacity.
source "$(dirname "$0")/lib.sh"
make_test_namespace
bin="$IARNET_BUILD_DIR/grpc-gateway/iarnet-k8s-provider"
manifest="$IARNET_SOURCE_DIR/examples/workload.yaml"
k() { kubectl -n "$ns" "$@"; }
work=$(mktemp -d)
port=$(shuf -i 40000-49999 -n 1)
while ss -ltn | grep -q ":$port "; do port=$(shuf -i 40000-49999 -n 1); done
cat >"$work/config.yaml" <<YAML
server: {port: $port}
kubernetes: {namespace: $ns}
resource: {cpu: 1000, memory: 1Gi, gpu: 0}
resource_tags: [cpu, memory]
YAML
pid=
start_provider() {
  "$bin" --config "$work/config.yaml" --kubeconfig "${IARNET_PROVIDER_KUBECONFIG:-$KUBECONFIG}" \
    >>"$work/provider.log" 2>&1 &
  pid=$!
  eventually 60 "provider serving" grep -q "gRPC on" "$work/provider.log"
}
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  if [ "$failures" != 0 ]; then
    log "provider log:"
    tail -50 "$work/provider.log" >&2
  fi
  rm -rf "$work"
  drop_test_namespace
}
trap cleanup EXIT

start_provider
expect_eq "the IarnetProvider is created from the config" \
  "$(k get iarnetproviders iarnet-provider -o jsonpath='{.spec.capacity.cpu}')" 1000

# Server reflection, as grpcurl (built from the Go module proxy) uses it: both service
# names are listed, and a call needs no .proto files.
expect_eq "grpcurl lists both provider services" \
  "$(grpcurl -plaintext "127.0.0.1:$port" list | grep -x 'resource.provider.Service\|provider.Service' | sort | tr '\n' ' ')" \
  "provider.Service resource.provider.Service "
capacity() { grpcurl -plaintext -d '{}' "127.0.0.1:$port" "$1/GetCapacity" | jq -r "$2"; }
configured_total() { [ "$(capacity resource.provider.Service .capacity.total.cpu)" = 1000 ]; }
eventually 30 "grpcurl calls GetCapacity: the configured total" configured_total
expect_eq "the same through the older service name" \
  "$(capacity provider.Service '.capacity.total.cpu, .capacity.available.memory' | tr '\n' ' ')" "1000 1073741824 "

k apply -f "$manifest" >/dev/null
eventually 30 "the workload applied with kubectl runs" \
  bash -c "[ \"\$(kubectl -n $ns get iw example-component -o jsonpath='{.status.phase}')\" = Running ]"
row=$(k get iw example-component --no-headers | awk '{print $2, $3, $4, $5, $6, $7}')
expect_eq "kubectl get iw columns" "$row" "comp.example Running 250 268435456 0 example-component"
eventually 10 "kubectl get iarnetproviders shows the ledger" \
  bash -c "kubectl -n $ns get iarnetproviders --no-headers | awk '{print \$2, \$4, \$5}' | grep -qx '250m/1 0/0 1'"
expect_eq "the Pod carries the iarnet labels" \
  "$(k get pods -l iarnet.managed=true,iarnet.instance_id=comp.example -o name)" "pod/example-component"

generation=$(k get iw example-component -o jsonpath='{.metadata.generation}')
out=$(k apply -f "$manifest")
expect_eq "re-applying the same manifest changes nothing" "$out" "iarnetworkload.iarnet.io/example-component unchanged"
expect_eq "the operator never wrote spec" "$(k get iw example-component -o jsonpath='{.metadata.generation}')" "$generation"

kill -9 "$pid"
wait "$pid" 2>/dev/null || true
start_provider
sleep 2
expect_eq "after SIGKILL and restart the workload is still admitted" \
  "$(k get iw example-component -o jsonpath='{.status.admission.cpu}')" 250
expect_eq "and the ledger is the same" \
  "$(k get iarnetproviders iarnet-provider -o jsonpath='{.status.ledger.used.cpu}')" 250

k delete iw example-component --wait=true --timeout=60s >/dev/null && pass "deleted through the finalizer" || fail "deletion hung"
eventually 30 "capacity released" \
  bash -c "[ \"\$(kubectl -n $ns get iarnetproviders iarnet-provider -o jsonpath='{.status.ledger.used.cpu}')\" = 0 ]"
expect_eq "its Pod is gone" "$(k get pods -l iarnet.managed=true -o name)" ""

finish
