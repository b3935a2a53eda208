#!/usr/bin/env bash
# The Helm chart as a cluster admin meets it: lint, render (default and non-default
# values) and server-side dry-run, install, the provider running with the chart's
# ServiceAccount (and only that) registered and answering, RBAC that refuses what it
# must, the seed's operational kubectl commands, and uninstall leaving only the CRDs.
source "$(dirname "$0")/lib.sh"
make_test_namespace
chart="$IARNET_SOURCE_DIR/charts/iarnet-k8s-provider"
bin="$IARNET_BUILD_DIR/grpc-gateway/iarnet-k8s-provider"
cli_bin="$IARNET_BUILD_DIR/grpc-gateway/iarnet-cli"
k() { kubectl -n "$ns" "$@"; }
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  [ "$failures" != 0 ] && [ -f "$work/provider.log" ] && tail -30 "$work/provider.log" >&2
  helm uninstall iarnet -n "$ns" >/dev/null 2>&1 || true
  rm -rf "$work"
  drop_test_namespace
}
trap cleanup EXIT

# Lint and render.
helm lint --strict "$chart" >"$work/lint" 2>&1 && pass "helm lint --strict" || { fail "helm lint"; cat "$work/lint" >&2; }
cat >"$work/values.yaml" <<YAML
replicaCount: 2
rbac: {clusterWide: true}
image: {repository: registry.example/iarnet, tag: "9.9.9"}
provider:
  name: edge
  capacity: {cpu: 16000, memory: 34359738368, gpu: 2}
  resourceTags: [cpu, gpu, memory, camera]
  languages: {python: reg/py:3.11, go: reg/go:1.22}
  hostAliases: [{ip: 10.0.0.9, hostnames: [host.internal]}]
  healthCheckTimeout: 2m
YAML
helm lint --strict "$chart" -f "$work/values.yaml" >/dev/null 2>&1 && pass "helm lint with non-default values" || fail "helm lint with non-default values"
printf 'replicaCount: 0\n' >"$work/bad.yaml"
if out=$(helm lint "$chart" -f "$work/bad.yaml" 2>&1); then
  fail "the values schema accepted replicaCount 0"
else
  grep -q replicaCount <<<"$out" && pass "the values schema refuses replicaCount 0, naming it" \
    || fail "the schema error does not name replicaCount: $out"
fi

helm template iarnet "$chart" -n "$ns" >"$work/default.yaml"
kubectl apply --dry-run=server -n "$ns" -f "$work/default.yaml" >/dev/null 2>&1 \
  && pass "default render passes a server-side dry run" || fail "default render: dry run"
expect_eq "default: a namespaced Role" "$(grep -c '^kind: Role$' "$work/default.yaml")" 1
expect_eq "default: two ClusterRoles, for the node view and the kubelet summary" \
  "$(grep -c '^kind: ClusterRole$' "$work/default.yaml")" 2
expect_eq "default: their only cluster-scoped rules: read nodes and pods, get nodes/proxy" \
  "$(grep -A12 '^kind: ClusterRole$' "$work/default.yaml" | grep -A2 'resources:' | tr -d ' \n')" \
  "resources:[nodes,pods]verbs:[get,list,watch]----resources:[nodes/proxy]verbs:[get]"
helm template iarnet "$chart" -n "$ns" --set usage.kubeletSummary=false >"$work/no-summary.yaml"
expect_eq "usage.kubeletSummary=false: only the node view's ClusterRole" \
  "$(grep -c '^kind: ClusterRole$' "$work/no-summary.yaml")" 1
expect_eq "usage.kubeletSummary=false: the provider is told" \
  "$(grep -c 'kubelet_summary: false' "$work/no-summary.yaml")" 1
helm template iarnet "$chart" -n "$ns" --set usage.kubeletSummary=false \
  --set capacity.source=config >"$work/no-nodes.yaml"
expect_eq "capacity.source=config and no kubelet summary: no ClusterRole at all" \
  "$(grep -c '^kind: ClusterRole$' "$work/no-nodes.yaml")" 0
expect_eq "capacity.source=config: the provider is told" \
  "$(grep -c 'source: config' "$work/no-nodes.yaml")" 1
helm template iarnet "$chart" -n "$ns" --set provider.capacity.cpu=auto \
  --set capacity.nodeSelector.pool=gpu >"$work/auto.yaml"
expect_eq "capacity auto reaches the config and the IarnetProvider" "$(grep -c 'cpu: auto' "$work/auto.yaml")" 2
expect_eq "the node selector reaches the config" "$(grep -c 'node_selector: {"pool":"gpu"}' "$work/auto.yaml")" 1
kubectl apply --dry-run=server -n "$ns" -f "$work/auto.yaml" >/dev/null 2>&1 \
  && pass "capacity auto passes a server-side dry run" || fail "capacity auto: dry run"
expect_eq "default: no PodDisruptionBudget" "$(grep -c '^kind: PodDisruptionBudget$' "$work/default.yaml")" 0
expect_eq "default: components run as their image's user" "$(grep -c 'component_user' "$work/default.yaml")" 0
helm template iarnet "$chart" -n "$ns" --set provider.componentUser=65534 >"$work/user.yaml"
expect_eq "componentUser reaches the config" "$(grep -c 'component_user: 65534$' "$work/user.yaml")" 1
helm template iarnet "$chart" -n "$ns" --set provider.componentUser=0 >/dev/null 2>&1 \
  && fail "componentUser 0 (root) renders" || pass "componentUser 0 (root) is refused by the schema"
expect_eq "default (one replica): leader election all the same, for rolling updates" \
  "$(grep -A1 'leader_election:' "$work/default.yaml" | grep -c 'enabled: true')" 1
helm template iarnet "$chart" -n "$ns" -f "$work/values.yaml" >"$work/custom.yaml"
kubectl apply --dry-run=server -n "$ns" -f "$work/custom.yaml" >/dev/null 2>&1 \
  && pass "non-default render passes a server-side dry run" || fail "non-default render: dry run"
expect_eq "clusterWide: a ClusterRole (and the node view's and the kubelet summary's)" \
  "$(grep -c '^kind: ClusterRole$' "$work/custom.yaml")" 3
expect_eq "two replicas: a PodDisruptionBudget" "$(grep -c '^kind: PodDisruptionBudget$' "$work/custom.yaml")" 1
expect_eq "two replicas: leader election" "$(grep -A1 'leader_election:' "$work/custom.yaml" | grep -c 'enabled: true')" 1
expect_eq "the image from values" "$(grep -c 'image: "registry.example/iarnet:9.9.9"' "$work/custom.yaml")" 1
# Observability: off by default; a ServiceMonitor and a Grafana dashboard when asked.
expect_eq "default: no ServiceMonitor" "$(grep -c '^kind: ServiceMonitor$' "$work/default.yaml")" 0
expect_eq "default: no dashboard" "$(grep -c 'grafana_dashboard' "$work/default.yaml")" 0
helm template iarnet "$chart" -n "$ns" --set metrics.serviceMonitor.enabled=true \
  --set metrics.serviceMonitor.labels.release=kps >"$work/monitor.yaml"
expect_eq "a ServiceMonitor on request" "$(grep -c '^kind: ServiceMonitor$' "$work/monitor.yaml")" 1
expect_eq "the ServiceMonitor scrapes the http port's /metrics" \
  "$(grep -A3 -- '- port: http' "$work/monitor.yaml" | grep -c 'path: /metrics')" 1
expect_eq "the ServiceMonitor carries the labels asked for" "$(grep -c 'release: kps' "$work/monitor.yaml")" 1
helm template iarnet "$chart" -n "$ns" --set metrics.grafanaDashboard.enabled=true >"$work/dash.yaml"
kubectl apply --dry-run=server -n "$ns" -f "$work/dash.yaml" >/dev/null 2>&1 \
  && pass "the dashboard render passes a server-side dry run" || fail "dashboard render: dry run"
dashboard="$work/dashboard.json"
sed -n '/iarnet-k8s-provider.json: |-/,$p' "$work/dash.yaml" | sed '1d; /^---/,$d; s/^    //' >"$dashboard"
jq -e '.panels | length > 0' "$dashboard" >/dev/null && pass "the dashboard ConfigMap holds the dashboard's JSON" \
  || fail "the dashboard ConfigMap does not hold valid dashboard JSON"
for want in iarnet_ledger_used iarnet_deploys_total controller_runtime_reconcile_total workqueue_depth; do
  grep -q "$want" "$dashboard" && pass "the dashboard shows $want" || fail "the dashboard lacks $want"
done

for want in 'readOnlyRootFilesystem: true' 'runAsNonRoot: true' 'drop: \[ALL\]' 'path: /healthz' 'path: /readyz'; do
  grep -q "$want" "$work/default.yaml" && pass "the Deployment has $want" || fail "the Deployment lacks $want"
done

# Install (namespaced RBAC), then run the provider outside the cluster with the chart's
# ServiceAccount token: it must find what it needs and nothing more.
helm install iarnet "$chart" -n "$ns" --set provider.capacity.cpu=3000 >/dev/null \
  && pass "helm install" || fail "helm install"
expect_eq "the chart's IarnetProvider" "$(k get iarnetproviders iarnet-provider -o jsonpath='{.spec.capacity.cpu}')" 3000
sa=iarnet-iarnet-k8s-provider
"$IARNET_SOURCE_DIR/hack/sa-kubeconfig.sh" "$ns" "$sa" "$work/sa.kubeconfig"
port=$(shuf -i 40000-49999 -n 1)
http_port=$((port + 10000))
cat >"$work/config.yaml" <<YAML
server: {port: $port, http_port: $http_port}
kubernetes: {namespace: $ns}
resource: {cpu: 1000, memory: 1Gi}
YAML
"$bin" --config "$work/config.yaml" --kubeconfig "$work/sa.kubeconfig" >"$work/provider.log" 2>&1 &
pid=$!
eventually 60 "the provider runs with the chart's ServiceAccount" grep -q "gRPC on" "$work/provider.log"
grep -q "gRPC on" "$work/provider.log" || { echo "--- provider log:"; cat "$work/provider.log"; } >&2
cli() { "$cli_bin" --address "127.0.0.1:$port" "$@"; }
expect_eq "registered: capacity from the chart's IarnetProvider" \
  "$(cli capacity | sed -n '/"total"/,/}/s/.*"cpu": "\([0-9]*\)".*/\1/p')" 3000
cli connect provider.helm >/dev/null && pass "Connect" || fail "Connect"
cli deploy comp.one --language python --cpu 500 --memory 1Mi --provider-id provider.helm >/dev/null \
  && pass "Deploy comp.one" || fail "Deploy comp.one"
cli deploy comp.two --language python --cpu 500 --memory 1Mi --provider-id provider.helm >/dev/null \
  && pass "Deploy comp.two" || fail "Deploy comp.two"

# Every metric the dashboard's queries name is one /metrics exposes (a histogram as its
# _bucket, _sum and _count series), and every query names at least one.
curl -sf "http://127.0.0.1:$http_port/metrics" >"$work/metrics.txt" || fail "GET /metrics"
exposed=$(awk '$1 == "#" && $2 == "TYPE" {
  print $3; if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" } }' \
  "$work/metrics.txt" | sort -u)
queries=$(jq -r '[.panels[].targets[].expr, (.templating.list[] | .query | strings)] | .[]' "$dashboard")
bad=0
[ -n "$queries" ] || { fail "the dashboard has no queries"; bad=1; }
while IFS= read -r q; do
  [ -n "$q" ] || continue
  [ "$q" = prometheus ] && continue  # the data source variable's type, not a query
  names=$(printf '%s\n' "$q" | grep -oE '[a-zA-Z_:][a-zA-Z0-9_:]*\{|label_values\([a-zA-Z_:][a-zA-Z0-9_:]*' \
    | sed 's/{$//; s/^label_values(//' | sort -u)
  [ -n "$names" ] || { fail "a dashboard query names no metric: $q"; bad=1; }
  for n in $names; do
    grep -qx "$n" <<<"$exposed" ||
      { fail "the dashboard queries $n, which /metrics does not expose: $q"; bad=1; }
  done
done <<<"$queries"
[ $bad = 0 ] && pass "every dashboard query names only metrics /metrics exposes"

# RBAC: what the ServiceAccount must not do.
as="--as=system:serviceaccount:$ns:$sa"
can() { kubectl auth can-i "$as" "$@" 2>/dev/null || true; }
expect_eq "cannot read Secrets" "$(can get secrets -n "$ns")" no
expect_eq "cannot list Secrets" "$(can list secrets -n "$ns")" no
expect_eq "cannot create Pods in another namespace" "$(can create pods -n default)" no
expect_eq "cannot delete Pods in another namespace" "$(can delete pods -n kube-system)" no
expect_eq "cannot change its Role" "$(can update roles -n "$ns")" no
expect_eq "cannot bind roles" "$(can create rolebindings -n "$ns")" no
expect_eq "cannot escalate" "$(can escalate roles -n "$ns")" no
expect_eq "cannot touch ClusterRoles" "$(can update clusterroles)" no
expect_eq "cannot change IarnetWorkload specs" "$(can update iarnetworkloads -n "$ns")" no
expect_eq "can create Pods in its namespace" "$(can create pods -n "$ns")" yes
expect_eq "can list PodMetrics in its namespace" "$(can list pods.metrics.k8s.io -n "$ns")" yes
expect_eq "cannot list PodMetrics elsewhere" "$(can list pods.metrics.k8s.io -n default)" no
expect_eq "can get nodes/proxy (kubelet summary)" "$(can get nodes --subresource=proxy)" yes
expect_eq "cannot create nodes/proxy (kubelet exec, port-forward)" \
  "$(can create nodes --subresource=proxy)" no
expect_eq "cannot get nodes/proxy without the kubelet summary" \
  "$(kubectl auth can-i --as=system:serviceaccount:default:nobody get nodes --subresource=proxy 2>/dev/null || true)" no
# The node view (capacity.source nodes, the default): read nodes and pods everywhere, no more.
expect_eq "can watch Nodes (node view)" "$(can watch nodes)" yes
expect_eq "can list Pods in every namespace (node view)" "$(can list pods --all-namespaces)" yes
expect_eq "cannot change Nodes" "$(can patch nodes)" no
expect_eq "cannot delete Nodes" "$(can delete nodes)" no
expect_eq "cannot change Pods in another namespace" "$(can patch pods -n default)" no

# The seed's operational commands.
expect_eq "kubectl get pods -l iarnet.managed=true" "$(k get pods -l iarnet.managed=true --no-headers | wc -l | tr -d ' ')" 2
expect_eq "kubectl get pods -l iarnet.provider_id=provider.helm" \
  "$(k get pods -l iarnet.provider_id=provider.helm --no-headers | wc -l | tr -d ' ')" 2
k delete pods -l iarnet.managed=true --wait=false >/dev/null
eventually 30 "deleting the Pods ends their workloads" \
  bash -c "[ \"\$(kubectl -n $ns get iw -o jsonpath='{.items[*].status.reason}')\" = 'PodDeleted PodDeleted' ]"
eventually 30 "and releases their capacity" \
  bash -c "[ \"\$(kubectl -n $ns get iarnetproviders iarnet-provider -o jsonpath='{.status.ledger.used.cpu}')\" = 0 ]"
cli undeploy comp.one >/dev/null && cli undeploy comp.two >/dev/null && pass "Undeploy" || fail "Undeploy"
expect_eq "no workloads left" "$(k get iw --no-headers 2>/dev/null | wc -l | tr -d ' ')" 0
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=

# capacity.source=config: no node access at all (with the kubelet summary off too).
helm upgrade iarnet "$chart" -n "$ns" --reuse-values --set capacity.source=config \
  --set usage.kubeletSummary=false >/dev/null && pass "helm upgrade to capacity.source=config" \
  || fail "helm upgrade to capacity.source=config"
eventually 30 "capacity.source=config: cannot read Nodes" bash -c "[ \"\$(kubectl auth can-i $as get nodes 2>/dev/null)\" = no ]"
expect_eq "capacity.source=config: cannot list Pods in every namespace" \
  "$(can list pods --all-namespaces)" no
expect_eq "capacity.source=config: still lists Pods in its namespace" "$(can list pods -n "$ns")" yes

# Uninstall: nothing of the release is left but the CRDs (Helm's convention).
helm uninstall iarnet -n "$ns" >/dev/null && pass "helm uninstall" || fail "helm uninstall"
left=$(kubectl get deploy,svc,cm,sa,role,rolebinding,pdb,iarnetproviders -n "$ns" \
  -l app.kubernetes.io/instance=iarnet --no-headers 2>/dev/null | wc -l | tr -d ' ')
expect_eq "nothing of the release is left" "$left" 0
expect_eq "no cluster-scoped RBAC of the release is left" \
  "$(kubectl get clusterrole,clusterrolebinding -o name | grep -c -- "-$ns-kubelet-summary")" 0
expect_eq "the CRDs stay" "$(kubectl get crd iarnetworkloads.iarnet.io iarnetproviders.iarnet.io --no-headers | wc -l | tr -d ' ')" 2
finish
