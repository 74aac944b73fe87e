#!/usr/bin/env bash
# Puts the CustomResourceDefinitions the real-apiserver tests install into
# $LLMSERVE_TOOLS/crds. CI copies them from ../shared/crds (no network there); a user's
# machine fetches the same file from upstream at a pinned commit. Never committed here.
set -euo pipefail
cache=${LLMSERVE_TOOLS:-$HOME/.cache/llmserve/tools}
dest="$cache/crds"
mkdir -p "$dest"
here=$(cd "$(dirname "$0")/.." && pwd)

# GoogleCloudPlatform/prometheus-engine charts/operator/crds/, pinned.
PROMETHEUS_ENGINE_COMMIT=034a715222b7d8769bf3d8e8de4f38fcb08aa154
file=monitoring.googleapis.com_podmonitorings.yaml

if [ -s "$dest/$file" ]; then
  echo "[crds] $file: cached in $dest" >&2
elif [ -f "$here/../shared/crds/$file" ]; then
  cp "$here/../shared/crds/$file" "$dest/$file"
  echo "[crds] $file: copied from ../shared/crds" >&2
else
  url="https://raw.githubusercontent.com/GoogleCloudPlatform/prometheus-engine/$PROMETHEUS_ENGINE_COMMIT/charts/operator/crds/$file"
  curl -fsSL "$url" -o "$dest/$file.tmp" && mv "$dest/$file.tmp" "$dest/$file"
  echo "[crds] $file: fetched from prometheus-engine@$PROMETHEUS_ENGINE_COMMIT" >&2
fi

# The Prometheus Operator's CRDs (ServiceMonitor, PrometheusRule) ship in its Go module;
# fetch that pinned module through the Go module proxy, like the tools.
PROMETHEUS_OPERATOR_VERSION=v0.85.0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for file in monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml; do
  if [ -s "$dest/$file" ]; then
    echo "[crds] $file: cached in $dest" >&2
    continue
  fi
  src=$(cd "$scratch" && go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  cp "$src/example/prometheus-operator-crd/$file" "$dest/$file"
  chmod u+w "$dest/$file"
  echo "[crds] $file: from prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" >&2
done
