#!/usr/bin/env bash
# Writes a kubeconfig that authenticates as a ServiceAccount (a token from
# `kubectl create token`), against the cluster of the current KUBECONFIG. Tests run the
# provider with it to prove the chart's RBAC is enough.
#   hack/sa-kubeconfig.sh NAMESPACE SERVICEACCOUNT OUTPUT [DURATION]
set -euo pipefail
ns=$1 sa=$2 out=$3 duration=${4:-2h}
server=$(kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.server}')
ca=$(kubectl config view --minify --raw --flatten -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
token=$(kubectl -n "$ns" create token "$sa" --duration "$duration")
umask 077
cat >"$out" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "$server", certificate-authority-data: "$ca"}
users:
- name: $sa
  user: {token: "$token"}
contexts:
- name: $sa
  context: {cluster: local, user: $sa, namespace: $ns}
current-context: $sa
KUBECONFIG
