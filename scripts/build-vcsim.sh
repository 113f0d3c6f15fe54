#!/usr/bin/env bash
# Builds the govmomi simulator program (test/vcsim/*.go) into .cache/vcsim/vcsim.
# Rebuilds only when the Go sources or the Go toolchain changed (hash stamp), so
# test runs don't pay the ~20 s build each time. Safe to run concurrently (flock).
# Needs Debian's golang-go and golang-github-vmware-govmomi-dev (GOPATH mode).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/test/vcsim"
out="$root/.cache/vcsim"
bin="$out/vcsim"
stamp="$out/vcsim.stamp"

command -v go >/dev/null || { echo "build-vcsim: 'go' not found; apt-get install golang-go golang-github-vmware-govmomi-dev" >&2; exit 1; }
[ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] || {
  echo "build-vcsim: govmomi simulator source missing; apt-get install golang-github-vmware-govmomi-dev" >&2; exit 1; }

mkdir -p "$out"
export GO111MODULE=off
export GOPATH=/usr/share/gocode
export GOCACHE="$out/gocache"   # $HOME may be unwritable or absent (root on a fresh machine, CI)
export GOFLAGS=
export CGO_ENABLED=0

hash_sources() {
  { go version; cd "$src" && for f in $(ls -1 *.go | LC_ALL=C sort); do echo "$f"; cat "$f"; done; } | sha256sum | cut -d' ' -f1
}

exec 9>"$out/build.lock"
flock 9
want="$(hash_sources)"
if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "build-vcsim: building $bin" >&2
tmp="$bin.tmp.$$"
(cd "$src" && go build -o "$tmp" .)
mv -f "$tmp" "$bin"
echo "$want" >"$stamp"
