#!/usr/bin/env bash
# Makes sure a Go >= 1.24 is available for the pinned modules (Kubernetes v1.34 needs it).
#   - a new enough `go` on PATH is used as it is;
#   - otherwise (a fresh Debian 12 has Debian's Go 1.19 at best) the pinned toolchain
#     $GO_TOOLCHAIN is fetched once as the module golang.org/toolchain through the Go
#     module proxy, checked against the checksum database like any module, and unpacked
#     into $GO_TOOLCHAIN_DIR, which hack/lib/versions.sh then puts first on PATH.
# Fetching needs a `go` to ask the proxy: install-deps installs Debian's golang-go when
# there is none.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

log() { printf '[install-deps] %s\n' "$*" >&2; }

if go_is_new_enough; then exit 0; fi
if [ -x "$GO_TOOLCHAIN_DIR/bin/go" ]; then
  log "Go: using $("$GO_TOOLCHAIN_DIR/bin/go" version | cut -d' ' -f3) from $GO_TOOLCHAIN_DIR"
  exit 0
fi

command -v go >/dev/null || { log "error: no go to fetch $GO_TOOLCHAIN with (install-deps installs golang-go)"; exit 1; }

module=golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-amd64
log "Go: $(go version | cut -d' ' -f3) is older than 1.$GO_MIN_MINOR; fetching $module"
start=$SECONDS
# A module cache of its own, so the machine's GOPATH is left alone; `go mod download`
# verifies the zip against sum.golang.org (GOSUMDB) before unpacking it.
modcache=$IARNET_CACHE/go/modcache
mkdir -p "$modcache"
moddir=$(cd /tmp && GOMODCACHE=$modcache GOFLAGS=-modcacherw GO111MODULE=on \
  go mod download -json "$module" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
[ -f "$moddir/bin/go" ] || { log "error: no bin/go in $moddir"; exit 1; }

# A module zip keeps no file modes: the toolchain's programs get their executable bit back
# (as the go command's own toolchain switch does). Unpacked beside, then renamed into place.
tmp=$GO_TOOLCHAIN_DIR.tmp
rm -rf "$tmp"
mv "$moddir" "$tmp"
chmod -R u+w "$tmp"
find "$tmp/bin" "$tmp/pkg/tool" -type f -exec chmod 755 {} +
rm -rf "$modcache"
"$tmp/bin/go" version >/dev/null
mv "$tmp" "$GO_TOOLCHAIN_DIR"
log "Go: $("$GO_TOOLCHAIN_DIR/bin/go" version | cut -d' ' -f3) in $GO_TOOLCHAIN_DIR ($((SECONDS - start)) s)"
