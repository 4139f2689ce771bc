#!/usr/bin/env bash
# Inside the node's namespaces (see node.sh): the bridge Pods and the API server share, a private
# /etc/hosts and /var/log, then COMMAND. Everything done here ends with the namespaces.
set -euo pipefail
: "${EATR_E2E_RUN_DIR:?run from node.sh}"
NODE_ADDRESS=${EATR_E2E_NODE_ADDRESS:-10.88.0.1}

ip link set lo up
# The CNI bridge plugin reuses this bridge; the API server binds its address before any Pod exists.
ip link add cni0 type bridge
ip addr add "$NODE_ADDRESS/16" dev cni0
ip link set cni0 up
sysctl -q -w net.ipv4.ip_forward=1
sysctl -q -w net.bridge.bridge-nf-call-iptables=1

# Names the node serves: its own (kubectl logs reaches the kubelet by it), the registries'.
cp /etc/hosts "$EATR_E2E_RUN_DIR/hosts"
printf '%s %s\n' "$NODE_ADDRESS" "${EATR_E2E_HOST_NAMES:-eatr-e2e-node registry.e2e.test 111111111111.dkr.ecr.eu-west-1.amazonaws.com public.ecr.aws}" >>"$EATR_E2E_RUN_DIR/hosts"
mount --bind "$EATR_E2E_RUN_DIR/hosts" /etc/hosts
# Paths fixed in the parts (kubelet: /var/log/pods, /var/lib/kubelet/...; containerd's shims and
# runc: /run/containerd; CNI's result cache: /var/lib/cni) go to file systems no one else sees.
mount -t tmpfs -o size=512m,mode=755 eatr-e2e-log /var/log
mount -t tmpfs -o size=64m,mode=755 eatr-e2e-run /run
mount -t tmpfs -o size=64m,mode=755 eatr-e2e-var-lib /var/lib

# Temporary files of the node's processes (control-plane keys, etcd and Prometheus data) go to the
# run folder, which node.sh deletes however the run ends.
mkdir -p "$EATR_E2E_RUN_DIR/tmp"
export TMPDIR=$EATR_E2E_RUN_DIR/tmp
export EATR_E2E_NODE_ADDRESS=$NODE_ADDRESS EATR_E2E_INSIDE=1
exec "$@"
