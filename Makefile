# llmserve: `make test` runs every test layer; `make test-unit` is the fast inner loop.
SHELL := /bin/bash
export GONOSUMDB ?= github.com/pulumi

LLMSERVE_TOOLS ?= $(HOME)/.cache/llmserve/tools
export LLMSERVE_TOOLS
# Where each pinned tool lands (tools/build.sh); the integration tests read these.
export LLMSERVE_KUBE_BIN       ?= $(LLMSERVE_TOOLS)/kube-v1.33.13/bin
export LLMSERVE_ETCD_BIN       ?= $(LLMSERVE_TOOLS)/etcd-v3.5.21/bin
export LLMSERVE_PULUMI_BIN     ?= $(LLMSERVE_TOOLS)/pulumi-v3.259.0/bin
export LLMSERVE_PULUMI_K8S_BIN ?= $(LLMSERVE_TOOLS)/pulumi-kubernetes-v4.25.0/bin
export LLMSERVE_KWOK_BIN       ?= $(LLMSERVE_TOOLS)/kwok-v0.8.0/bin
export LLMSERVE_CRDS           ?= $(LLMSERVE_TOOLS)/crds

GO_TEST_FLAGS ?=

.PHONY: all build vet tools crds test test-unit test-integration bench golden demo clean-tools

all: build vet test-unit

build:
	go build ./...

vet:
	go vet ./...
	go vet -tags integration ./...

## tools: build the pinned kube-apiserver, etcd, Pulumi CLI and Kubernetes provider (cached)
tools:
	tools/build.sh

## crds: the CRDs the apiserver tests install (from ../shared/crds in CI, upstream otherwise)
crds:
	tools/crds.sh

## test-unit: Pulumi mocks only; seconds
test-unit:
	go test $(GO_TEST_FLAGS) ./...

## test-integration: real kube-apiserver (envtest) and the real Pulumi engine
test-integration: tools crds
	go test $(GO_TEST_FLAGS) -tags integration -count=1 -timeout 30m ./tests/...

## test: every test layer
test: build vet test-unit fuzz-short test-integration

## fuzz-short: each config fuzz target for FUZZTIME (default 10s): env files and --set
FUZZTIME ?= 10s
.PHONY: fuzz-short fuzz
fuzz-short:
	go test ./deploy -run '^$$' -fuzz '^FuzzEnvFile$$' -fuzztime $(FUZZTIME)
	go test ./cmd/llmserve -run '^$$' -fuzz '^FuzzSet$$' -fuzztime $(FUZZTIME)

## fuzz: the same targets, longer (FUZZTIME=5m each)
fuzz:
	$(MAKE) fuzz-short FUZZTIME=5m

## golden: refresh the golden snapshots (review the diff like code)
golden:
	go test ./tests/ -run Golden -update

## bench: Go benchmarks (mock evaluation; with tools, the real engine and kubectl on one
## apiserver), then the table and the engine/kubectl ratios (tools/benchtable)
bench: tools crds
	set -o pipefail; go test -tags integration -run '^$$' -bench . -benchmem -benchtime 3x -timeout 30m ./tests/... \
		| go run ./tools/benchtable

clean-tools:
	rm -rf $(LLMSERVE_TOOLS)

## demo: the local autoscaling lab: builds missing tools, runs the short scenario on a kwok
## cluster with fake TPU v6e nodes and the real HPA, writes timeline.csv/.png under
## $LLMSERVE_LAB_DIR (default ~/.cache/llmserve/lab), and stops everything when it ends
demo: tools crds
	go run ./cmd/llmserve-lab -scenario short

## demo-down: stop a lab left running (a killed `make demo`): its process and its cluster
.PHONY: demo-down
demo-down:
	go run ./cmd/llmserve-lab -down
