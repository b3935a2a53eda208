#!/usr/bin/env bash
# Invalid IarnetWorkloads are refused by the API server itself (the CRD's schema and CEL
# rules), with a message naming the field, and nothing is created.
source "$(dirname "$0")/lib.sh"
make_test_namespace

# refused WHAT EXPECTED_TEXT SPEC_YAML: applying a workload with this spec fails, saying EXPECTED_TEXT.
refused() {
  local what=$1 expected=$2 spec=$3 name=${4:-bad}
  local out
  if out=$(kubectl -n "$ns" apply -f - 2>&1 <<YAML
apiVersion: iarnet.io/v1alpha1
kind: IarnetWorkload
metadata: {name: $name}
spec: $spec
YAML
  ); then
    fail "$what: accepted"
  else
    case "$out" in
      *"$expected"*) pass "$what" ;;
      *) fail "$what: unexpected message: $out" ;;
    esac
  fi
}

ok_resources='{cpu: 100, memory: 1000}'
refused "instanceId is required" 'spec.instanceId: Required value' "{language: python, resources: $ok_resources}"
refused "negative memory" 'spec.resources.memory: Invalid value: -1' \
  "{instanceId: comp.a, language: python, resources: {cpu: 1, memory: -1}}"
refused "negative gpu" 'spec.resources.gpu: Invalid value: -2' \
  "{instanceId: comp.a, language: python, resources: {cpu: 1, memory: 1, gpu: -2}}"
refused "unknown language" 'spec.language: Unsupported value: "cobol"' \
  "{instanceId: comp.a, language: cobol, resources: $ok_resources}"
refused "an image or a language" 'set spec.image or spec.language' \
  "{instanceId: comp.a, resources: $ok_resources}"
refused "env names" 'spec.env[0].name' \
  "{instanceId: comp.a, language: python, resources: $ok_resources, env: [{name: '1 bad', value: x}]}"
refused "instanceId length" 'spec.instanceId: Too long' \
  "{instanceId: $(printf 'x%.0s' $(seq 300)), language: python, resources: $ok_resources}"
refused "name length" 'metadata.name' "{instanceId: comp.a, language: python, resources: $ok_resources}" \
  "$(printf 'n%.0s' $(seq 70))"
refused "a GPU model that is not a label value" 'spec.gpuModel' \
  "{instanceId: comp.a, language: python, resources: $ok_resources, gpuModel: 'A 100'}"
expect_eq "nothing was created" "$(kubectl -n "$ns" get iw -o name)" ""

# IarnetProvider capacities: a number of at least 0, or auto (no cap).
provider() {
  kubectl -n "$ns" apply -f - 2>&1 <<YAML
apiVersion: iarnet.io/v1alpha1
kind: IarnetProvider
metadata: {name: $1}
spec: {capacity: $2}
YAML
}
out=$(provider capped '{cpu: lots, memory: 1}') && fail "capacity cpu: lots accepted" || {
  case "$out" in
    *"spec.capacity.cpu"*"a number of at least 0, or auto"*) pass "capacity cpu: lots refused, naming the field" ;;
    *) fail "capacity cpu: lots: unexpected message: $out" ;;
  esac
}
out=$(provider capped '{cpu: 1, memory: -1}') && fail "capacity memory: -1 accepted" \
  || pass "capacity memory: -1 refused"
provider auto '{cpu: auto, memory: 8589934592, gpu: auto}' >/dev/null && pass "capacity auto accepted" \
  || fail "capacity auto refused"
expect_eq "auto is kept as written" "$(kubectl -n "$ns" get iarnetprovider auto -o jsonpath='{.spec.capacity.cpu}')" auto

finish
