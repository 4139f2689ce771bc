#!/usr/bin/env bash
# Installs the Debian packages a real node needs (test/e2e) when they are missing: containerd and
# runc (the container runtime), the CNI plugins, nftables (kube-proxy's nftables mode runs `nft`),
# iptables and conntrack (the kubelet and kube-proxy call them), and gcc for the static pause image.
# Idempotent: does nothing when every command is already there. Needs root (the node does too).
set -euo pipefail
log() { printf '[node-packages] %s\n' "$*" >&2; }

declare -A wanted=(
  [containerd]=containerd [runc]=runc [/usr/lib/cni/bridge]=containernetworking-plugins
  [nft]=nftables [iptables]=iptables [conntrack]=conntrack [gcc]=gcc [redis-server]=redis-server
)
missing=()
for command in "${!wanted[@]}"; do
  if [[ $command == /* ]]; then [[ -x $command ]] && continue; else command -v "$command" >/dev/null && continue; fi
  missing+=("${wanted[$command]}")
done
# libc6-dev: the static pause binary links against libc.a.
[[ -f /usr/lib/x86_64-linux-gnu/libc.a ]] || missing+=(libc6-dev)
if [[ ${#missing[@]} -eq 0 ]]; then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then log "please install: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})"; exit 1; fi
log "apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt run (a colleague's, unattended upgrades) may hold the lock for a while: wait for it.
apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian starts services from postinst only under an init system; make sure no containerd runs on
# the host (the node starts its own, inside its namespaces).
if pgrep -x containerd >/dev/null; then log "note: a containerd is running on the host (not ours)"; fi
