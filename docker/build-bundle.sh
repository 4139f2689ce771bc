#!/bin/sh
# Builds eatr's production bundle: the CLI package with its production dependencies only
# (@eatr/core, @eatr/watcher and @eatr/renewer copied in, not linked), plus the three entrypoints
# in bin/:
#
#   bin/eatr-watcher.js   the watcher            (node bin/eatr-watcher.js --help)
#   bin/eatr-renewer.js   a renewer
#   bin/eatr.js           the CLI: `eatr.js run` is both in one process; status, renew, doctor
#
# The Dockerfile runs exactly this script; test/chart/bundle.test.ts runs it too and starts the
# entrypoints from the result. Run it from a workspace whose dependencies are installed and whose
# packages are built (`pnpm install --frozen-lockfile && pnpm build`):
#
#   sh docker/build-bundle.sh OUT_DIR
#
# OUT_DIR must not exist or be empty. Nothing is downloaded: dependencies come from pnpm's store.
set -eu

out=${1:?usage: build-bundle.sh OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

for package in core renewer watcher cli; do
  if [ ! -f "packages/$package/dist/index.js" ]; then
    echo "build-bundle: packages/$package/dist is missing; run pnpm build first" >&2
    exit 1
  fi
done
# The commit every process reports (--version, eatr_build_info): `pnpm build` writes it
# (packages/core/scripts/build-info.js, from git or EATR_COMMIT) and the deploy below copies core's dist with it.
if [ ! -f packages/core/dist/build-info.json ]; then
  echo "build-bundle: packages/core/dist/build-info.json is missing; run pnpm build first" >&2
  exit 1
fi

# pnpm 10 deploys only "injected" workspace packages; the setting applies to this deploy alone and
# leaves the workspace's own node_modules as they are. --offline: everything is in the store already.
pnpm --config.inject-workspace-packages=true --filter @eatr/cli deploy --prod --offline "$out" >&2

# Keep what runs: drop TypeScript sources, declarations, source maps (production runs without
# --enable-source-maps, so nothing would read them) and build metadata of eatr's own packages.
for dir in "$out" "$out"/node_modules/.pnpm/@eatr+*/node_modules/@eatr/*; do
  [ -d "$dir" ] || continue
  rm -rf "$dir/src" "$dir"/tsconfig*.json
  find "$dir/dist" \( -name '*.d.ts' -o -name '*.map' -o -name '.tsbuildinfo' \) -type f -exec rm -f {} +
done
rm -f "$out/pnpm-lock.yaml"

mkdir -p "$out/bin"
write_entrypoint() { # name target description
  cat >"$out/bin/$1" <<EOF
#!/usr/bin/env node
// $3
import '$2';
EOF
  chmod 755 "$out/bin/$1"
}
write_entrypoint eatr-watcher.js ../node_modules/@eatr/watcher/dist/main.js 'eatr-watcher: Namespace and credential-Secret watches -> BullMQ sync jobs (one leader).'
write_entrypoint eatr-renewer.js ../node_modules/@eatr/renewer/dist/main.js 'eatr-renewer: BullMQ workers that write the image pull Secrets.'
write_entrypoint eatr.js ../dist/main.js 'eatr: the CLI; `eatr.js run` runs the watcher and a renewer in one process.'

echo "$out"
