#!/usr/bin/env bash
# A fresh Debian 12 has no Go >= 1.24 (Debian's golang-go is 1.19): with the machine's Go
# stripped from PATH, install-deps fetches the pinned toolchain through the Go module
# proxy into the cache, the hack/ scripts then build with it, and a second run fetches
# nothing. The cache is the test's own, so the fetch really happens.
source "$(dirname "$0")/lib.sh"
repo=$IARNET_SOURCE_DIR
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
bare() { env -i HOME="$HOME" PATH=/usr/sbin:/usr/bin:/sbin:/bin IARNET_CACHE="$cache" "$@"; }
pinned=$(bash -c "source '$repo/hack/lib/versions.sh'; echo \$GO_TOOLCHAIN")

old=$(bare bash -c 'command -v go >/dev/null && go env GOVERSION || echo none')
case $old in
  go1.1[0-9]* | go1.2[0-3]* | none) pass "PATH without the machine's Go has no Go >= 1.24 ($old)" ;;
  *) fail "the stripped PATH still has a new Go ($old): the test would prove nothing" ;;
esac

out=$(bare "$repo/hack/install-deps.sh" 2>&1) && pass "install-deps succeeds" || fail "install-deps: $out"
case $out in
  *"fetching golang.org/toolchain@v0.0.1-$pinned.linux-amd64"*) pass "it fetched the pinned toolchain module" ;;
  *) fail "no fetch of $pinned in: $out" ;;
esac
expect_eq "the scripts' go is the fetched one" \
  "$(bare bash -c "source '$repo/hack/lib/versions.sh'; go env GOVERSION GOROOT" | tr '\n' ' ')" \
  "$pinned $cache/go/$pinned "

# It builds and runs a module that needs Go 1.24 (range over an int needs 1.22, and the
# go line 1.24 is refused by older toolchains).
mod=$cache/hello
mkdir -p "$mod"
printf 'module iarnet.local/hello\n\ngo 1.24\n' >"$mod/go.mod"
printf 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfor i := range 3 {\n\t\tfmt.Print(i)\n\t}\n}\n' >"$mod/main.go"
expect_eq "it builds and runs a go 1.24 module" \
  "$(bare bash -c "source '$repo/hack/lib/versions.sh'; cd '$mod' && GOCACHE='$cache/gocache' go run . 2>&1")" "012"

again=$(bare "$repo/hack/install-deps.sh" 2>&1) || fail "second install-deps: $again"
case $again in
  *fetching*) fail "the second run fetched again: $again" ;;
  *) pass "a second run fetches nothing" ;;
esac
finish
