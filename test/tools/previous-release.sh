#!/usr/bin/env bash
# Builds the previous release of eatr (the commit pinned in test/compat/previous-release) from this
# repository's git history, once per commit, into a cache, and prints the directory: its
# packages/*/dist hold the entrypoints the mixed-version tests start beside the current build.
#
#   bash test/tools/previous-release.sh        # -> ~/.cache/eatr/previous-release/<commit>
#
# Needs git history (a fresh clone has it) and what `pnpm install` needs; dependencies come from
# pnpm's store when they are there. A build cut off half-way is started again, never reused.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
commit=$(grep -v '^#' "$root/test/compat/previous-release" | tr -d '[:space:]')
if ! git -C "$root" cat-file -e "$commit^{commit}" 2>/dev/null; then
  echo "previous-release: commit $commit is not in this repository's history (a shallow clone?)" >&2
  exit 1
fi
dir=${EATR_CACHE_DIR:-$HOME/.cache/eatr}/previous-release/$commit
if [ -f "$dir/.built" ]; then
  echo "$dir"
  exit 0
fi
echo "previous-release: building $commit into $dir" >&2
rm -rf "$dir"
mkdir -p "$dir"
git -C "$root" archive "$commit" | tar -x -C "$dir"
(
  cd "$dir"
  pnpm install --frozen-lockfile --prefer-offline >&2
  pnpm build >&2
)
touch "$dir/.built"
echo "$dir"
