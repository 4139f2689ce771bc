#!/usr/bin/env bash
# Shows that a killed e2e run leaves the host as it was (issue: "a killed run restores the host").
#
#   sudo bash test/e2e/kill-self-test.sh        (.ci/run runs it after the tier)
#
# Starts the tier twice and kills it once the node is up and eatr is being installed (the kubelet
# has set its sysctls, containerd runs Pods, the control plane has written its keys):
#   1. SIGTERM to the run's process group, as CI cancelling a job does: node.sh cleans up itself
#      and exits 130; the host must equal its state before the run at once;
#   2. SIGKILL to the group, which no cleanup survives: the host differs (what is printed), and the
#      next node.sh run restores it first (its saved sysctls, cgroups, run folder); after that run
#      the host must equal its state before the first one.
# Prints each comparison (`diff` of host-state.sh's listing; empty means unchanged) and fails on any
# difference that should not be there.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here/../.."
log() { printf '[kill-self-test] %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { log "needs root, as the tier does"; exit 1; }
# shellcheck source=test/e2e/host-state.sh
source "$here/host-state.sh"
eval "$(bash test/tools/prereqs.sh)"
bin=$(bash test/tools/kube-binaries.sh node)
export PATH="$bin:$PATH"

# The tier's own command with one scenario: what matters is what runs when the signal comes.
TIER=(node_modules/.bin/vitest run --config vitest.e2e.config.ts test/e2e/install.test.ts -t 'becomes Ready')
# The event to kill at: the global setup printed that the node is Ready, and the install began.
READY='[e2e] node ready in'

killed_run() {
  local signal=$1 output=$2
  setsid bash test/e2e/node.sh "${TIER[@]}" >"$output" 2>&1 &
  local group=$!
  local waited=0
  until grep -qF "$READY" "$output"; do
    if ! kill -0 "$group" 2>/dev/null; then
      log "the run ended before the node was Ready:"; tail -30 "$output" >&2; return 1
    fi
    (( ++waited > 1800 )) && { log "no node after 180 s"; tail -30 "$output" >&2; return 1; }
    sleep 0.1
  done
  log "node Ready; SIG$signal to the run's process group"
  kill "-$signal" -- "-$group"
  local status=0
  wait "$group" || status=$?
  log "the run ended with status $status"
  echo "$status"
}

compare() {
  local what=$1 expected_empty=$2 after
  after=$(host_state)
  local changes
  changes=$(diff <(echo "$before") <(echo "$after") || true)
  if [[ -z $changes ]]; then
    log "$what: host diff empty"
  else
    log "$what: host diff:"
    echo "$changes" >&2
  fi
  if [[ $expected_empty == yes && -n $changes ]]; then
    log "FAILED: the host changed"
    exit 1
  fi
}

work=$(mktemp -d /tmp/kill-self-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
before=$(host_state)

status=$(killed_run TERM "$work/term.log")
[[ $status -eq 130 ]] || { log "FAILED: expected status 130 after SIGTERM, got $status"; tail -40 "$work/term.log" >&2; exit 1; }
grep -F 'nothing left' "$work/term.log" >&2 || { log "FAILED: node.sh did not report its check"; exit 1; }
compare "after SIGTERM" yes

killed_run KILL "$work/kill.log" >/dev/null
# What a SIGKILLed run leaves (its saved sysctls file, cgroups and run folder at least): not
# checked as empty; the next run must clean it.
compare "right after SIGKILL (before the next run)" no
bash test/e2e/node.sh true 2>&1 | sed 's/^/  next run: /' >&2
compare "after the next run" yes
log "passed: a killed run (SIGTERM or SIGKILL) leaves the host as it was"
