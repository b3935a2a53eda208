#!/usr/bin/env bash
# `make unit`: build with sanitizers and run every unit test (label "unit": pure code and
# the static checks). No cluster, no root, no network.
#   hack/unit.sh BUILD_DIR [ctest arguments...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build_dir=$1
shift
"$here/build.sh" "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DIARNET_SANITIZE=ON -DIARNET_BUILD_TESTS=ON
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build_dir" --output-on-failure -L unit "$@"
