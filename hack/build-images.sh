#!/usr/bin/env bash
# Builds the real node's two container images without Docker or a registry, as OCI image
# layout tarballs that `ctr images import` takes, and prints their paths one a line:
#   - $IARNET_PAUSE_IMAGE: the sandbox ("pause") image, a static binary compiled from the
#     Kubernetes tree's build/pause/linux/pause.c (from the Go module cache).
#   - $IARNET_TEST_IMAGE: Debian's busybox-static with its applets linked in /bin. The
#     entrypoint runs the shell code in the env var IARNET_TEST_RUN (default
#     `sleep 3600`), so a test picks the behaviour: `exit 3`, a `dd` past its memory
#     limit, `cat /sys/fs/cgroup/...; sleep 3600`, ...
# Each tarball is cached under $IARNET_CACHE/images/ by a hash of its inputs (this script,
# pause.c, the busybox binary), so a second run only hashes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/versions.sh"

log() { printf '[build-images] %s\n' "$*" >&2; }

images=$IARNET_CACHE/images
mkdir -p "$images"

sha() { sha256sum "$1" | cut -d' ' -f1; }

# A deterministic layer: sorted, epoch mtimes, root-owned, so equal inputs give equal digests.
layer_tar() {
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf "$2" .
}

# Put a file into the OCI layout's blob store under its digest; prints the digest.
add_blob() {
  local layout=$1 file=$2 digest
  digest=$(sha "$file")
  mv "$file" "$layout/blobs/sha256/$digest"
  echo "$digest"
}

# oci_image NAME ROOTFS CONFIG_JSON_FRAGMENT OUT: an OCI image layout tarball of ROOTFS as a
# single uncompressed layer; the fragment holds the image config's "config" members.
oci_image() {
  local name=$1 rootfs=$2 config=$3 out=$4
  local layout
  layout=$(mktemp -d "$images/.layout.XXXXXX")
  mkdir -p "$layout/blobs/sha256"
  layer_tar "$rootfs" "$layout/layer.tar"
  local layer_size layer_digest
  layer_size=$(stat -c %s "$layout/layer.tar")
  layer_digest=$(add_blob "$layout" "$layout/layer.tar")

  printf '{"architecture":"amd64","os":"linux","config":{%s},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"hack/build-images.sh"}]}' \
    "$config" "$layer_digest" >"$layout/config.json"
  local config_size config_digest
  config_size=$(stat -c %s "$layout/config.json")
  config_digest=$(add_blob "$layout" "$layout/config.json")

  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
    "$config_digest" "$config_size" "$layer_digest" "$layer_size" >"$layout/manifest.json"
  local manifest_size manifest_digest
  manifest_size=$(stat -c %s "$layout/manifest.json")
  manifest_digest=$(add_blob "$layout" "$layout/manifest.json")

  # containerd names the imported image after io.containerd.image.name; the OCI ref name
  # is the tag, for other tools.
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest_digest" "$manifest_size" "$name" "${name##*:}" >"$layout/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$layout" \
    -cf "$out.tmp" oci-layout index.json blobs
  mv "$out.tmp" "$out"
  rm -rf "$layout"
}

# cached NAME KEY BUILDER: prints the tarball for NAME, building it with BUILDER only when
# no tarball for this input hash KEY exists yet.
cached() {
  local name=$1 key=$2 builder=$3
  local base=${name//[\/:]/_}
  local out=$images/$base-${key:0:16}.tar
  if [ ! -f "$out" ]; then
    log "building $name"
    rm -f "$images/$base"-*.tar
    local rootfs
    rootfs=$(mktemp -d "$images/.rootfs.XXXXXX")
    chmod 755 "$rootfs"
    "$builder" "$rootfs" "$name" "$out"
    rm -rf "$rootfs"
  fi
  echo "$out"
}

# pause.c comes with the kubernetes module; download it (a no-op when build-cluster-binaries.sh
# already did) so this works on a fresh machine too.
pause_source() {
  local moddir
  moddir=$(cd /tmp && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  [ -f "$moddir/build/pause/linux/pause.c" ] || { log "error: no pause.c in $moddir"; exit 1; }
  echo "$moddir/build/pause/linux/pause.c"
}

build_pause() {
  local rootfs=$1 name=$2 out=$3
  gcc -static -O2 -Wall -DVERSION="iarnet-$KUBE_VERSION" -o "$rootfs/pause" "$pause_c"
  strip "$rootfs/pause"
  oci_image "$name" "$rootfs" '"Entrypoint":["/pause"],"User":"65535:65535"' "$out"
}

build_testbox() {
  local rootfs=$1 name=$2 out=$3 applet
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  # The shell runs IARNET_TEST_RUN in the background and waits for it, so that SIGTERM
  # (Pod deletion) ends the container at once instead of after the grace period: PID 1
  # ignores signals it has no handler for.
  # shellcheck disable=SC2016 # expanded inside the container, not here
  local run='trap \"exit 143\" TERM INT; eval \"${IARNET_TEST_RUN:-sleep 3600}\" & wait $!'
  oci_image "$name" "$rootfs" \
    '"Env":["PATH=/bin"],"Entrypoint":["/bin/sh","-c","'"$run"'"],"WorkingDir":"/"' "$out"
}

self=$(sha "$0")
pause_c=$(pause_source)
cached "$IARNET_PAUSE_IMAGE" "$(printf '%s %s %s' "$self" "$(sha "$pause_c")" "$KUBE_VERSION" | sha256sum)" build_pause
cached "$IARNET_TEST_IMAGE" "$(printf '%s %s' "$self" "$(sha /bin/busybox)" | sha256sum)" build_testbox
