#!/usr/bin/env bash
# Helm installs the chart's crds/ once and never upgrades them. The README's upgrade
# step, `kubectl apply --server-side --force-conflicts -f charts/iarnet-k8s-provider/crds/`,
# must bring an older CRD to this release's: here an IarnetWorkload CRD as an older
# release had it, without `spec.gpuModel` (kubectl refuses the field), is upgraded by that
# step, after which the field is accepted and kept, and older workloads stay. The cluster's CRDs are this release's again at the end.
source "$(dirname "$0")/lib.sh"
make_test_namespace
chart_crds=$IARNET_SOURCE_DIR/charts/iarnet-k8s-provider/crds
crd=iarnetworkloads.iarnet.io
k() { kubectl -n "$ns" "$@"; }
upgrade() { kubectl apply --server-side --force-conflicts -f "$chart_crds" >/dev/null; }
trap 'upgrade; drop_test_namespace' EXIT

# The older CRD, applied as Helm's install of an older chart would own it.
kubectl create --dry-run=client -o json -f "$chart_crds/iarnet.io_iarnetworkloads.yaml" |
  jq 'del(.spec.versions[].schema.openAPIV3Schema.properties.spec.properties.gpuModel)' |
  kubectl apply --server-side --force-conflicts --field-manager=helm -f - >/dev/null &&
  pass "an older CRD without spec.gpuModel is applied" || fail "cannot apply the older CRD"

# gpu_model NAME: applies workload NAME with a gpuModel; prints what the API server said
# and succeeds if the field was stored.
gpu_model() {
  k apply -f - 2>&1 <<YAML && [ "$(k get iarnetworkloads "$1" -o jsonpath='{.spec.gpuModel}')" = Tesla-T4 ]
apiVersion: iarnet.io/v1alpha1
kind: IarnetWorkload
metadata: {name: $1}
spec: {instanceId: comp.$1, language: python, resources: {cpu: 100, memory: 1000}, gpuModel: Tesla-T4}
YAML
}
unknown_to_old_crd() {
  local out
  out=$(gpu_model old) && return 1
  [[ $out == *'unknown field "spec.gpuModel"'* ]]
}
# The API server serves a changed schema shortly after the change: poll.
eventually 30 "the older CRD does not know spec.gpuModel (kubectl's strict validation refuses it)" unknown_to_old_crd
k apply -f - >/dev/null <<YAML
apiVersion: iarnet.io/v1alpha1
kind: IarnetWorkload
metadata: {name: old}
spec: {instanceId: comp.old, language: python, resources: {cpu: 100, memory: 1000}}
YAML

upgrade && pass "the documented step runs" || fail "kubectl apply --server-side of crds/ failed"
kubectl wait --for=condition=Established crd/$crd --timeout=60s >/dev/null
eventually 30 "after it, a workload with spec.gpuModel is accepted and keeps it" gpu_model new
expect_eq "the workload made before the upgrade is still there" \
  "$(k get iarnetworkloads old -o jsonpath='{.spec.instanceId}')" comp.old
for f in "$chart_crds"/*.yaml; do
  name=$(kubectl create --dry-run=client -o jsonpath='{.metadata.name}' -f "$f")
  expect_eq "$name is this release's" \
    "$(kubectl get crd "$name" -o json | jq -S .spec.versions)" \
    "$(kubectl create --dry-run=client -o json -f "$f" | jq -S .spec.versions)"
done
finish
