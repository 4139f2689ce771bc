#!/usr/bin/env bash
# The e2e tier: installs and builds what the node needs (cached after the first run), then runs the
# e2e vitest project on a throw-away node (node.sh). Extra arguments go to vitest (a file, -t NAME).
#
#   sudo pnpm test:e2e            or            bash test/e2e/run.sh [vitest args]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
started=$(date +%s)
eval "$(bash test/tools/prereqs.sh)"
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
bash test/tools/node-packages.sh
# The node has no network of its own: everything is built out here, before it starts.
bin=$(bash test/tools/kube-binaries.sh node)
export PATH="$bin:$PATH"  # helm, crictl
[[ -d node_modules ]] || pnpm install --frozen-lockfile
pnpm build >/dev/null
# The upgrade scenario installs the previous release's chart and image: its tree is built from git
# history here (cached), where pnpm can reach the registry if its store lacks something.
bash test/tools/previous-release.sh >/dev/null
echo "[e2e] prerequisites ready in $(( $(date +%s) - started ))s" >&2
exec bash test/e2e/node.sh node_modules/.bin/vitest run --config vitest.e2e.config.ts "$@"
