#!/usr/bin/env bash
# The layout's rules (README "Development"), checked: which folder may include which,
# that the Kubernetes client library stands alone, and that the resources' vocabulary is
# named only in api/.
set -euo pipefail
src=${IARNET_SOURCE_DIR:?}
cd "$src"
failures=0
fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }

# The quoted includes of the C++ files under a folder: "file:line:path".
includes() {
  git ls-files --cached --others --exclude-standard "$1" | grep -E '\.(cc|h)$' |
    xargs -r grep -Hn '^#include "' | sed 's/:#include "\([^"]*\)".*/:\1/'
}
generated='^(common|resource|provider)/.*\.pb\.h$'

while IFS=: read -r file line path; do
  [[ $path == */* ]] || fail "$file:$line: include \"$path\" is not written from the root"
  [[ $path == controller/kube/* ]] && fail "$file:$line: include kube headers as \"kube/...\""
done < <(includes api; includes controller; includes grpc-gateway; includes tests; includes bench)

while IFS=: read -r file line path; do
  [[ $path == api/* || $path =~ $generated ]] || fail "$file:$line: api/ includes \"$path\""
done < <(includes api)

while IFS=: read -r file line path; do
  [[ $path == kube/* ]] || fail "$file:$line: kube/ includes \"$path\" from outside itself"
done < <(includes controller/kube)
if grep -rIil iarnet controller/kube; then fail "controller/kube/ names the application"; fi

while IFS=: read -r file line path; do
  [[ $file == controller/kube/* ]] && continue
  [[ $path == grpc-gateway/* ]] && fail "$file:$line: controller/ includes \"$path\""
done < <(includes controller)

while IFS=: read -r file line path; do
  [[ $path == controller/workload_controller.h && $file != grpc-gateway/main.cc ]] &&
    fail "$file:$line: only main.cc may include the leader-only controller"
done < <(includes grpc-gateway)

if grep -rn '"iarnet.io/v1alpha1"\|"IarnetWorkload"\|"IarnetProvider"\|"iarnet.managed' \
  controller grpc-gateway; then
  fail "the resources' vocabulary is spelled outside api/vocabulary.h"
fi
[ $failures = 0 ] && echo "layout: all checks passed"
