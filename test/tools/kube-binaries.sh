#!/usr/bin/env bash
# Builds kube-apiserver and etcd (and helm) from Go modules into a per-version cache and prints
# the folder that holds them (a KUBEBUILDER_ASSETS-style folder). Reuses KUBEBUILDER_ASSETS when it
# already holds both server binaries. Nothing is downloaded except through the Go module proxy.
#
#   EATR_K8S_VERSION   Kubernetes version to build (default 1.34.1)
#   EATR_ETCD_VERSION  etcd version to build (default 3.6.4, envtest's pair for 1.34)
#   EATR_HELM_VERSION  Helm version to build (default 3.19.0)
#   XDG_CACHE_HOME     cache root (default ~/.cache); binaries go to eatr/k8s/<k8s>-linux-amd64
#
# `kube-binaries.sh node` also builds what a real node needs (test/e2e): kubelet,
# kube-controller-manager, kube-scheduler and kube-proxy from the same wrapper module (sharing the
# API server's Go build cache: ~2 min more), and CoreDNS, the distribution registry and crictl with
# `go install` (EATR_COREDNS_VERSION, EATR_REGISTRY_VERSION, EATR_CRICTL_VERSION).
set -euo pipefail

NODE_PARTS=false
[[ "${1:-}" == node ]] && NODE_PARTS=true
COREDNS_VERSION=${EATR_COREDNS_VERSION:-1.15.0}
REGISTRY_VERSION=${EATR_REGISTRY_VERSION:-3.1.2}
CRICTL_VERSION=${EATR_CRICTL_VERSION:-1.34.0}
NODE_BINARIES=(kubelet kube-controller-manager kube-scheduler kube-proxy coredns registry crictl)

K8S_VERSION=${EATR_K8S_VERSION:-1.34.1}
ETCD_VERSION=${EATR_ETCD_VERSION:-3.6.4}
HELM_VERSION=${EATR_HELM_VERSION:-3.19.0}
ARCH=$(go env GOARCH 2>/dev/null || echo amd64)
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/eatr/k8s/${K8S_VERSION}-etcd${ETCD_VERSION}-helm${HELM_VERSION}-linux-${ARCH}"

log() { printf '[kube-binaries] %s\n' "$*" >&2; }

if [[ $NODE_PARTS == false && -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" && -x "$KUBEBUILDER_ASSETS/helm" ]]; then
  log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

command -v go >/dev/null || { log "Go is required to build the Kubernetes test binaries (apt-get install golang, or Go >= 1.24 from go.dev)"; exit 1; }
mkdir -p "$CACHE_DIR"

# Replace every local (./ or ../) replace of the module's go.mod with the published version.
# usage: write_wrapper DIR MODULE VERSION LOCAL_VERSION
write_wrapper() {
  local dir=$1 module=$2 version=$3 local_version=$4 modfile
  mkdir -p "$dir"
  modfile=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f "$modfile" ]] || { log "could not download $module@$version"; exit 1; }
  {
    echo "module eatr.local/build"
    echo
    echo "go $(go env GOVERSION | sed 's/^go\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require $module $version"
    echo
    # Single-line form: replace X => ./path ; block form: X => ./path. Keep only module paths that can
    # carry local_version (a /vN suffix for N >= 2, none for v0/v1): etcd also "replaces" a forbidden
    # legacy path with a folder that does not exist, to make bad imports fail loudly.
    grep -E '=>[[:space:]]*\.\.?/' "$modfile" \
      | sed -E 's/^[[:space:]]*replace[[:space:]]+//; s/^[[:space:]]+//' \
      | awk -v v="$local_version" '
          BEGIN { major = int(substr(v, 2) + 0) }
          major >= 2 && $1 !~ ("/v" major "$") { next }
          major < 2 && $1 ~ /\/v[0-9]+$/ { next }
          { print "replace " $1 " => " $1 " " v }'
  } >"$dir/go.mod"
}

build_main() { # dir out pkg version ldflags
  local dir=$1 out=$2 pkg=$3 version=$4 ldflags=$5
  # Pin the version: a bare `go get pkg` would upgrade the module to its latest release.
  (cd "$dir" && GOFLAGS=-mod=mod go get "$pkg@$version" >&2)
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$out" "$pkg")
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

k8s_components=(kube-apiserver)
[[ $NODE_PARTS == true ]] && k8s_components+=(kubelet kube-controller-manager kube-scheduler kube-proxy)
k8s_wrapper_ready=false
for component in "${k8s_components[@]}"; do
  [[ -x "$CACHE_DIR/$component" ]] && continue
  start=$(date +%s)
  log "building $component v$K8S_VERSION (cold build: about 10-15 minutes on 2 cores for the first, ~1 min each after)"
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  if [[ $k8s_wrapper_ready == false ]]; then
    write_wrapper "$WORK/k8s" k8s.io/kubernetes "v$K8S_VERSION" "v0.${K8S_VERSION#1.}"
    k8s_wrapper_ready=true
  fi
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$now"
  done
  build_main "$WORK/k8s" "$CACHE_DIR/$component.tmp" "k8s.io/kubernetes/cmd/$component" "v$K8S_VERSION" "$ld"
  mv "$CACHE_DIR/$component.tmp" "$CACHE_DIR/$component"
  log "$component built in $(( $(date +%s) - start ))s"
done

if [[ ! -x "$CACHE_DIR/etcd" ]]; then
  start=$(date +%s)
  log "building etcd v$ETCD_VERSION"
  write_wrapper "$WORK/etcd" go.etcd.io/etcd/server/v3 "v$ETCD_VERSION" "v$ETCD_VERSION"
  build_main "$WORK/etcd" "$CACHE_DIR/etcd.tmp" go.etcd.io/etcd/server/v3 "v$ETCD_VERSION" ""
  mv "$CACHE_DIR/etcd.tmp" "$CACHE_DIR/etcd"
  log "etcd built in $(( $(date +%s) - start ))s"
fi

if [[ ! -x "$CACHE_DIR/helm" ]]; then
  start=$(date +%s)
  log "building helm v$HELM_VERSION"
  GOBIN="$WORK/helm-bin" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
  mv "$WORK/helm-bin/helm" "$CACHE_DIR/helm"
  log "helm built in $(( $(date +%s) - start ))s"
fi

go_install() { # name package version ldflags
  local name=$1 pkg=$2 version=$3 ldflags=${4:-}
  [[ -x "$CACHE_DIR/$name" ]] && return 0
  local start
  start=$(date +%s)
  log "building $name $version (go install $pkg@$version)"
  GOBIN="$WORK/$name-bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version"
  mv "$WORK/$name-bin/$(basename "$pkg")" "$CACHE_DIR/$name"
  log "$name built in $(( $(date +%s) - start ))s"
}

if [[ $NODE_PARTS == true ]]; then
  go_install coredns github.com/coredns/coredns "v$COREDNS_VERSION"
  go_install registry github.com/distribution/distribution/v3/cmd/registry "v$REGISTRY_VERSION" \
    "-X github.com/distribution/distribution/v3/version.version=v$REGISTRY_VERSION"
  go_install crictl sigs.k8s.io/cri-tools/cmd/crictl "v$CRICTL_VERSION" \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=v$CRICTL_VERSION"
  for name in "${NODE_BINARIES[@]}"; do
    [[ -x "$CACHE_DIR/$name" ]] || { log "$name is missing from $CACHE_DIR"; exit 1; }
  done
fi

echo "$CACHE_DIR"
