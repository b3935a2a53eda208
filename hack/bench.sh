#!/usr/bin/env bash
# `make bench`: the benchmarks, on a fresh local cluster of their own, against an
# optimized build; each writes its report into bench/.
#   hack/bench.sh BUILD_DIR [informer|deploy|node-view ...]   (default: all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir=$1
shift
only=" ${*:-informer deploy node-view} "
source "$here/lib/versions.sh"
export IARNET_CLUSTER_DIR="$IARNET_CACHE/bench-cluster"
export IARNET_APISERVER_PORT=${IARNET_BENCH_APISERVER_PORT:-36443}
export IARNET_ETCD_PORT=${IARNET_BENCH_ETCD_PORT:-32379}

"$here/build.sh" "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIARNET_BUILD_TESTS=ON
"$here/local-cluster.sh" down
trap '"$here/local-cluster.sh" down' EXIT
# Room for the deploy benchmark's Pods (2 x 2,000, then 10,000 workloads).
export IARNET_NODE_CPU=${IARNET_NODE_CPU:-1000} IARNET_NODE_MEMORY=${IARNET_NODE_MEMORY:-4Ti}
export IARNET_NODE_PODS=${IARNET_NODE_PODS:-30000}
"$here/local-cluster.sh" up
eval "$("$here/local-cluster.sh" env)"

report() {  # report FILE TITLE COMMAND...
  local file=$1 title=$2
  shift 2
  local table
  table=$("$@")
  echo "$table"
  {
    echo "# $title"
    echo
    echo "Written by \`make bench\` ($(basename "$1")) on $(date -u +%Y-%m-%d); do not edit by hand."
    echo
    echo "- machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
    echo "- cluster: local (hack/local-cluster.sh), Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION, KWOK $KWOK_VERSION"
    echo "- reproduce: \`make bench\` (or, with a cluster up: \`$(basename "$1") ${*:2}\`)"
    echo
    echo "$table"
    # The analysis of what limits the figures, kept by hand next to the report.
    local notes="$repo/bench/${file%.md}.notes.md"
    if [ -f "$notes" ]; then echo; cat "$notes"; fi
  } >"$repo/bench/$file"
}

wanted() { [[ $only == *" $1 "* ]]; }

wanted informer && report informer.md "Informer: cache memory and watch throughput" \
  "$build_dir/bench/informer_bench" 2000

wanted deploy && report REPORT.md "Deploy against raw Pod creation, restart-to-ready, memory" \
  "$build_dir/bench/deploy_bench" 2000 16 10000

# The node view's table is also the last section of REPORT.md (replaced on each run).
if wanted node-view; then
  report node_view.md "Node view: memory with 1,000 nodes and 50,000 Pods, node-fit CPU" \
    "$build_dir/bench/node_view_bench" 1000 50000 10000
  sed -i '/^## Node view (capacity.source nodes)$/,$d' "$repo/bench/REPORT.md"
  {
    echo
    echo "## Node view (capacity.source nodes)"
    echo
    echo "From \`bench/node_view.md\` ($(date -u +%Y-%m-%d), \`make bench\` or \`hack/bench.sh BUILD_DIR node-view\`):"
    echo
    sed -n '/^| measure/,$p' "$repo/bench/node_view.md"
  } >>"$repo/bench/REPORT.md"
fi
