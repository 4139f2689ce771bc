#!/usr/bin/env bash
# Runs COMMAND on a throw-away Kubernetes node that leaves nothing behind on this machine.
#
#   sudo bash test/e2e/node.sh COMMAND...      (test:e2e runs `vitest --config vitest.e2e.config.ts`)
#
# COMMAND runs in new PID, network and mount namespaces (unshare): the node's bridge, routes,
# netfilter tables (kubelet, kube-proxy), its mounts (Pod volumes, overlay snapshots, a private
# /etc/hosts and /var/log) and every process it starts live and die with them; `--kill-child` ends
# the whole PID namespace when this script ends, however COMMAND ends. What is global is handled
# here, on the host side: the kernel sysctls the kubelet sets are saved and restored, the node's
# cgroups (under /eatr-e2e in every hierarchy) are removed, the run folder is deleted. Then the host
# is compared with a snapshot taken before the run: any difference fails the run ("nothing left").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[e2e-node] %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { log "the node needs root (containerd, kubelet, namespaces)"; exit 1; }
[[ $# -gt 0 ]] || { log "usage: node.sh COMMAND..."; exit 2; }

CGROUP=eatr-e2e
# What the kubelet sets at start (pkg/kubelet/cm: setupKernelTunables) and the node must give back.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

host_state() {
  echo "# network namespaces"; ip netns list 2>/dev/null || true
  echo "# links"; ip -o link show | awk -F': ' '{print $2}' | sort
  echo "# nftables"; nft list tables 2>/dev/null || true
  echo "# mounts"; awk '{print $5}' /proc/self/mountinfo | sort
  echo "# sysctls"; for s in "${SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s")"; done
  echo "# cgroups"; ls -d /sys/fs/cgroup/*/"$CGROUP" 2>/dev/null || true
  echo "# node processes"
  # Others may run etcd or kube-apiserver on this machine: only the node's own programs count.
  ps -eo pid=,comm= | grep -E ' (kubelet|containerd|containerd-shim.*|kube-proxy|kube-controller|kube-scheduler|coredns|registry|pause|runc)$' || true
  pgrep -a -f 'eatr-e2e-run' | grep -v -e pgrep -e node.sh || true
  echo "# folders"; ls -d /var/lib/kubelet /var/log/pods /var/lib/cni /run/containerd /opt/containerd /etc/cni/net.d 2>/dev/null || true
}

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

# A run killed with SIGKILL cannot clean up after itself: take what it left first.
remove_cgroups
for leftover in /tmp/eatr-e2e-run.*; do [[ -d $leftover ]] && rm -rf "$leftover"; done

before=$(host_state)
declare -A saved
for s in "${SYSCTLS[@]}"; do saved[$s]=$(sysctl -n "$s"); done
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
EATR_E2E_RUN_DIR=$run_dir EATR_E2E_CGROUP=$CGROUP \
  unshare --pid --fork --kill-child --mount-proc --net --mount --propagation private \
  bash "$here/node-inside.sh" "$@" || status=$?
log "node command finished with status $status after $(( $(date +%s) - started ))s; cleaning up"

for s in "${SYSCTLS[@]}"; do sysctl -q -w "$s=${saved[$s]}" || status=1; done
remove_cgroups || status=1
if [[ $status -ne 0 ]]; then
  # The node's own logs, for the failure (kept outside the run folder, which goes).
  logs=${EATR_E2E_LOGS:-/tmp/eatr-e2e-logs}
  rm -rf "$logs" && mkdir -p "$logs"
  find "$run_dir" -maxdepth 3 -name '*.log' -size -64M -exec cp -t "$logs" {} + 2>/dev/null || true
  log "the node's logs are in $logs"
fi
rm -rf "$run_dir"
after=$(host_state)
if [[ "$before" != "$after" ]]; then
  log "the host changed during the run:"
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
log "nothing left: no node process, mount, link, nftables table, cgroup, folder or sysctl change on the host"
exit "$status"
