#!/usr/bin/env bash
# A real Kubernetes control plane on 127.0.0.1 for tests and `make run`:
# etcd, kube-apiserver (TLS, Node+RBAC, service-account tokens, aggregation layer),
# kube-controller-manager, kube-scheduler and KWOK simulated nodes; optionally one real
# node (kubelet, containerd, metrics-server: hack/lib/real-node.sh).
#
#   hack/local-cluster.sh up       start it (idempotent: a running cluster is left alone)
#   hack/local-cluster.sh up --node=real   (or IARNET_REAL_NODE=1) also the real node
#                                  iarnet-real-0; needs root and changes the host until `down`
#   hack/local-cluster.sh down     stop every process and remove all state
#   hack/local-cluster.sh status   print each component's state; exit 1 unless all run
#   hack/local-cluster.sh env      print `export KUBECONFIG=...` for the admin kubeconfig
#   hack/local-cluster.sh stop NAME / start NAME
#                                  stop or start one component (tests restart the API server)
#   hack/local-cluster.sh pause NAME / resume NAME
#                                  SIGSTOP / SIGCONT one running component: it keeps its
#                                  sockets but answers nothing (tests stall the API server)
#   hack/local-cluster.sh metrics-api off|on
#                                  remove or restore the metrics.k8s.io APIService (real node)
#   hack/local-cluster.sh load-image TAR [NAME]
#                                  import an image archive (hack/build-image.sh) into the
#                                  real node, also as NAME if given; prints its name
#
# State lives in $IARNET_CLUSTER_DIR (default $IARNET_CACHE/cluster), never in the repo.
# Node capacity: IARNET_NODE_COUNT, IARNET_NODE_CPU, IARNET_NODE_MEMORY, IARNET_NODE_GPU,
# IARNET_NODE_PODS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib/versions.sh"

: "${IARNET_CLUSTER_DIR:=$IARNET_CACHE/cluster}"
: "${IARNET_APISERVER_PORT:=16443}"
: "${IARNET_ETCD_PORT:=12379}"
: "${IARNET_NODE_COUNT:=1}"
: "${IARNET_NODE_CPU:=8}"
: "${IARNET_NODE_MEMORY:=8Gi}"
: "${IARNET_NODE_GPU:=4}"
: "${IARNET_NODE_PODS:=250}"
dir=$IARNET_CLUSTER_DIR
pki=$dir/pki
run=$dir/run
logs=$dir/logs
server=https://127.0.0.1:$IARNET_APISERVER_PORT
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
# Services get addresses from this range; the first is the `kubernetes` Service's.
service_range=10.96.0.0/16
service_ip=10.96.0.1
: "${IARNET_REAL_NODE:=0}"

log() { printf '[local-cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

bin_of() {
  case $1 in
    etcd) echo "$ETCD_BIN/etcd" ;;
    kwok) echo "$KWOK_BIN/kwok" ;;
    containerd) command -v containerd ;;
    metrics-server) echo "$METRICS_SERVER_BIN/metrics-server" ;;
    *) echo "$KUBE_BIN/$1" ;;
  esac
}
kubectl() { "$KUBE_BIN/kubectl" --kubeconfig "$dir/admin.kubeconfig" "$@"; }

running() {
  local pidfile=$run/$1.pid
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# Start a component in its own session so that `down` can stop it and its children.
start() {
  local name=$1
  shift
  if running "$name"; then return; fi
  mkdir -p "$run" "$logs"
  setsid "$(bin_of "$name")" "$@" >>"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

wait_for() {
  local what=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what not ready after ${timeout}s (logs in $logs)"
    sleep 0.2
  done
}

# --- certificates -------------------------------------------------------------------

new_ca() {
  local name=$1 cn=$2
  [ -f "$pki/$name.crt" ] && return
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$cn" \
    -keyout "$pki/$name.key" -out "$pki/$name.crt" 2>/dev/null
}

# new_cert NAME CA SUBJECT [SANS]: a certificate signed by CA, for clients and servers.
new_cert() {
  local name=$1 ca=$2 subj=$3 sans=${4:-}
  [ -f "$pki/$name.crt" ] && return
  local ext=$pki/$name.ext
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } >"$ext"
  openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$pki/$name.key" \
    -out "$pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" \
    -CAcreateserial -days 3650 -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$ext"
}

kubeconfig_for() {
  local name=$1 user=$2
  local cfg=$dir/$name.kubeconfig
  [ -f "$cfg" ] && return
  cat >"$cfg" <<CFG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $server
    certificate-authority: $pki/ca.crt
users:
- name: $user
  user:
    client-certificate: $pki/$name.crt
    client-key: $pki/$name.key
contexts:
- name: local
  context:
    cluster: local
    user: $user
    namespace: default
current-context: local
CFG
}

make_pki() {
  mkdir -p "$pki"
  chmod 700 "$dir" "$pki"
  new_ca ca iarnet-local-ca
  new_ca front-proxy-ca iarnet-local-front-proxy-ca
  new_cert apiserver ca "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:$service_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  new_cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client"
  new_cert front-proxy-client front-proxy-ca "/CN=front-proxy-client"
  new_cert admin ca "/O=system:masters/CN=iarnet-admin"
  new_cert controller-manager ca "/CN=system:kube-controller-manager"
  new_cert scheduler ca "/CN=system:kube-scheduler"
  new_cert kwok ca "/O=system:masters/CN=kwok-simulated-nodes"
  if [ ! -f "$pki/sa.key" ]; then
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  fi
  kubeconfig_for admin iarnet-admin
  kubeconfig_for controller-manager system:kube-controller-manager
  kubeconfig_for scheduler system:kube-scheduler
  kubeconfig_for kwok kwok-simulated-nodes
}

# --- components ---------------------------------------------------------------------

start_etcd() {
  mkdir -p "$dir/etcd"
  chmod 700 "$dir/etcd"
  start etcd --name local --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$IARNET_ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$IARNET_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((IARNET_ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((IARNET_ETCD_PORT + 1))" \
    --initial-cluster "local=http://127.0.0.1:$((IARNET_ETCD_PORT + 1))" \
    --listen-metrics-urls "http://127.0.0.1:$((IARNET_ETCD_PORT + 2))" \
    --log-level warn
  wait_for etcd 30 curl -sf "http://127.0.0.1:$IARNET_ETCD_PORT/health"
}

# Logs, exec and node proxy reach a kubelet at its InternalIP first: the real node's name
# (hack/lib/real-node.sh) resolves nowhere.
start_apiserver() {
  start kube-apiserver \
    --bind-address=127.0.0.1 --secure-port="$IARNET_APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$IARNET_ETCD_PORT" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true \
    --service-cluster-ip-range=$service_range \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --requestheader-client-ca-file="$pki/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-username-headers=X-Remote-User \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" \
    --proxy-client-key-file="$pki/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --profiling=false
  wait_for kube-apiserver 90 kubectl get --raw /readyz
}

start_controllers() {
  start kube-controller-manager \
    --kubeconfig="$dir/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$dir/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$dir/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$pki/sa.key" \
    --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --node-monitor-grace-period=40s
  start kube-scheduler \
    --kubeconfig="$dir/scheduler.kubeconfig" \
    --authentication-kubeconfig="$dir/scheduler.kubeconfig" \
    --authorization-kubeconfig="$dir/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 \
    --leader-elect=false
  start kwok \
    --kubeconfig="$dir/kwok.kubeconfig" \
    --config="$here/cluster/kwok-stages.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-label-selector=iarnet.io/simulated-node=true \
    --node-ip=10.244.0.1 --cidr=10.244.0.0/16 \
    --server-address="" \
    --enable-crds="" \
    --node-lease-duration-seconds=40
}

# Simulated nodes: registered here, kept Ready (heartbeats and node Leases) by KWOK.
register_nodes() {
  local i
  for ((i = 0; i < IARNET_NODE_COUNT; i++)); do
    sed -e "s/@NAME@/iarnet-sim-$i/" -e "s/@CPU@/$IARNET_NODE_CPU/" \
      -e "s/@MEMORY@/$IARNET_NODE_MEMORY/" -e "s/@GPU@/$IARNET_NODE_GPU/" -e "s/@PODS@/$IARNET_NODE_PODS/" \
      "$here/cluster/simulated-node.yaml" | kubectl apply -f - >/dev/null
  done
  wait_for "simulated nodes" 60 kubectl wait --for=condition=Ready node \
    -l iarnet.io/simulated-node=true --timeout=1s
}

install_crds() {
  kubectl apply -f "$repo/crds/" >/dev/null
  kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null
}

# The garbage collector learns about a new CRD's resources only on its next discovery
# pass (up to ~30 s). Until then an object owned by a custom resource would not be
# collected, so `up` waits until an owner/dependent pair actually is.
wait_for_gc_discovery() {
  local ns=iarnet-gc-probe
  [ -f "$run/gc-ready" ] && return
  kubectl create namespace $ns >/dev/null 2>&1 || true
  local uid
  uid=$(kubectl -n $ns create -f "$here/cluster/gc-probe-owner.yaml" -o jsonpath='{.metadata.uid}')
  sed "s/@UID@/$uid/" "$here/cluster/gc-probe-dependent.yaml" | kubectl -n $ns create -f - >/dev/null
  kubectl -n $ns delete iarnetprovider gc-probe --wait=false >/dev/null
  wait_for "garbage collection of custom-resource dependents" 90 \
    bash -c "! '$KUBE_BIN/kubectl' --kubeconfig '$dir/admin.kubeconfig' -n $ns get configmap gc-probe-dependent"
  kubectl delete namespace $ns --wait=false >/dev/null
  touch "$run/gc-ready"
}

cmd_up() {
  local t0=$SECONDS
  "$here/build-cluster-binaries.sh"
  local t1=$SECONDS
  mkdir -p "$dir"
  make_pki
  start_etcd
  start_apiserver
  local t2=$SECONDS
  start_controllers
  register_nodes
  install_crds
  wait_for "default service account" 60 kubectl -n default get serviceaccount default
  # The real node comes up while the garbage collector's discovery runs its course.
  if [ "$IARNET_REAL_NODE" = 1 ]; then
    real_node_up
    real_node_wait_ready
  fi
  wait_for_gc_discovery
  [ "$IARNET_REAL_NODE" != 1 ] || real_node_probe
  log "up: binaries $((t1 - t0)) s, control plane $((t2 - t1)) s, nodes+CRDs+GC $((SECONDS - t2)) s"
  log "KUBECONFIG=$dir/admin.kubeconfig"
}

stop_component() {
  local name=$1 pid
  [ -f "$run/$name.pid" ] || return 0
  pid=$(cat "$run/$name.pid")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$run/$name.pid"
}

cmd_stop() {
  local name=${1:?usage: $0 stop COMPONENT}
  case " ${components[*]} ${real_components[*]} " in *" $name "*) ;; *) die "unknown component $name" ;; esac
  stop_component "$name"
}

# pause|resume NAME: freeze or thaw the component's process (its sockets stay open, so
# callers hang rather than being refused).
cmd_signal() {
  local verb=$1 name=${2:?usage: $0 $1 COMPONENT} signal
  case " ${components[*]} ${real_components[*]} " in *" $name "*) ;; *) die "unknown component $name" ;; esac
  running "$name" || die "$name is not running"
  if [ "$verb" = pause ]; then signal=STOP; else signal=CONT; fi
  kill -"$signal" -- "-$(cat "$run/$name.pid")"
}

cmd_start() {
  local name=${1:?usage: $0 start COMPONENT}
  case $name in
    etcd) start_etcd ;;
    kube-apiserver) start_apiserver ;;
    kube-controller-manager | kube-scheduler | kwok) start_controllers ;;
    containerd) start_containerd ;;
    kubelet) start_kubelet ;;
    metrics-server) start_metrics_server ;;
    *) die "unknown component $name" ;;
  esac
}

cmd_down() {
  local i
  # The real node first: its processes, mounts, interfaces, cgroups and sysctls.
  [ ! -d "$real_dir" ] || real_node_down
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do stop_component "${components[$i]}"; done
  # Anything still running from this cluster (e.g. after a lost pid file) goes too.
  local left
  left=$(pgrep -f -- "$dir/" || true)
  if [ -n "$left" ]; then
    log "down: killing leftover processes $left"
    kill -KILL $left 2>/dev/null || true
  fi
  case "$dir" in
    "" | / | "$HOME") die "refusing to remove $dir" ;;
  esac
  rm -rf "$dir"
  log "down: stopped and removed $dir"
}

# print_status COMPONENT...: one line each; fails if any is stopped.
print_status() {
  local name ok=0
  for name in "$@"; do
    if running "$name"; then
      printf '%-24s running (pid %s)\n' "$name" "$(cat "$run/$name.pid")"
    else
      printf '%-24s stopped\n' "$name"
      ok=1
    fi
  done
  return $ok
}

cmd_status() {
  local ok=0
  print_status "${components[@]}" || ok=1
  if [ -f "$run/real-node" ]; then real_node_status || ok=1; fi
  if [ $ok = 0 ] && kubectl get --raw /readyz >/dev/null 2>&1; then
    echo "apiserver                ready at $server"
  else
    ok=1
  fi
  return $ok
}

cmd_env() {
  echo "export KUBECONFIG=$dir/admin.kubeconfig"
  echo "export IARNET_CLUSTER_DIR=$dir IARNET_ETCD_PORT=$IARNET_ETCD_PORT IARNET_APISERVER_PORT=$IARNET_APISERVER_PORT"
  echo "export PATH=$KUBE_BIN:$HELM_BIN:$GRPCURL_BIN:\$PATH"
}

# shellcheck source=lib/real-node.sh
source "$here/lib/real-node.sh"

case "${1:-}" in
  up)
    case "${2:-}" in
      "") ;;
      --node=real) IARNET_REAL_NODE=1 ;;
      *) die "usage: $0 up [--node=real]" ;;
    esac
    cmd_up
    ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  stop) cmd_stop "${2:-}" ;;
  start) cmd_start "${2:-}" ;;
  pause | resume) cmd_signal "$1" "${2:-}" ;;
  metrics-api) cmd_metrics_api "${2:-}" ;;
  load-image) cmd_load_image "${2:-}" "${3:-}" ;;
  *) echo "usage: $0 up [--node=real]|down|status|env|stop NAME|start NAME|metrics-api off|on|load-image TAR [NAME]" >&2; exit 2 ;;
esac
