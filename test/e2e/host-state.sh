#!/usr/bin/env bash
# What the e2e node may change on the host, and how to read it: sourced by node.sh (which compares
# the host before and after a run) and kill-self-test.sh (which does the same around killed runs).

CGROUP=eatr-e2e
# The host's sysctl values while a run is on: a run killed before restoring them leaves this file.
SAVED_SYSCTLS=/var/tmp/eatr-e2e-sysctls
# What the kubelet sets at start (pkg/kubelet/cm: setupKernelTunables) and the node must give back.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

host_state() {
  echo "# network namespaces"; ip netns list 2>/dev/null || true
  echo "# links"; ip -o link show | awk -F': ' '{print $2}' | sort
  # The whole ruleset, without counters (-s): a rule added to a host table counts, not only tables.
  echo "# nftables ruleset"; nft -s list ruleset 2>/dev/null || true
  # Mount point, file system type and source of every mount.
  echo "# mounts"; awk '{for (i = 7; i <= NF; i++) if ($i == "-") {print $5, $(i + 1), $(i + 2); break}}' /proc/self/mountinfo | sort
  echo "# sysctls"; for s in "${SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s")"; done
  echo "# cgroups"; ls -d /sys/fs/cgroup/*/"$CGROUP" 2>/dev/null || true
  echo "# node processes"
  # Others may run etcd or kube-apiserver on this machine: only the node's own programs count.
  ps -eo pid=,comm= | grep -E ' (kubelet|containerd|containerd-shim.*|kube-proxy|kube-controller|kube-scheduler|coredns|registry|pause|runc)$' || true
  pgrep -a -f 'eatr-e2e-run' | grep -v -e pgrep -e node.sh -e kill-self-test || true
  echo "# folders"; ls -d /var/lib/kubelet /var/log/pods /var/lib/cni /run/containerd /opt/containerd /etc/cni/net.d 2>/dev/null || true
  echo "# temporary folders and files"; ls -d /tmp/eatr-e2e-* /var/tmp/eatr-e2e-* 2>/dev/null | grep -v -e '^/tmp/eatr-e2e-logs$' || true
  echo "# kernel modules"; modules
}

# Loaded kernel modules; where the kernel does not list them (no /proc/modules, as on these
# machines' VMs) that is said instead, so the comparison still shows it was looked at.
modules() { if [[ -r /proc/modules ]]; then awk '{print $1}' /proc/modules | sort; else echo "(not listed by this kernel)"; fi; }
