#!/usr/bin/env bash
# Checks that need no cluster: the copies of the CRDs agree with crds/, and the
# Dockerfile builds with the same Debian packages as hack/install-deps.sh on any base
# (BASE_IMAGE) with a compiler cache, and runs as a non-root user with both ports exposed.
set -euo pipefail
src=${IARNET_SOURCE_DIR:?}
failures=0
fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }

for copy in charts/iarnet-k8s-provider/crds examples/gitops/crds; do
  diff -r "$src/crds" "$src/$copy" >/dev/null || fail "$copy differs from crds/ (cp crds/*.yaml $copy/)"
done

# The CRDs' image pattern is the grammar the provider checks at Deploy (a unit test keeps
# the parser and the pattern in step).
pattern=$(sed -n 's/.*R"(\(.*\))";$/\1/p' "$src/api/image_reference.h")
[ -n "$pattern" ] || fail "no kImageReferencePattern in api/image_reference.h"
for crd in iarnet.io_iarnetworkloads.yaml iarnet.io_iarnetproviders.yaml; do
  grep -qF "pattern: '$pattern'" "$src/crds/$crd" || fail "crds/$crd: spec image pattern is not kImageReferencePattern"
done

# The build packages: the words between "# build" and the next comment in the install
# script, and the first apt-get install of the Dockerfile.
script=$(sed -n '/^  # build$/,/^  # /{/^  #/d;p}' "$src/hack/install-deps.sh" | tr -s ' \n' '\n' | sed '/^$/d' | sort)
docker=$(awk '/^FROM .* AS build/{b=1} b&&/apt-get install/{i=1;next} i&&/&&/{exit} i{print}' "$src/Dockerfile" \
  | tr -d '\\' | tr -s ' \n' '\n' | sed '/^$/d' | sort)
[ -n "$script" ] || fail "no build packages found in hack/install-deps.sh"
[ "$script" = "$docker" ] || fail "build packages differ: install-deps.sh: $(echo $script) / Dockerfile: $(echo $docker)"

grep -q '^USER 65532' "$src/Dockerfile" || fail "the runtime stage does not run as a non-root user"
grep -q '^EXPOSE 50052 8080' "$src/Dockerfile" || fail "the Dockerfile does not expose both ports"
grep -q '^ENTRYPOINT \["/usr/local/bin/iarnet-k8s-provider"\]' "$src/Dockerfile" || fail "no entrypoint"
grep -q '"--config"' "$src/Dockerfile" || fail "the entrypoint gets no --config"
[ -f "$src/.dockerignore" ] || fail "no .dockerignore"
# hack/build-image.sh builds on a local Debian base: both stages must take it from BASE_IMAGE,
# and the compile must go through the ccache cache mount.
grep -q '^ARG BASE_IMAGE=debian:12-slim$' "$src/Dockerfile" || fail "no ARG BASE_IMAGE=debian:12-slim"
[ "$(grep -c '^FROM ' "$src/Dockerfile")" = "$(grep -c '^FROM \${BASE_IMAGE}' "$src/Dockerfile")" ] ||
  fail "a stage does not start FROM \${BASE_IMAGE}"
grep -q 'RUN --mount=type=cache,target=/root/.cache/ccache' "$src/Dockerfile" &&
  grep -q 'CMAKE_CXX_COMPILER_LAUNCHER=ccache' "$src/Dockerfile" || fail "the build does not use the ccache cache mount"
[ $failures = 0 ] && echo "packaging: all checks passed"
