#!/usr/bin/env bash
# Runs COMMAND on a throw-away Kubernetes node that leaves nothing behind on this machine.
#
#   sudo bash test/e2e/node.sh COMMAND...      (test:e2e runs `vitest --config vitest.e2e.config.ts`)
#
# COMMAND runs in new PID, network and mount namespaces (unshare): the node's bridge, routes,
# netfilter tables (kubelet, kube-proxy), its mounts (Pod volumes, overlay snapshots, a private
# /etc/hosts and /var/log) and every process it starts live and die with them; `--kill-child` ends
# the whole PID namespace when this script ends, however COMMAND ends. What is global is handled
# here, on the host side: the kernel sysctls the kubelet sets are saved (to a file too, so a run
# killed with SIGKILL is restored by the next one) and restored, the node's cgroups (under
# /eatr-e2e in every hierarchy) are removed, the run folder (also the node's TMPDIR: control-plane
# keys, etcd and Prometheus data) is deleted, also when the run is interrupted (SIGINT, SIGTERM,
# SIGHUP). Kernel modules the node loaded are unloaded. Then the host is compared with a snapshot
# taken before the run (host-state.sh): any difference fails the run ("nothing left").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[e2e-node] %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { log "the node needs root (containerd, kubelet, namespaces)"; exit 1; }
[[ $# -gt 0 ]] || { log "usage: node.sh COMMAND..."; exit 2; }

# shellcheck source=test/e2e/host-state.sh
source "$here/host-state.sh"

remove_cgroups() {
  local tries=0 dir
  while :; do
    local left=0
    for dir in /sys/fs/cgroup/*/"$CGROUP"; do
      [[ -d $dir ]] || continue
      # Deepest first; a cgroup whose last process just died can be busy for a moment.
      find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [[ -d $dir ]] && left=1
    done
    [[ $left -eq 0 ]] && return 0
    (( ++tries > 50 )) && { log "could not remove every /sys/fs/cgroup/*/$CGROUP"; return 1; }
    sleep 0.2
  done
}

# A run killed with SIGKILL cannot clean up after itself: take what it left first, and say so.
if [[ -f $SAVED_SYSCTLS ]]; then
  log "an earlier run was killed before restoring the host's sysctls; restoring them from $SAVED_SYSCTLS:"
  while IFS='=' read -r name value; do
    [[ -n $name ]] || continue
    log "  $name: $(sysctl -n "$name") -> $value"
    sysctl -q -w "$name=$value"
  done <"$SAVED_SYSCTLS"
  rm -f "$SAVED_SYSCTLS"
fi
remove_cgroups
for leftover in /tmp/eatr-e2e-run.*; do [[ -d $leftover ]] && rm -rf "$leftover"; done

before=$(host_state)
modules_before=$(modules)
declare -A saved
: >"$SAVED_SYSCTLS.new"
for s in "${SYSCTLS[@]}"; do
  saved[$s]=$(sysctl -n "$s")
  echo "$s=${saved[$s]}" >>"$SAVED_SYSCTLS.new"
done
mv "$SAVED_SYSCTLS.new" "$SAVED_SYSCTLS"
run_dir=$(mktemp -d /tmp/eatr-e2e-run.XXXXXX)
chmod 755 "$run_dir"

# The kubelet's cgroup root must exist in every hierarchy (cpuset needs its cpus and mems set).
for hierarchy in /sys/fs/cgroup/*/; do
  mkdir -p "$hierarchy$CGROUP"
  if [[ -f "$hierarchy/cpuset.cpus" ]]; then
    cat "$hierarchy/cpuset.cpus" >"$hierarchy$CGROUP/cpuset.cpus"
    cat "$hierarchy/cpuset.mems" >"$hierarchy$CGROUP/cpuset.mems"
  fi
done

status=0
started=$(date +%s)
# In the background, so that a signal reaches this script at once (bash runs a trap only once the
# foreground command is done): the trap ends the node's PID namespace, and the cleanup below runs
# as after a normal end.
EATR_E2E_RUN_DIR=$run_dir EATR_E2E_CGROUP=$CGROUP \
  unshare --pid --fork --kill-child --mount-proc --net --mount --propagation private \
  bash "$here/node-inside.sh" "$@" &
node_pid=$!
interrupted=''
on_signal() {
  interrupted=$1
  log "SIG$1: stopping the node, then cleaning up"
  # unshare blocks SIGTERM and SIGINT while it waits, and the namespace's init ignores what it has
  # no handler for: kill the init, and the kernel ends every process of the namespace with it.
  pkill -KILL -P "$node_pid" 2>/dev/null || true
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
while :; do
  wait "$node_pid" && status=0 || status=$?
  # A trapped signal interrupts `wait` (status > 128) while the node still stops: wait again.
  kill -0 "$node_pid" 2>/dev/null || break
done
trap - INT TERM HUP
[[ -n $interrupted ]] && status=130
log "node command finished with status $status after $(( $(date +%s) - started ))s${interrupted:+ (interrupted by SIG$interrupted)}; cleaning up"

for s in "${SYSCTLS[@]}"; do sysctl -q -w "$s=${saved[$s]}" || status=1; done
rm -f "$SAVED_SYSCTLS"
remove_cgroups || status=1
if [[ $status -ne 0 ]]; then
  # The node's own logs, for the failure (kept outside the run folder, which goes).
  logs=${EATR_E2E_LOGS:-/tmp/eatr-e2e-logs}
  rm -rf "$logs" && mkdir -p "$logs"
  find "$run_dir" -maxdepth 3 -name '*.log' -size -64M -exec cp -t "$logs" {} + 2>/dev/null || true
  # Container logs a failed test copied out of the node's /var/log/pods (harness/on-failure.ts).
  [[ -d $run_dir/pod-logs ]] && cp -r "$run_dir/pod-logs" "$logs/" 2>/dev/null || true
  log "the node's logs are in $logs"
fi
rm -rf "$run_dir"
# Kernel modules the node loaded (br_netfilter, nf_* for kube-proxy) are unloaded again; one still in
# use stays and fails the comparison below.
for module in $(comm -13 <(echo "$modules_before") <(modules)); do
  modprobe -r "$module" 2>/dev/null && log "unloaded kernel module $module (the node loaded it)" || true
done
after=$(host_state)
if [[ "$before" != "$after" ]]; then
  log "the host changed during the run:"
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
log "nothing left: no node process, mount, link, nftables rule, cgroup, folder, file, kernel module or sysctl change on the host"
exit "$status"
