# shellcheck shell=bash
# OCI image layout tarballs made from a directory, without Docker or a registry: what
# `ctr images import`, `buildah pull oci-archive:` and the OCI tools take. Sourced by
# hack/build-images.sh (the real node's images) and hack/build-image.sh (the base image).
# The caller sets $images (where tarballs are cached) and defines log().

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
  layout=$(mktemp -d "$(dirname "$out")/.layout.XXXXXX")
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
# no tarball for this input hash KEY exists yet (BUILDER ROOTFS NAME OUT fills ROOTFS, an
# empty directory, and writes the tarball OUT).
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

