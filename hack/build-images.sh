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
source "$here/lib/oci.sh"

log() { printf '[build-images] %s\n' "$*" >&2; }

images=$IARNET_CACHE/images
mkdir -p "$images"

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

self=$(cat "$0" "$here/lib/oci.sh" | sha256sum | cut -d" " -f1)
pause_c=$(pause_source)
cached "$IARNET_PAUSE_IMAGE" "$(printf '%s %s %s' "$self" "$(sha "$pause_c")" "$KUBE_VERSION" | sha256sum)" build_pause
cached "$IARNET_TEST_IMAGE" "$(printf '%s %s' "$self" "$(sha /bin/busybox)" | sha256sum)" build_testbox
