#!/usr/bin/env bash
# Configures and builds the project into DIR with the given CMake options;
# BUILD_TARGET (optional, space-separated) builds only those targets.
#   hack/build.sh DIR [-DOPTION=VALUE ...]
# Options given to a directory configured before are applied (CMake re-configures with
# them; options not named keep their cached values).
set -euo pipefail
dir=$1
shift
generator=()
if [ ! -f "$dir/CMakeCache.txt" ]; then
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$(dirname "$0")/.." -B "$dir" "${generator[@]}" "$@"
elif [ $# -gt 0 ]; then
  cmake -S "$(dirname "$0")/.." -B "$dir" "$@" >/dev/null
fi
targets=()
[ -n "${BUILD_TARGET:-}" ] && read -ra targets <<<"$BUILD_TARGET"
cmake --build "$dir" --parallel "$(nproc)" ${targets[@]+--target "${targets[@]}"}
