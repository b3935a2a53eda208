#!/usr/bin/env bash
# The chart as a cluster admin installs it, for real: the image built from the Dockerfile
# (hack/build-image.sh) is loaded into the real node, `helm install` runs it there with
# pullPolicy Never, and the Pod must become Ready through its probes, run as its non-root
# user on a read-only root, reach the API server through in-cluster config with its own
# ServiceAccount, and serve an iarnet control plane on the Pod IP: Connect, HealthCheck,
# Deploy (language and env), GetCapacity, Undeploy, with the component running on the
# real node and its capacity coming back.
source "$(dirname "$0")/lib.sh"
make_test_namespace
repo=$IARNET_SOURCE_DIR
source "$repo/hack/lib/versions.sh"  # IARNET_TEST_IMAGE
chart=$repo/charts/iarnet-k8s-provider
node=iarnet-real-0
k() { kubectl -n "$ns" "$@"; }
work=$(mktemp -d)
release=incluster
cleanup() {
  if [ "$failures" != 0 ]; then
    k get pods -o wide >&2 || true
    k logs -l app.kubernetes.io/instance=$release --tail=40 >&2 || true
  fi
  helm uninstall $release -n "$ns" --wait --timeout 60s >/dev/null 2>&1 || true
  kubectl taint nodes $node iarnet.io/real-node=true:NoSchedule --overwrite >/dev/null 2>&1 || true
  rm -rf "$work"
  drop_test_namespace
}
trap cleanup EXIT

# `make test` built the image in a phase of its own; alone, this test builds it.
tar=${IARNET_PROVIDER_IMAGE_TAR:-$("$repo/hack/build-image.sh")}
ref=$("$repo/hack/local-cluster.sh" load-image "$tar")
case $ref in
  iarnet.local/iarnet-k8s-provider:*) pass "load-image imported $ref" ;;
  *) fail "load-image printed '$ref'"; finish; exit 1 ;;
esac

# The component Pods select the real node by the provider's capacity.nodeSelector; they
# carry no toleration, so the node's taint (which keeps other tests' Pods off) is lifted
# while this test runs. The provider Pod gets both through the chart's values.
kubectl taint nodes $node iarnet.io/real-node- >/dev/null
cat >"$work/values.yaml" <<YAML
image: {repository: ${ref%:*}, tag: "${ref##*:}", pullPolicy: Never}
nodeSelector: {iarnet.io/real-node: "true"}
tolerations: [{key: iarnet.io/real-node, operator: Exists, effect: NoSchedule}]
provider:
  name: in-cluster
  capacity: {cpu: 1000, memory: 1073741824, gpu: 0}
  languages: {python: $IARNET_TEST_IMAGE}
capacity: {nodeSelector: {iarnet.io/real-node: "true"}}
YAML
helm install $release "$chart" -n "$ns" -f "$work/values.yaml" >/dev/null &&
  pass "helm install with the built image" || fail "helm install"
deploy=$release-iarnet-k8s-provider
k rollout status deployment/$deploy --timeout=300s >/dev/null &&
  pass "the Deployment rolls out: its Pod is Ready through /healthz and /readyz" ||
  fail "the provider Pod did not become Ready"

pod=$(k get pods -l app.kubernetes.io/instance=$release -o jsonpath='{.items[0].metadata.name}')
expect_eq "it runs on the real node" "$(k get pod "$pod" -o jsonpath='{.spec.nodeName}')" $node
expect_eq "with the image as loaded, never pulled" \
  "$(k get pod "$pod" -o jsonpath='{.spec.containers[0].image} {.spec.containers[0].imagePullPolicy}')" "$ref Never"

# The container's main process, seen from the host: its cgroup is named after the
# container ID (hack/lib/real-node.sh).
cid=$(k get pod "$pod" -o jsonpath='{.status.containerStatuses[0].containerID}')
cid=${cid#containerd://}
procs=$(find /sys/fs/cgroup/cpu/kubepods -type d -name "$cid" -print -quit)/cgroup.procs
pid=$(head -1 "$procs" 2>/dev/null || true)
expect_eq "its process is the provider" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" \
  "/usr/local/bin/iarnet-k8s-provider --config /etc/iarnet/config.yaml "
expect_eq "as the image's non-root user (real, effective, saved, fs uid)" \
  "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status" 2>/dev/null)" "65532 65532 65532 65532"
expect_eq "on a read-only root" \
  "$(awk '$5 == "/" {split($6, o, ","); print o[1]}' "/proc/$pid/mountinfo" 2>/dev/null)" ro

eventually 60 "in-cluster config: it dialled the kubernetes Service" \
  bash -c "kubectl -n $ns logs $pod | grep -q 'cluster https://10.96.0.1:443'"
expect_eq "with its own ServiceAccount's token" \
  "$(k get pod "$pod" -o jsonpath='{.spec.serviceAccountName}')" $deploy
eventually 60 "it created its IarnetProvider through the API server" \
  bash -c "kubectl -n $ns get iarnetproviders in-cluster -o jsonpath='{.status.ledger.total.cpu}' | grep -qx 1000"

# The control plane's sequence, from the host to the Pod IP.
ip=$(k get pod "$pod" -o jsonpath='{.status.podIP}')
call() { grpcurl -plaintext -max-time 120 -d "$2" "$ip:50052" "resource.provider.Service/$1"; }
cp='"provider_id": "cp-in-cluster"'
expect_eq "Connect" "$(call Connect "{$cp}" | jq -r .success)" true
expect_eq "HealthCheck: the capacity" "$(call HealthCheck "{$cp}" | jq -r .capacity.total.cpu)" 1000
# shellcheck disable=SC2016 # $COMPONENT_ID is expanded in the component
run='echo "id=$COMPONENT_ID"; sleep 3600'
deploy_request=$(jq -cn --arg run "$run" '{instance_id: "comp-in-cluster", provider_id: "cp-in-cluster",
  language: "LANG_PYTHON", resource_request: {cpu: 100, memory: 67108864},
  env_vars: {COMPONENT_ID: "comp-in-cluster", IARNET_TEST_RUN: $run}}')
out=$(call Deploy "$deploy_request")
expect_eq "Deploy succeeds (no error)" "$(jq -r '.error // ""' <<<"$out")" ""
component=$(k get pods -l iarnet.instance_id=comp-in-cluster -o jsonpath='{.items[0].metadata.name}')
expect_eq "the component runs on the real node" \
  "$(k get pod "$component" -o jsonpath='{.status.phase} {.spec.nodeName}')" "Running $node"
eventually 60 "with its env" bash -c "kubectl -n $ns logs $component | grep -qx id=comp-in-cluster"
expect_eq "GetCapacity: it is charged" \
  "$(call GetCapacity "{$cp}" | jq -r '.capacity.used.cpu, .capacity.used.memory' | tr '\n' ' ')" "100 67108864 "
expect_eq "Undeploy" "$(call Undeploy '{"instance_id": "comp-in-cluster", "provider_id": "cp-in-cluster"}' | jq -r '.error // ""')" ""
nothing_used() { [ "$(call GetCapacity "{$cp}" | jq -r '.capacity.used.cpu // 0')" = 0 ]; }
eventually 60 "its capacity returns" nothing_used
eventually 60 "its Pod is gone" bash -c "[ -z \"\$(kubectl -n $ns get pods -l iarnet.instance_id=comp-in-cluster -o name)\" ]"

# --- helm upgrade while workloads run: a new image tag and a changed value -------------
# deploy_one ID ADDRESS [CPU MEMORY]: prints the Deploy's error ("" is success).
deploy_one() {
  grpcurl -plaintext -max-time 120 -d "{$cp, \"instance_id\": \"$1\", \"language\": \"LANG_PYTHON\",
    \"resource_request\": {\"cpu\": ${3:-100}, \"memory\": ${4:-67108864}}}" "$2" \
    resource.provider.Service/Deploy 2>/dev/null | jq -r '.error // ""' 2>/dev/null || echo "call failed"
}
for w in run-1 run-2 run-3; do
  expect_eq "Deploy $w before the upgrade" "$(deploy_one $w "$ip:50052")" ""
done
uids() { kubectl -n "$ns" get pods -l iarnet.managed=true -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.uid} {end}'; }
before=$(uids)
census() { "$IARNET_BUILD_DIR/tests/iarnet-census" "$ns" in-cluster 1000 1073741824 0; }
next=${ref}-next
expect_eq "load-image tags the same image anew" "$("$repo/hack/local-cluster.sh" load-image "$tar" "$next")" "$next"
helm upgrade $release "$chart" -n "$ns" --reuse-values --set image.tag="${next##*:}" \
  --set provider.deployTimeout=75s >/dev/null && pass "helm upgrade: new tag, changed value" || fail "helm upgrade"
k rollout status deployment/$deploy --timeout=300s >/dev/null &&
  pass "the upgrade rolls out" || fail "the upgrade did not roll out"
new_pod=$(k get pods -l app.kubernetes.io/instance=$release --field-selector=status.phase=Running \
  -o jsonpath='{range .items[?(@.spec.containers[0].image=="'"$next"'")]}{.metadata.name}{end}')
[ -n "$new_pod" ] && [ "$new_pod" != "$pod" ] && pass "a new Pod runs the new tag ($new_pod)" ||
  fail "no Pod runs $next"
eventually 120 "the old Pod is gone" bash -c "! kubectl -n $ns get pod $pod >/dev/null 2>&1"
expect_eq "the new Pod has the changed value" \
  "$(k get configmap $deploy -o jsonpath='{.data.config\.yaml}' | grep -c 'deploy_timeout: 75s')" 1
expect_eq "no workload lost: the same component Pods, none restarted" "$(uids)" "$before"
eventually 60 "nor double charged: the census holds" census
expect_eq "three charged, once each" "$(census | tail -1 | grep -o 'admitted=[0-9]* .*charged_cpu=[0-9]*' | sed 's/ .*charged/ charged/')" \
  "admitted=3 charged_cpu=300"
ip=$(k get pod "$new_pod" -o jsonpath='{.status.podIP}')
expect_eq "the control plane's connection is kept: HealthCheck without a new Connect" \
  "$(call HealthCheck "{$cp}" | jq -r .capacity.used.cpu)" 300
eventually 60 "the new Pod leads" bash -c \
  "kubectl -n $ns get lease $deploy -o jsonpath='{.spec.holderIdentity}' | grep -q '^${new_pod}_'"

# --- two replicas, the leader Pod force-deleted in the middle of a burst of Deploys ----
helm upgrade $release "$chart" -n "$ns" --reuse-values --set replicaCount=2 >/dev/null &&
  pass "helm upgrade to two replicas" || fail "helm upgrade to two replicas"
k rollout status deployment/$deploy --timeout=300s >/dev/null && pass "both replicas Ready" || fail "two replicas did not become Ready"
expect_eq "a PodDisruptionBudget keeps one" "$(k get pdb $deploy -o jsonpath='{.spec.minAvailable}')" 1
mapfile -t ips < <(k get pods -l app.kubernetes.io/instance=$release --field-selector=status.phase=Running \
  -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}')
expect_eq "two provider Pods" "${#ips[@]}" 2
leader=$(k get lease $deploy -o jsonpath='{.spec.holderIdentity}')
leader=${leader%_*}
mkdir -p "$work/burst"
# 24 small components: room for all of them, so that the Deploys sent after the leader's
# Pod is gone must be admitted by the next leader.
for i in $(seq 1 24); do
  deploy_one "burst-$i" "${ips[$((i % 2))]}:50052" 20 16777216 >"$work/burst/burst-$i" &
  [ "$i" = 8 ] && k delete pod "$leader" --force --grace-period=0 >/dev/null 2>&1 &&
    pass "the leader Pod $leader force-deleted mid-burst"
done
wait
k rollout status deployment/$deploy --timeout=300s >/dev/null && pass "the Deployment recovers" || fail "no recovery"
eventually 180 "after the burst every invariant holds (census)" census
log "census: $(census | tail -1)"
# Every Deploy reported as a success is a component that runs. (A Deploy cut off with the
# leader's Pod leaves a pending workload that the leader deletes later; the census
# allows for it, as it holds its charge until then.)
phases=$(k get iarnetworkloads -o json | jq -r '.items[] | "\(.spec.instanceId) \(.status.phase // "")"')
bad="" succeeded=0 late=0
for f in "$work/burst"/*; do
  [ -n "$(cat "$f")" ] && continue  # refused or failed: the control plane will not use it
  id=$(basename "$f")
  succeeded=$((succeeded + 1))
  [ "${id#burst-}" -gt 8 ] && late=$((late + 1))
  grep -qx "$id Running" <<<"$phases" || bad="$bad $id"
done
log "burst: $succeeded of 24 Deploys succeeded, $late of them sent after the leader was deleted"
expect_eq "every Deploy answered with success runs" "$bad" ""
[ $late -gt 0 ] && pass "Deploys succeed after the leader is gone" || fail "no Deploy sent after the leader's deletion succeeded"
finish
