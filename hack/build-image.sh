#!/usr/bin/env bash
# Builds the provider's container image from the Dockerfile with buildah (no Docker engine,
# no registry) and prints the path of its oci-archive, which `hack/local-cluster.sh
# load-image` imports into the real node and any registry tool can push.
#   hack/build-image.sh            (`make image`; `make test` runs it as a phase of its own)
# The image is iarnet.local/iarnet-k8s-provider:dev-<content key> (load-image NAME gives it
# another name on the node): an `iarnet.local/` name, because containerd would make a bare `iarnet/...` a Docker Hub one.
#
# Two caches under $IARNET_CACHE/images, each keyed by content (buildah's own layer cache
# goes by file mtimes, which a fresh clone changes):
#   - the Debian 12 base: `debootstrap --variant=minbase bookworm` from the machine's own
#     apt sources (read now, never written into the repository), as an OCI image; key:
#     build_base, hack/lib/oci.sh and those sources;
#   - the provider image: key: the base's and every file of the build context.
# Unchanged, the script only hashes. A changed source recompiles only what changed: the
# Dockerfile's ccache cache mount lives in $IARNET_CACHE/buildah/tmp with buildah's storage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
source "$here/lib/versions.sh"
source "$here/lib/oci.sh"

log() { printf '[build-image] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

images=$IARNET_CACHE/images
state=$IARNET_CACHE/buildah
mkdir -p "$images" "$state/storage" "$state/tmp"
# buildah puts RUN --mount=type=cache directories under $TMPDIR.
export TMPDIR=$state/tmp
b() { buildah --root "$state/storage" --runroot /run/iarnet-buildah --storage-driver overlay "$@"; }
[ "$(id -u)" = 0 ] || die "needs root (rootful buildah, debootstrap)"
for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || die "needs $tool: run hack/install-deps.sh"
done

# "URI SUITE" for every Debian source of the machine with a bookworm suite, from one-line
# (sources.list) and deb822 (*.sources) files alike.
apt_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++;
         if ($(i + 1) ~ /^bookworm/) print $i, $(i + 1) }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no")
           for (u in uris) for (s in suites) if (suites[s] ~ /^bookworm/) print uris[u], suites[s];
           types = ""; enabled = ""; delete uris; delete suites }
         /^[ \t]*$/ { flush(); next } /^#/ { next }
         { key = tolower($1); sub(/:$/, "", key) }
         key == "types" { types = substr($0, index($0, ":") + 1) }
         key == "enabled" { enabled = tolower($2) }
         key == "uris" { for (i = 2; i <= NF; i++) uris[i] = $i }
         key == "suites" { for (i = 2; i <= NF; i++) suites[i] = $i }
         END { flush() }' "$f"
  done
}

sources=$(apt_sources | sort -u)
mirror=$(echo "$sources" | awk '$2 == "bookworm" { print $1; exit }')
[ -n "$mirror" ] || die "no Debian bookworm source in /etc/apt/sources.list{,.d/}: cannot debootstrap"

build_base() {
  local rootfs=$1 name=$2 out=$3
  log "debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
    bookworm "$rootfs" "$mirror" >"$state/debootstrap.log" 2>&1 ||
    { tail -20 "$state/debootstrap.log" >&2; die "debootstrap failed (log: $state/debootstrap.log)"; }
  # The image's apt uses the same sources as the machine (updates and security included).
  echo "$sources" | awk '{ print "deb", $1, $2, "main" }' >"$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  oci_image "$name" "$rootfs" \
    '"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["bash"]' "$out"
}

# The content of the build context: every file git tracks or would track (the
# .dockerignore'd ones too: at worst a needless rebuild), or every file outside build
# directories when this is no git checkout.
context_key() {
  (
    cd "$repo"
    if git rev-parse --git-dir >/dev/null 2>&1; then
      git ls-files -z --cached --others --exclude-standard
    else
      find . -path ./.git -prune -o -path './build*' -prune -o -type f -print0
    fi | sort -z | while IFS= read -r -d '' f; do
      [ -f "$f" ] && printf '%s %s\n' "$(sha "$f")" "$f"
    done
  ) | sha256sum | cut -d' ' -f1
}

t0=$SECONDS
base_key=$(printf '%s\n%s\n%s\n' "$(declare -f build_base)" "$(sha "$here/lib/oci.sh")" "$sources" | sha256sum | cut -d' ' -f1)
base_ref=iarnet.local/debian:bookworm-${base_key:0:12}
base_tar=$(cached iarnet.local/debian:bookworm "$base_key" build_base)

key=$(printf '%s %s\n' "$base_key" "$(context_key)" | sha256sum | cut -d' ' -f1)
ref=iarnet.local/iarnet-k8s-provider:dev-${key:0:12}
out=$images/iarnet-k8s-provider-${key:0:16}.tar
if [ -f "$out" ]; then
  log "$ref: cached ($((SECONDS - t0)) s)"
  echo "$out"
  exit 0
fi

if ! b inspect --type image "$base_ref" >/dev/null 2>&1; then
  id=$(b pull --quiet oci-archive:"$base_tar")
  b tag "$id" "$base_ref"
fi
log "building $ref (buildah; log: $state/build.log)"
t1=$SECONDS
b build --pull=never --isolation chroot --network host --layers \
  --build-arg BASE_IMAGE="$base_ref" -t "$ref" -f "$repo/Dockerfile" "$repo" >"$state/build.log" 2>&1 ||
  { tail -30 "$state/build.log" >&2; die "buildah build failed (log: $state/build.log)"; }
rm -f "$out.tmp"
b push --quiet "$ref" oci-archive:"$out.tmp:$ref" >/dev/null
mv "$out.tmp" "$out"
# Keep the newest provider tarball and image only; intermediate layers stay as the layer
# cache until buildah's storage passes 8 GiB, when dangling ones go (the next build then
# reinstalls the build packages once).
find "$images" -maxdepth 1 -name 'iarnet-k8s-provider-*.tar' ! -path "$out" -delete
for old in $(b images --noheading --format '{{.Name}}:{{.Tag}}' | grep '^iarnet.local/iarnet-k8s-provider:' | grep -vxF "$ref"); do
  b rmi "$old" >/dev/null 2>&1 || true
done
if [ "$(du -sm "$state/storage" | cut -f1)" -gt 8192 ]; then b rmi --prune >/dev/null 2>&1 || true; fi
log "$ref: built in $((SECONDS - t1)) s, $(du -m "$out" | cut -f1) MB"
echo "$out"
