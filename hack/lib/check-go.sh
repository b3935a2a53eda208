#!/usr/bin/env bash
# Fails with a clear message unless a Go toolchain new enough for the pinned modules is on PATH.
set -euo pipefail
need_minor=24
if ! command -v go >/dev/null; then
  echo "[install-deps] error: Go >= 1.$need_minor is required to build the local cluster (none on PATH)" >&2
  exit 1
fi
v=$(go env GOVERSION)
minor=$(echo "$v" | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -z "$minor" ] || [ "$minor" -lt $need_minor ]; then
  echo "[install-deps] error: Go >= 1.$need_minor is required to build the local cluster, found $v" >&2
  exit 1
fi
