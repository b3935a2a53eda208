#!/usr/bin/env bash
# Proves the local cluster is a real Kubernetes control plane: CRDs with a status
# subresource and printer columns, garbage collection of custom-resource dependents,
# watches, Leases, RBAC, scheduling onto simulated nodes, and simulated Pod exits.
source "$(dirname "$0")/lib.sh"
make_test_namespace
k() { kubectl -n "$ns" "$@"; }

log "CRD served with a status subresource and printer columns"
k apply -f - >/dev/null <<YAML
apiVersion: iarnet.io/v1alpha1
kind: IarnetWorkload
metadata: {name: smoke}
spec:
  instanceId: comp.smoke
  language: python
  resources: {cpu: 250, memory: 268435456, gpu: 1}
YAML
k patch iw smoke --subresource=status --type=merge -p '{"status":{"phase":"Running","podName":"smoke-pod"}}' >/dev/null
expect_eq "status written through the status subresource" "$(k get iw smoke -o jsonpath='{.status.phase}')" Running
k patch iw smoke --type=merge -p '{"status":{"phase":"Failed"}}' >/dev/null
expect_eq "status ignored on the main resource" "$(k get iw smoke -o jsonpath='{.status.phase}')" Running
header=$(k get iw smoke | sed -n 1p | tr -s ' ')
expect_eq "printer columns" "$header" "NAME INSTANCE PHASE CPU MEMORY GPU POD AGE"
row=$(k get iw smoke --no-headers | awk '{print $2, $3, $4, $5, $6, $7}')
expect_eq "printer column values" "$row" "comp.smoke Running 250 268435456 1 smoke-pod"
if out=$(k apply -f - 2>&1 <<YAML
apiVersion: iarnet.io/v1alpha1
kind: IarnetWorkload
metadata: {name: smoke-bad}
spec: {instanceId: comp.bad, language: python, resources: {cpu: -1, memory: 1}}
YAML
); then fail "a negative quantity was accepted"; else
  case "$out" in *"spec.resources.cpu"*) pass "schema validation refuses a negative cpu" ;;
    *) fail "unexpected validation message: $out" ;; esac
fi

log "garbage collection of a Pod owned by a custom resource"
owner_uid=$(k get iw smoke -o jsonpath='{.metadata.uid}')
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: owned
  ownerReferences:
  - {apiVersion: iarnet.io/v1alpha1, kind: IarnetWorkload, name: smoke, uid: "$owner_uid", controller: true}
spec:
  containers: [{name: main, image: busybox}]
YAML
k delete iw smoke >/dev/null
eventually 60 "owned Pod collected after its owner is deleted" bash -c "! kubectl -n $ns get pod owned"

log "watch streams events"
watch_out=$(mktemp)
kubectl -n "$ns" get configmaps -w --output-watch-events \
  -o jsonpath='{.type} {.object.metadata.name}{"\n"}' >"$watch_out" 2>&1 &
watch_pid=$!
sleep 1
k create configmap watched --from-literal=a=1 >/dev/null
k patch configmap watched -p '{"data":{"a":"2"}}' >/dev/null
k delete configmap watched >/dev/null
eventually 20 "watch saw ADDED, MODIFIED and DELETED" \
  bash -c "grep -qx 'ADDED watched' $watch_out && grep -qx 'MODIFIED watched' $watch_out && grep -qx 'DELETED watched' $watch_out"
kill $watch_pid 2>/dev/null || true
rm -f "$watch_out"

log "Leases"
k apply -f - >/dev/null <<YAML
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: smoke}
spec: {holderIdentity: a, leaseDurationSeconds: 15, renewTime: "2026-01-01T00:00:00.000000Z"}
YAML
rv1=$(k get lease smoke -o jsonpath='{.metadata.resourceVersion}')
k patch lease smoke --type=merge -p '{"spec":{"renewTime":"2026-01-01T00:00:05.000000Z"}}' >/dev/null
expect_eq "Lease renewed" "$(k get lease smoke -o jsonpath='{.spec.renewTime}')" "2026-01-01T00:00:05.000000Z"
rv2=$(k get lease smoke -o jsonpath='{.metadata.resourceVersion}')
[ "$rv1" != "$rv2" ] && pass "renewal is a new resourceVersion" || fail "resourceVersion unchanged"
node=$(kubectl get nodes -l iarnet.io/simulated-node=true -o jsonpath='{.items[0].metadata.name}')
renew1=$(kubectl -n kube-node-lease get lease "$node" -o jsonpath='{.spec.renewTime}')
eventually 30 "the simulated node's Lease is renewed" \
  bash -c "[ \"\$(kubectl -n kube-node-lease get lease $node -o jsonpath='{.spec.renewTime}')\" != '$renew1' ]"

log "RBAC is enforced"
k create serviceaccount nobody >/dev/null
token=$(k create token nobody)
server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
ca=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.certificate-authority}')
as_nobody() { kubectl --kubeconfig=/dev/null --server="$server" --certificate-authority="$ca" --token="$token" "$@"; }
expect_eq "the token authenticates as the service account" \
  "$(as_nobody auth whoami -o jsonpath='{.status.userInfo.username}')" "system:serviceaccount:$ns:nobody"
if out=$(as_nobody -n "$ns" get pods 2>&1); then
  fail "a service account without roles could list Pods"
else
  case "$out" in *Forbidden*|*forbidden*) pass "a service account without roles is Forbidden" ;;
    *) fail "unexpected error: $out" ;; esac
fi

log "scheduling onto a simulated node"
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: runs}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: iarnet/component:python_3.11-latest
    resources:
      limits: {cpu: 500m, memory: 256Mi, nvidia.com/gpu: "1"}
YAML
eventually 60 "Pod Running on a simulated node" \
  bash -c "[ \"\$(kubectl -n $ns get pod runs -o jsonpath='{.status.phase}')\" = Running ]"
expect_eq "scheduled onto the simulated node" "$(k get pod runs -o jsonpath='{.spec.nodeName}')" "$node"
expect_eq "PodScheduled condition" \
  "$(k get pod runs -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}')" True
expect_eq "container reported running" \
  "$(k get pod runs -o jsonpath='{.status.containerStatuses[0].ready}')" true
[ -n "$(k get pod runs -o jsonpath='{.status.podIP}')" ] && pass "podIP set" || fail "no podIP"

log "a Pod that does not fit stays Pending"
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: too-big}
spec:
  containers: [{name: main, image: x, resources: {limits: {nvidia.com/gpu: "1000"}}}]
YAML
eventually 30 "unschedulable Pod reported by the scheduler" \
  bash -c "[ \"\$(kubectl -n $ns get pod too-big -o jsonpath='{.status.conditions[?(@.type==\"PodScheduled\")].reason}')\" = Unschedulable ]"

log "simulated exits"
k annotate pod runs iarnet.io/simulate-exit=Failed iarnet.io/simulate-exit-code=3 \
  iarnet.io/simulate-exit-reason=OOMKilled >/dev/null
eventually 30 "Pod Failed on request" \
  bash -c "[ \"\$(kubectl -n $ns get pod runs -o jsonpath='{.status.phase}')\" = Failed ]"
expect_eq "exit code" "$(k get pod runs -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')" 3
expect_eq "termination reason" "$(k get pod runs -o jsonpath='{.status.containerStatuses[0].state.terminated.reason}')" OOMKilled
k run done --image=x --restart=Never --annotations=iarnet.io/simulate-exit=Succeeded >/dev/null
eventually 30 "Pod Succeeded on request" \
  bash -c "[ \"\$(kubectl -n $ns get pod done -o jsonpath='{.status.phase}')\" = Succeeded ]"

log "deletion completes"
k delete pod runs done too-big --wait=true --timeout=30s >/dev/null && pass "Pods deleted" || fail "Pod deletion hung"

log "namespace deletion completes (kube-controller-manager's namespace controller)"
kubectl create namespace "$ns-gone" >/dev/null
kubectl -n "$ns-gone" create configmap content --from-literal=a=1 >/dev/null
kubectl delete namespace "$ns-gone" --wait=false >/dev/null
eventually 60 "namespace with content deleted" bash -c "! kubectl get namespace $ns-gone"

finish
