# shellcheck shell=bash
# shellcheck disable=SC2154 # $dir, $here, $pki, $run, $logs are local-cluster.sh's
# The real node tier of hack/local-cluster.sh (`up --node=real` or IARNET_REAL_NODE=1):
# one kubelet node, iarnet-real-0, running real containers through Debian's containerd,
# runc and CNI plugins, next to the KWOK nodes, plus metrics-server for the metrics API.
# Sourced by local-cluster.sh, whose helpers (start, wait_for, kubectl, new_cert, ...)
# and variables ($dir, $pki, $run, $logs, $here) it uses.
#
# It changes the host, so only one real node can run on a machine, and `down` undoes it:
#   - the interface $real_iface with the node's address $IARNET_REAL_NODE_IP/32: the
#     kubelet refuses a loopback node IP and the aggregation layer a loopback endpoint.
#     A dummy interface where the kernel has the driver, else a bridge without ports;
#   - the CNI bridge $real_bridge for Pods in $real_pod_cidr, host-local IPAM in /var/lib/cni;
#   - containerd's state and socket in $ctr_state (its root, with the images, in $dir),
#     and shim sockets in /run/containerd/s;
#   - the kubelet's /var/lib/kubelet, /var/log/pods, /var/log/containers and its kubepods
#     cgroups, and the sysctls it and the CNI bridge set (ip_forward among them: saved at
#     `up`, restored at `down`);
#   - the route from Pods to the API server: a Pod's in-cluster config dials the
#     `kubernetes` Service, $service_ip:443, and with no kube-proxy nothing answers there,
#     so traffic to it arriving on $real_bridge is DNATed to 127.0.0.1:<API server port>
#     (chain IARNET-APISERVER in the nat table), which needs route_localnet on the bridge;
#     the API server's certificate holds $service_ip. The bridge is made before the first
#     Pod so that the sysctl can be set;
#   - the iptables chains the kubelet adds (KUBE-FIREWALL, KUBE-KUBELET-CANARY, ...): every
#     chain that was not there at `up` is removed at `down`, with the rules jumping to it.
#
# Where a test finds a container's cgroup (v1, cgroupfs driver), for Pod UID U and
# container ID C (containerStatuses[].containerID without "containerd://"):
#   /sys/fs/cgroup/{cpu,memory,pids,...}/kubepods/[burstable/|besteffort/]podU/C
# (Guaranteed Pods sit directly under kubepods/).

: "${IARNET_REAL_NODE_IP:=10.213.0.1}"
: "${IARNET_METRICS_SERVER_PORT:=4443}"
real_node=iarnet-real-0
real_iface=iarnet0
real_bridge=cni0
real_pod_cidr=10.88.0.0/16
real_dir=$dir/real-node
ctr_state=/run/iarnet-containerd
ctr_socket=$ctr_state/containerd.sock
kubelet_port=10250
kubelet_healthz_port=10248
real_components=(containerd kubelet metrics-server)
# Which cluster directory has the machine's one real node.
real_owner=/run/iarnet-real-node.owner
# The sysctls that the kubelet sets (protectKernelDefaults: false) and `down` restores.
real_sysctls=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.ip_forward)
# The iptables families whose chains `down` restores (snapshots taken at the first `up`).
real_iptables=(iptables ip6tables)

# Our containerd's ctr; with no containerd behind the socket it gives up after 2 s, not 10.
ctr() { command ctr --address "$ctr_socket" --namespace k8s.io --connect-timeout 2s "$@"; }

# Fill @NAME@ fields of a template: fill FILE NAME=VALUE...
fill() {
  local file=$1 kv args=()
  shift
  for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "$file"
}

# --- host -------------------------------------------------------------------------

real_host_up() {
  [ "$(id -u)" = 0 ] || die "--node=real needs root (network interfaces, mounts, cgroups)"
  local tool
  for tool in containerd ctr runc /usr/lib/cni/bridge /bin/busybox gcc iptables; do
    command -v "$tool" >/dev/null || die "--node=real needs $tool: run hack/install-deps.sh"
  done
  if [ -f "$real_owner" ] && [ "$(cat "$real_owner")" != "$dir" ] && [ -d "$(cat "$real_owner")/real-node" ]; then
    die "the real node is in use by the cluster in $(cat "$real_owner") (one per machine): bring that one down first"
  fi
  mkdir -p "$real_dir" "$real_dir/cni"
  echo "$dir" >"$real_owner"
  if [ ! -f "$real_dir/sysctls.orig" ]; then
    local s v
    for s in "${real_sysctls[@]}"; do
      if v=$(sysctl -n "$s" 2>/dev/null); then echo "$s=$v"; fi
    done >"$real_dir/sysctls.orig.tmp"
    mv "$real_dir/sysctls.orig.tmp" "$real_dir/sysctls.orig"
  fi
  local fam
  for fam in "${real_iptables[@]}"; do
    command -v "$fam-save" >/dev/null || continue
    [ -f "$real_dir/$fam.orig" ] && continue
    "$fam-save" >"$real_dir/$fam.orig.tmp"
    mv "$real_dir/$fam.orig.tmp" "$real_dir/$fam.orig"
  done
  if ! ip link show "$real_iface" >/dev/null 2>&1; then
    ip link add "$real_iface" type dummy 2>/dev/null || ip link add "$real_iface" type bridge
  fi
  ip addr replace "$IARNET_REAL_NODE_IP/32" dev "$real_iface"
  ip link set "$real_iface" up
  apiserver_route_up
}

# Pods reach the API server at the `kubernetes` Service's address (see the top).
apiserver_route_up() {
  ip link show "$real_bridge" >/dev/null 2>&1 || ip link add "$real_bridge" type bridge
  ip link set "$real_bridge" up
  sysctl -qw "net.ipv4.conf.$real_bridge.route_localnet=1"
  iptables -t nat -N IARNET-APISERVER 2>/dev/null || iptables -t nat -F IARNET-APISERVER
  iptables -t nat -A IARNET-APISERVER -d "$service_ip/32" -p tcp --dport 443 \
    -j DNAT --to-destination "127.0.0.1:$IARNET_APISERVER_PORT"
  iptables -t nat -C PREROUTING -i "$real_bridge" -j IARNET-APISERVER 2>/dev/null ||
    iptables -t nat -A PREROUTING -i "$real_bridge" -j IARNET-APISERVER
}

# Sorted chain names of TABLE in an iptables-save dump on stdin.
iptables_chains() {
  awk -v t="*$1" '/^\*/ { cur = ($1 == t) } cur && /^:/ { print substr($1, 2) }' | sort
}

# Removes every chain that was not in the snapshot of `up` (the kubelet's, ours), after
# the rules of older chains that jump to them.
iptables_down() {
  local fam table chain line new
  for fam in "${real_iptables[@]}"; do
    [ -f "$real_dir/$fam.orig" ] && command -v "$fam-save" >/dev/null || continue
    for table in filter nat mangle; do
      new=$(comm -13 <(iptables_chains $table <"$real_dir/$fam.orig") \
        <("$fam-save" -t $table 2>/dev/null | iptables_chains $table))
      [ -n "$new" ] || continue
      for chain in $new; do "$fam" -t $table -F "$chain" 2>/dev/null || true; done
      for chain in $new; do
        "$fam" -t $table -S 2>/dev/null |
          awk -v c="$chain" '$1 == "-A" { for (i = 3; i < NF; i++) if ($i == "-j" && $(i + 1) == c) { print; next } }' |
          while read -r line; do
            eval "$fam -t $table ${line/#-A/-D}" 2>/dev/null || log "down: cannot delete $fam -t $table $line"
          done
      done
      for chain in $new; do
        "$fam" -t $table -X "$chain" 2>/dev/null || log "down: cannot remove $fam chain $table/$chain"
      done
    done
  done
}

# --- components ---------------------------------------------------------------------

start_containerd() {
  fill "$here/cluster/containerd.toml" ROOT="$real_dir/containerd" STATE="$ctr_state" \
    SOCKET="$ctr_socket" PAUSE_IMAGE="$IARNET_PAUSE_IMAGE" CNI_CONF_DIR="$real_dir/cni" \
    >"$real_dir/containerd.toml"
  # containerd watches the CNI directory: a file written in place could be read half
  # written, so it is renamed into place, and only on the first start.
  local conflist=$real_dir/cni/10-iarnet.conflist
  if [ ! -f "$conflist" ]; then
    fill "$here/cluster/cni-bridge.conflist" BRIDGE="$real_bridge" POD_CIDR="$real_pod_cidr" \
      >"$real_dir/cni-conflist.tmp"
    mv "$real_dir/cni-conflist.tmp" "$conflist"
  fi
  start containerd --config "$real_dir/containerd.toml"
  wait_for containerd 30 ctr version
}

# Import the locally built images; importing an image that is there already is cheap.
import_images() {
  local tarball
  for tarball in $("$here/build-images.sh"); do
    ctr images import "$tarball" >/dev/null
  done
}

start_kubelet() {
  new_cert kubelet ca "/O=system:nodes/CN=system:node:$real_node" \
    "IP:$IARNET_REAL_NODE_IP,DNS:$real_node"
  kubeconfig_for kubelet "system:node:$real_node"
  fill "$here/cluster/kubelet-config.yaml" SOCKET="$ctr_socket" NODE_IP="$IARNET_REAL_NODE_IP" \
    KUBELET_PORT=$kubelet_port HEALTHZ_PORT=$kubelet_healthz_port PKI="$pki" \
    >"$real_dir/kubelet-config.yaml"
  start kubelet --config="$real_dir/kubelet-config.yaml" \
    --kubeconfig="$dir/kubelet.kubeconfig" \
    --hostname-override="$real_node" --node-ip="$IARNET_REAL_NODE_IP" \
    --node-labels=iarnet.io/real-node=true
  # Serving means it has connected to containerd (without which it exits).
  wait_for kubelet 60 curl -sf "http://127.0.0.1:$kubelet_healthz_port/healthz"
}

start_metrics_server() {
  new_cert metrics-server ca "/CN=system:metrics-server" "IP:$IARNET_REAL_NODE_IP"
  kubeconfig_for metrics-server system:metrics-server
  # 10 s is the shortest resolution metrics-server accepts; the kubelet request timeout
  # must stay under 90 % of it.
  start metrics-server \
    --bind-address="$IARNET_REAL_NODE_IP" --secure-port="$IARNET_METRICS_SERVER_PORT" \
    --tls-cert-file="$pki/metrics-server.crt" --tls-private-key-file="$pki/metrics-server.key" \
    --kubeconfig="$dir/metrics-server.kubeconfig" \
    --authentication-kubeconfig="$dir/metrics-server.kubeconfig" \
    --authorization-kubeconfig="$dir/metrics-server.kubeconfig" \
    --kubelet-insecure-tls --kubelet-preferred-address-types=InternalIP \
    --kubelet-use-node-status-port \
    --node-selector=iarnet.io/real-node=true \
    --metric-resolution=10s --kubelet-request-timeout=5s \
    --profiling=false
}

# Host set-up and every process, without waiting for the node (real_node_wait does).
real_node_up() {
  real_host_up
  touch "$run/real-node"
  start_containerd
  import_images
  [ -f "$run/real-node-started" ] || date +%s.%N >"$run/real-node-started"
  start_kubelet
  fill "$here/cluster/metrics-server.yaml" USER=system:metrics-server \
    ADDRESS="$IARNET_REAL_NODE_IP" PORT="$IARNET_METRICS_SERVER_PORT" |
    kubectl apply -f - >/dev/null
  cmd_metrics_api on
  start_metrics_server
}

elapsed_since() { echo "$(date +%s.%N) $1" | awk '{printf "%.1f", $1 - $2}'; }

# Wait for the node to be Ready; prints how long that took after the kubelet's start.
real_node_wait_ready() {
  wait_for "node $real_node" 120 kubectl wait --for=condition=Ready "node/$real_node" --timeout=1s
  [ -f "$run/real-node-ready" ] || log "real node: Ready $(elapsed_since "$(cat "$run/real-node-started")") s after kubelet start"
}

# Prove (and time) once per cluster, like the GC probe, that a Pod runs on the node and
# that the metrics API serves the node's metrics.
real_node_probe() {
  [ -f "$run/real-node-ready" ] && return
  local t0 running metrics
  t0=$(date +%s.%N)
  fill "$here/cluster/real-node-probe.yaml" IMAGE="$IARNET_TEST_IMAGE" |
    kubectl -n default apply -f - >/dev/null
  wait_for "probe Pod on $real_node" 120 kubectl -n default wait --for=jsonpath='{.status.phase}'=Running \
    pod/iarnet-real-node-probe --timeout=1s
  running=$(elapsed_since "$t0")
  wait_for "metrics API for $real_node" 120 kubectl get --raw "/apis/metrics.k8s.io/v1beta1/nodes/$real_node"
  metrics=$(elapsed_since "$(cat "$run/real-node-started")")
  kubectl -n default delete pod iarnet-real-node-probe --wait=false >/dev/null
  log "real node: probe Pod Running in $running s, node metrics served $metrics s after kubelet start"
  touch "$run/real-node-ready"
}

# `metrics-api off|on`: remove or restore the metrics.k8s.io APIService.
cmd_metrics_api() {
  case ${1:-} in
    on) kubectl apply -f "$here/cluster/metrics-apiservice.yaml" >/dev/null ;;
    off) kubectl delete apiservice v1beta1.metrics.k8s.io --ignore-not-found >/dev/null ;;
    *) die "usage: $0 metrics-api on|off" ;;
  esac
}

# --- down ----------------------------------------------------------------------------

# Every process in a kubepods cgroup: the containers, including ones whose shim is gone.
kubepods_pids() {
  local c
  for c in pids memory cpu; do
    [ -d "/sys/fs/cgroup/$c/kubepods" ] || continue
    find "/sys/fs/cgroup/$c/kubepods" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
}

# Mount points under the given directories, deepest first.
mounts_under() {
  local prefix
  for prefix in "$@"; do
    awk -v p="$prefix" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo
  done | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2- | uniq
}

real_node_down() {
  if [ -f "$real_owner" ] && [ "$(cat "$real_owner")" != "$dir" ]; then
    log "down: the real node belongs to the cluster in $(cat "$real_owner"); leaving the host alone"
    return
  fi
  # Stop the kubelet first, so it does not restart what we kill.
  stop_component metrics-server
  stop_component kubelet
  # Let containerd stop and delete its tasks (unmounting their root filesystems) while
  # it still runs; whatever is left is killed below.
  if running containerd; then
    local task
    for task in $(ctr --timeout 10s tasks ls -q 2>/dev/null || true); do
      ctr --timeout 5s tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
  fi
  local pids
  pids=$(kubepods_pids)
  # shellcheck disable=SC2086 # one argument per pid
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  stop_component containerd
  # The shims outlive containerd; ours are the ones that talk to our socket.
  pids=$(pgrep -f "containerd-shim-runc-v2 .*-address $ctr_socket" || true)
  # shellcheck disable=SC2086
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  for _ in $(seq 50); do [ -z "$(kubepods_pids)" ] && break; sleep 0.1; done

  local m
  for m in $(mounts_under /var/lib/kubelet "$real_dir" "$ctr_state" /run/containerd /run/netns /var/run/netns); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "down: cannot unmount $m"
  done
  # Never remove a tree with something still mounted in it (rm would reach into the
  # mount): the rest of the host is restored, then `down` stops before removing $dir.
  local mounts_left
  mounts_left=$(mounts_under /var/lib/kubelet "$real_dir" "$ctr_state" /run/containerd)
  if [ -z "$mounts_left" ]; then
    rm -rf /var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni "$ctr_state"
    # /run/containerd holds only the shim sockets (s/) and runc state of our containerd
    # when no other containerd runs on the host.
    pgrep -x containerd >/dev/null || rm -rf /run/containerd
  fi
  rm -f /run/netns/cni-* 2>/dev/null || true
  rmdir /run/netns 2>/dev/null || true

  ip link del "$real_bridge" 2>/dev/null || true
  ip link del "$real_iface" 2>/dev/null || true

  # The kubelet's cgroups, innermost first (a cgroup without processes can be removed).
  local c
  for c in /sys/fs/cgroup/*/; do
    [ -d "$c/kubepods" ] || continue
    find "$c/kubepods" -depth -type d -exec rmdir {} + 2>/dev/null || log "down: cannot remove $c/kubepods"
  done

  if [ -f "$real_dir/sysctls.orig" ]; then
    local kv
    while read -r kv; do sysctl -qw "$kv" || log "down: cannot restore $kv"; done <"$real_dir/sysctls.orig"
  fi
  iptables_down
  [ -z "$mounts_left" ] || die "down: still mounted, nothing removed: $mounts_left"
  rm -f "$real_owner"
}

real_node_status() { print_status "${real_components[@]}"; }

# `load-image TAR [NAME]`: imports an OCI archive (hack/build-image.sh's) into the real
# node's containerd under the name it carries, and also as NAME when given (a new tag of
# the same image); prints the name the image can be used by.
cmd_load_image() {
  local tar=${1:?usage: $0 load-image TAR [NAME]} name=${2:-}
  [ -f "$tar" ] || die "load-image: no such file: $tar"
  running containerd || die "load-image: the real node is not up (up --node=real)"
  local out ref
  out=$(ctr images import "$tar") || die "load-image: ctr could not import $tar"
  ref=$(echo "$out" | sed -n 's/^unpacking \(.*\) (sha256:.*/\1/p' | head -1)
  [ -n "$ref" ] || die "load-image: $tar carries no image name"
  if [ -n "$name" ]; then
    ctr images tag --force "$ref" "$name" >/dev/null || die "load-image: cannot tag $ref as $name"
    ref=$name
  fi
  echo "$ref"
}
