#!/usr/bin/env bash
# Puts the CustomResourceDefinitions the real-apiserver tests install into
# $LLMSERVE_TOOLS/crds. CI copies them from ../shared/crds (no network there); a user's
# machine fetches the same file from upstream at a pinned commit. Never committed here.
#
# Every step either leaves a checked file in the cache or stops with what failed and how to
# fix it (issue 21): a download that fails, or that is not the CRD (a proxy's error page),
# must never be reported as fetched and leave the integration tests to fail much later with
# `no matches for kind "PodMonitoring"`. tests/setup_scripts_test.go runs this script with
# a failing curl and go.
#
# LLMSERVE_SHARED: where shared/ is, when it is not beside the repository (a git worktree
# elsewhere, a CI checkout with another layout). Default: ../shared next to the repository.
set -euo pipefail
cache=${LLMSERVE_TOOLS:-$HOME/.cache/llmserve/tools}
dest="$cache/crds"
mkdir -p "$dest"
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${LLMSERVE_SHARED:-$here/../shared}

log() { printf '[crds] %s\n' "$*" >&2; }
# fail CAUSE FIX...: the cause, then each line of the fix, then exit 1.
fail() {
  log "FAILED: $1"
  shift
  local l
  for l in "$@"; do log "  $l"; done
  exit 1
}

# is_crd FILE NAME: FILE is a CustomResourceDefinition named NAME (checked on the text, so a
# proxy's or captive portal's HTML page or an empty file is refused before it is cached).
is_crd() {
  grep -q '^kind: CustomResourceDefinition' "$1" && grep -q "^  name: $2\$" "$1"
}

# GoogleCloudPlatform/prometheus-engine charts/operator/crds/, pinned.
PROMETHEUS_ENGINE_COMMIT=034a715222b7d8769bf3d8e8de4f38fcb08aa154
file=monitoring.googleapis.com_podmonitorings.yaml
crd=podmonitorings.monitoring.googleapis.com
url="https://raw.githubusercontent.com/GoogleCloudPlatform/prometheus-engine/$PROMETHEUS_ENGINE_COMMIT/charts/operator/crds/$file"

if [ -s "$dest/$file" ] && is_crd "$dest/$file" "$crd"; then
  log "$file: cached in $dest"
elif [ -f "$shared/crds/$file" ]; then
  is_crd "$shared/crds/$file" "$crd" ||
    fail "$shared/crds/$file is not the CustomResourceDefinition $crd" \
      "fix: restore shared/ (see shared/README.md), or point LLMSERVE_SHARED at a good copy"
  cp "$shared/crds/$file" "$dest/$file.tmp"
  mv "$dest/$file.tmp" "$dest/$file"
  log "$file: copied from $shared/crds"
else
  # `if !` rather than `curl … && mv …`: set -e ignores a failure on the left of &&, which
  # let a failed download through as "fetched" (bash manual, The Set Builtin, -e).
  rm -f "$dest/$file.tmp"
  if ! curl -fsSL "$url" -o "$dest/$file.tmp"; then
    rm -f "$dest/$file.tmp"
    fail "could not download $file from $url (curl's error above)" \
      "no shared/ directory with it was found either: looked in $shared/crds/$file" \
      "fix, one of:" \
      "- put shared/ beside the repository ($here/../shared; CI has it), or set LLMSERVE_SHARED=<dir holding crds/$file>" \
      "- download it where GitHub is reachable and copy it to $dest/$file" \
      "  (curl -fsSL -o $file $url)"
  fi
  if ! is_crd "$dest/$file.tmp" "$crd"; then
    rm -f "$dest/$file.tmp"
    fail "the download of $url is not the CustomResourceDefinition $crd (a proxy or captive portal page?)" \
      "fix: check the network or proxy, or copy the file from shared/crds to $dest/$file"
  fi
  mv "$dest/$file.tmp" "$dest/$file"
  log "$file: fetched from prometheus-engine@$PROMETHEUS_ENGINE_COMMIT"
fi

# The Prometheus Operator's CRDs (ServiceMonitor, PrometheusRule) ship in its Go module;
# fetch that pinned module through the Go module proxy, like the tools.
PROMETHEUS_OPERATOR_VERSION=v0.85.0
module=github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
src=""
for file in monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml; do
  crd=${file#monitoring.coreos.com_}
  crd=${crd%.yaml}.monitoring.coreos.com
  if [ -s "$dest/$file" ] && is_crd "$dest/$file" "$crd"; then
    log "$file: cached in $dest"
    continue
  fi
  if [ -z "$src" ]; then
    # `go mod download -json` reports its error inside the JSON on stdout, not on stderr:
    # keep the JSON, so a failure shows the go command's own words ("Error" field,
    # `go help mod download`).
    if ! json=$(cd "$scratch" && go mod download -json "$module"); then
      printf '%s\n' "$json" | sed -n -e 's/\\"/"/g' -e 's/^[[:space:]]*"Error": "\(.*\)"$/[crds]   go: \1/p' >&2
      fail "could not download the Go module $module (for $file)" \
        "fix: check that the Go module proxy is reachable: GOPROXY=$(go env GOPROXY 2>/dev/null || echo '?')" \
        "  (and GONOSUMDB/GOPRIVATE for a private one); \`go mod download -json $module\` repeats the error"
    fi
    src=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
    [ -n "$src" ] && [ -d "$src" ] ||
      fail "go mod download -json $module named no module directory" "its output: $json"
  fi
  [ -f "$src/example/prometheus-operator-crd/$file" ] ||
    fail "$module has no example/prometheus-operator-crd/$file" \
      "fix: PROMETHEUS_OPERATOR_VERSION in tools/crds.sh names a version that ships it"
  is_crd "$src/example/prometheus-operator-crd/$file" "$crd" ||
    fail "$src/example/prometheus-operator-crd/$file is not the CustomResourceDefinition $crd"
  cp "$src/example/prometheus-operator-crd/$file" "$dest/$file.tmp"
  chmod u+w "$dest/$file.tmp"
  mv "$dest/$file.tmp" "$dest/$file"
  log "$file: from prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
done
