#!/usr/bin/env bash
# Builds the pinned tools the test layers need into a cache outside the repo:
#   $LLMSERVE_TOOLS/<tool>-<version>/bin/...   (default ~/.cache/llmserve/tools)
# Each tool is built from the Go module pinned in tools/<tool>/go.mod and is skipped
# when its directory already holds a finished build (a .done stamp), so a warm run
# takes seconds. Usage: tools/build.sh [-j N] [tool ...]   (default: all)
# Tools build N at a time (default 2, the cores here): each `go build` compiles packages in
# parallel, but links one binary at a time on one core, and module downloads wait on the
# network, so two builds at once keep both cores busy. Each tool's output goes to
# $cache/logs/<tool>.log, printed when it fails.
#
# Versions: measured to resolve through the Go module proxy reachable here (issue 4).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${LLMSERVE_TOOLS:-$HOME/.cache/llmserve/tools}
export GONOSUMDB=${GONOSUMDB:-github.com/pulumi}
export GOFLAGS=-mod=mod

KUBE_VERSION=v1.33.13
ETCD_VERSION=v3.5.21
PULUMI_VERSION=v3.259.0
PULUMI_K8S_VERSION=4.25.0
PULUMI_K8S_PROVIDER=github.com/pulumi/pulumi-kubernetes/provider/v4@v4.0.0-20260115033456-f47bc2d6f199
KWOK_VERSION=v0.8.0
# The linters (tools/lint/go.mod pins their modules).
LINT_VERSION=staticcheck-v0.8.2
# cluster-autoscaler at the commit of Kubernetes 1.33.1 (tools/cluster-autoscaler/go.mod); its
# pseudo-version is not in the checksum database, hence GONOSUMDB below.
CA_VERSION=v0.0.0-20250613073258-1959f5f61f6c
CA_DIR_VERSION=v1.33.1-1959f5f
CA_APIS_VERSION=v0.0.0-20240627115740-d52e4b9665d7

log() { printf '[tools] %s\n' "$*" >&2; }

# module_dir DIR MODULE@VERSION: the module's directory in the module cache, downloaded
# through the Go module proxy from DIR (a tools/<tool> module). `go mod download -json`
# reports a failure inside the JSON on stdout ("Error", `go help mod download`), so piping it
# straight into sed hid the cause and the build stopped with no reason, or with a later
# `cp: cannot stat '/cmd/...'`; this shows the go command's words and what to check.
module_dir() {
  local json dir
  if ! json=$(cd "$1" && go mod download -json "$2"); then
    printf '%s\n' "$json" | sed -n -e 's/\\"/"/g' -e 's/^[[:space:]]*"Error": "\(.*\)"$/go: \1/p' >&2
    log "FAILED: could not download the Go module $2"
    log "  fix: check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY 2>/dev/null || echo '?'));"
    log "  GONOSUMDB=$GONOSUMDB covers pseudo-versions missing from the checksum database"
    return 1
  fi
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    log "FAILED: go mod download -json $2 named no module directory: $json"
    return 1
  fi
  printf '%s\n' "$dir"
}

# done_or_build DIR NAME FUNC: run FUNC DIR unless DIR/.done exists.
done_or_build() {
  local dir=$1 name=$2 fn=$3
  if [ -f "$dir/.done" ]; then
    log "$name: cached in $dir"
    return 0
  fi
  log "$name: building into $dir"
  local start=$SECONDS
  rm -rf "$dir" && mkdir -p "$dir/bin"
  "$fn" "$dir"
  touch "$dir/.done"
  log "$name: built in $((SECONDS - start))s"
}

build_etcd() {
  (cd "$here/etcd" && go build -trimpath -o "$1/bin/etcd" go.etcd.io/etcd/server/v3)
}

build_kube() {
  local v=${KUBE_VERSION#v} ld
  # Without these the binaries report v0.0.0-master, which clients and kwokctl reject.
  ld="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
  ld+=" -X k8s.io/component-base/version.gitMajor=${v%%.*}"
  ld+=" -X k8s.io/component-base/version.gitMinor=$(echo "$v" | cut -d. -f2)"
  ld+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    (cd "$here/kube" && go build -trimpath -ldflags "$ld" -o "$1/bin/$b" "k8s.io/kubernetes/cmd/$b")
  done
}

build_pulumi() {
  # The Automation API parses the CLI's version: an unset one fails it.
  (cd "$here/pulumi" && go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$1/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

build_pulumi_kubernetes() {
  # The module zip lacks the go:embed schema files; the module's own generate.go makes
  # them from schema.json. Copy the command into a scratch package of our tools module.
  local src work
  src=$(module_dir "$here/pulumi-kubernetes" "$PULUMI_K8S_PROVIDER")
  work="$1/src"
  rm -rf "$work" && mkdir -p "$work/cmd"
  cp "$here/pulumi-kubernetes/go.mod" "$here/pulumi-kubernetes/go.sum" "$work/"
  cp "$src"/cmd/pulumi-resource-kubernetes/{main.go,generate.go,schema.json,terraform-mapping.json} "$work/cmd/"
  chmod -R u+w "$work"
  (cd "$work/cmd" && VERSION=$PULUMI_K8S_VERSION go run generate.go)
  rm "$work/cmd/generate.go"
  (cd "$work" && go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_K8S_VERSION" \
    -o "$1/bin/pulumi-resource-kubernetes" ./cmd)
  rm -rf "$work"
}

build_kwok() {
  local src
  (cd "$here/kwok" && go build -trimpath -o "$1/bin/kwok" sigs.k8s.io/kwok/cmd/kwok &&
    go build -trimpath -o "$1/bin/kwokctl" sigs.k8s.io/kwok/cmd/kwokctl)
  # kwok exits "no stages found" without its stage configs; they ship in the module.
  src=$(module_dir "$here/kwok" "sigs.k8s.io/kwok@$KWOK_VERSION")
  mkdir -p "$1/stages"
  cp -r "$src/kustomize/stage/node" "$src/kustomize/stage/pod" "$1/stages/"
  chmod -R u+w "$1/stages"
}

# ca_apis_v1 DIR: rename ProvisioningRequest v1beta1 to v1 in a copy of the apis module. In
# each file the package imported as v1beta1 is re-imported as xv1, so that it never clashes
# with meta/v1 (also "v1" in generated code); the two annotation keys v1 added are appended
# with their upstream values.
ca_apis_v1() {
  (cd "$1" &&
    grep -rl 'v1beta1' --include='*.go' . | xargs sed -i \
      -e 's#^\([[:space:]]*\)\(v1beta1 \)\{0,1\}"\([^"]*\)/v1beta1"#\1xv1 "\3/v1"#' \
      -e 's/\bv1beta1\./xv1./g' -e 's/v1beta1/v1/g' -e 's/V1beta1/V1/g' &&
    find . -depth -type d -name v1beta1 -execdir mv v1beta1 v1 \; &&
    printf '%s\n' 'package v1' '' 'const (' \
      '	ProvisioningRequestPodAnnotationKey = "autoscaling.x-k8s.io/consume-provisioning-request"' \
      '	ProvisioningClassPodAnnotationKey   = "autoscaling.x-k8s.io/provisioning-class-name"' ')' \
      > provisioningrequest/autoscaling.x-k8s.io/v1/zz_llmserve_keys.go)
}

build_cluster_autoscaler() {
  # cluster-autoscaler's own go.mod replaces its k8s.io/autoscaler/cluster-autoscaler/apis
  # module with ./apis, which a dependency's replace cannot do; the one version of that module
  # the proxy serves (the one its go.mod names, d52e4b9665d7) still has ProvisioningRequest
  # at v1beta1 where this commit imports v1. The API graduated unchanged, so build a scratch
  # copy of the module with v1beta1 renamed to v1 and point the build at it, like
  # build_pulumi_kubernetes does with its schema files. The lab never enables
  # provisioning requests; this only has to compile.
  local apis work
  export GONOSUMDB="$GONOSUMDB,k8s.io/autoscaler"
  apis=$(module_dir "$here/cluster-autoscaler" "k8s.io/autoscaler/cluster-autoscaler/apis@$CA_APIS_VERSION")
  work="$1/src"
  rm -rf "$work" && mkdir -p "$work"
  cp "$here/cluster-autoscaler/go.mod" "$here/cluster-autoscaler/go.sum" "$here/cluster-autoscaler/tools.go" "$work/"
  cp -r "$apis" "$work/apis" && chmod -R u+w "$work/apis"
  ca_apis_v1 "$work/apis"
  # -tags kwok links only cloudprovider/builder/builder_kwok.go: the kwok cloud provider,
  # which runs outside the cluster against the lab's kubeconfig, and none of the clouds' SDKs.
  (cd "$work" && go mod edit -replace k8s.io/autoscaler/cluster-autoscaler/apis=./apis &&
    go build -trimpath -tags kwok \
      -ldflags "-s -w" -o "$1/bin/cluster-autoscaler" k8s.io/autoscaler/cluster-autoscaler)
  rm -rf "$work"
}

build_lint() {
  (cd "$here/lint" && go build -trimpath -o "$1/bin/staticcheck" honnef.co/go/tools/cmd/staticcheck &&
    go build -trimpath -o "$1/bin/goimports" golang.org/x/tools/cmd/goimports)
}

# build_one TOOL: build one tool (or skip it when cached).
build_one() {
  case $1 in
    etcd) done_or_build "$cache/etcd-$ETCD_VERSION" etcd build_etcd ;;
    kube) done_or_build "$cache/kube-$KUBE_VERSION" kube build_kube ;;
    pulumi) done_or_build "$cache/pulumi-$PULUMI_VERSION" pulumi build_pulumi ;;
    pulumi-kubernetes) done_or_build "$cache/pulumi-kubernetes-v$PULUMI_K8S_VERSION" pulumi-kubernetes build_pulumi_kubernetes ;;
    kwok) done_or_build "$cache/kwok-$KWOK_VERSION" kwok build_kwok ;;
    cluster-autoscaler) done_or_build "$cache/cluster-autoscaler-$CA_DIR_VERSION" cluster-autoscaler build_cluster_autoscaler ;;
    lint) done_or_build "$cache/lint-$LINT_VERSION" lint build_lint ;;
    *) echo "tools/build.sh: unknown tool $1 (want etcd, kube, pulumi, pulumi-kubernetes, kwok, cluster-autoscaler, lint)" >&2; return 2 ;;
  esac
}

jobs=2
if [ "${1:-}" = "-j" ]; then
  jobs=$2
  shift 2
fi
tools=("$@")
# Longest first, so the short ones fill in beside them.
[ ${#tools[@]} -gt 0 ] || tools=(pulumi-kubernetes pulumi kube cluster-autoscaler kwok etcd lint)
mkdir -p "$cache/logs"
pids=() names=()
failed=0
# wait_one: wait for whichever running build ends first (`wait -n -p`, bash >= 5.1) and note
# its failure, so a short build's slot is refilled at once instead of idling behind the
# longest (waiting on the oldest kept kube's build queued behind pulumi-kubernetes').
wait_one() {
  local done_pid=0 rc=0 i
  wait -n -p done_pid "${pids[@]}" || rc=$?
  for i in "${!pids[@]}"; do
    [ "${pids[$i]}" = "$done_pid" ] || continue
    if [ "$rc" -ne 0 ]; then
      log "${names[$i]}: FAILED; its output:"
      cat "$cache/logs/${names[$i]}.log" >&2
      failed=1
    else
      grep -h '^\[tools\]' "$cache/logs/${names[$i]}.log" >&2 || true
    fi
    unset 'pids[i]' 'names[i]'
    pids=("${pids[@]}") names=("${names[@]}")
    return 0
  done
  log "wait -n returned pid $done_pid (rc $rc), not one of ours: ${pids[*]}"
  failed=1
  pids=() names=()
}
for t in "${tools[@]}"; do
  [ ${#pids[@]} -lt "$jobs" ] || wait_one
  build_one "$t" >"$cache/logs/$t.log" 2>&1 &
  pids+=($!) names+=("$t")
done
while [ ${#pids[@]} -gt 0 ]; do wait_one; done
exit $failed
