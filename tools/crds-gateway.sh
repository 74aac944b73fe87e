#!/usr/bin/env bash
# Puts the CRDs of serving.routing gateway (issue 20) into $LLMSERVE_TOOLS/crds for the
# real-apiserver tests, next to tools/crds.sh's:
#   - Gateway API standard CRDs (Gateway, HTTPRoute, ...) from the Go module
#     sigs.k8s.io/gateway-api at a pinned version (config/crd/standard/);
#   - the InferencePool CRD from sigs.k8s.io/gateway-api-inference-extension at the
#     endpoint picker's version (config/crd/bases/);
#   - GKE's networking.gke.io HealthCheckPolicy and GCPBackendPolicy CRDs, copied from
#     ../shared/crds (CI; $LLMSERVE_SHARED overrides the path) or fetched from GoogleCloudPlatform/gke-gateway-api at the
#     pinned commit ../shared/README.md names.
# Modules come through the Go module proxy, like the tools. Never committed here.
# Versions must match catalog/gateway.go (GatewayAPIVersion, InferenceExtensionVersion).
set -euo pipefail
cache=${LLMSERVE_TOOLS:-$HOME/.cache/llmserve/tools}
dest="$cache/crds"
mkdir -p "$dest"
here=$(cd "$(dirname "$0")/.." && pwd)
# ../shared next to the checkout (CI); LLMSERVE_SHARED names it elsewhere (a git worktree).
shared=${LLMSERVE_SHARED:-$here/../shared}

GATEWAY_API_VERSION=v1.4.1
INFERENCE_EXTENSION_VERSION=v1.5.0
GKE_GATEWAY_API_COMMIT=fc40d606a5332f11a8883f85caff66b63c4e88ef

fail() {
  echo "[crds-gateway] $*" >&2
  exit 1
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# module_dir MODULE@VERSION prints the module's directory in the Go module cache.
module_dir() {
  local out dir
  if ! out=$(cd "$scratch" && GOFLAGS=-mod=mod go mod download -json "$1" 2>&1); then
    fail "go mod download $1 failed: $out
  fix: check the network or GOPROXY (go env GOPROXY), or that $1 exists"
  fi
  dir=$(printf '%s\n' "$out" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || fail "go mod download $1 gave no module directory: $out"
  printf '%s\n' "$dir"
}

# take MODULE@VERSION SUBDIR FILE...: copies each FILE of the module's SUBDIR, unless cached.
take() {
  local mod=$1 sub=$2 dir="" file
  shift 2
  for file in "$@"; do
    if [ -s "$dest/$file" ]; then
      echo "[crds-gateway] $file: cached in $dest" >&2
      continue
    fi
    [ -n "$dir" ] || dir=$(module_dir "$mod")
    [ -f "$dir/$sub/$file" ] || fail "$file is not in $mod $sub/; fix: check the pinned version in tools/crds-gateway.sh and catalog/gateway.go"
    cp "$dir/$sub/$file" "$dest/$file.tmp" && chmod u+w "$dest/$file.tmp" && mv "$dest/$file.tmp" "$dest/$file"
    echo "[crds-gateway] $file: from $mod" >&2
  done
}

take "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" config/crd/standard \
  gateway.networking.k8s.io_gatewayclasses.yaml \
  gateway.networking.k8s.io_gateways.yaml \
  gateway.networking.k8s.io_httproutes.yaml \
  gateway.networking.k8s.io_referencegrants.yaml
take "sigs.k8s.io/gateway-api-inference-extension@$INFERENCE_EXTENSION_VERSION" config/crd/bases \
  inference.networking.k8s.io_inferencepools.yaml

for file in networking.gke.io_healthcheckpolicies.yaml networking.gke.io_gcpbackendpolicies.yaml; do
  if [ -s "$dest/$file" ]; then
    echo "[crds-gateway] $file: cached in $dest" >&2
  elif [ -f "$shared/crds/$file" ]; then
    cp "$shared/crds/$file" "$dest/$file"
    echo "[crds-gateway] $file: copied from $shared/crds" >&2
  else
    url="https://raw.githubusercontent.com/GoogleCloudPlatform/gke-gateway-api/$GKE_GATEWAY_API_COMMIT/config/crd/$file"
    curl -fsSL "$url" -o "$dest/$file.tmp" ||
      fail "fetching $url failed; fix: check the network, or copy $file from GoogleCloudPlatform/gke-gateway-api config/crd/ at $GKE_GATEWAY_API_COMMIT into $dest"
    mv "$dest/$file.tmp" "$dest/$file"
    echo "[crds-gateway] $file: fetched from gke-gateway-api@$GKE_GATEWAY_API_COMMIT" >&2
  fi
done
