#!/usr/bin/env bash
# Configures (once) and builds the project into DIR with the given CMake options;
# BUILD_TARGET (optional, space-separated) builds only those targets.
#   hack/build.sh DIR [-DOPTION=VALUE ...]
set -euo pipefail
dir=$1
shift
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S "$(dirname "$0")/.." -B "$dir" "${generator[@]}" "$@"
fi
targets=()
[ -n "${BUILD_TARGET:-}" ] && read -ra targets <<<"$BUILD_TARGET"
cmake --build "$dir" --parallel "$(nproc)" ${targets[@]+--target "${targets[@]}"}
