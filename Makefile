# llmserve: `make test` runs every test layer; `make test-unit` is the fast inner loop.
SHELL := /bin/bash
# Every recipe line stops at the first failing command, also inside a pipe or a $(...)
# (issue 21: set-up must fail loudly). Without -e, `out=$(goimports -l ...)` with a goimports
# that failed left out empty and lint passed; `.SHELLFLAGS` is GNU make's (manual, "Choosing
# the Shell").
.SHELLFLAGS := -eu -o pipefail -c
export GONOSUMDB ?= github.com/pulumi

LLMSERVE_TOOLS ?= $(HOME)/.cache/llmserve/tools
export LLMSERVE_TOOLS
# Where each pinned tool lands (tools/build.sh); the integration tests read these.
export LLMSERVE_KUBE_BIN       ?= $(LLMSERVE_TOOLS)/kube-v1.33.13/bin
export LLMSERVE_ETCD_BIN       ?= $(LLMSERVE_TOOLS)/etcd-v3.5.21/bin
export LLMSERVE_PULUMI_BIN     ?= $(LLMSERVE_TOOLS)/pulumi-v3.259.0/bin
export LLMSERVE_PULUMI_K8S_BIN ?= $(LLMSERVE_TOOLS)/pulumi-kubernetes-v4.25.0/bin
export LLMSERVE_KWOK_BIN       ?= $(LLMSERVE_TOOLS)/kwok-v0.8.0/bin
export LLMSERVE_CA_BIN         ?= $(LLMSERVE_TOOLS)/cluster-autoscaler-v1.33.1-1959f5f/bin
export LLMSERVE_CRDS           ?= $(LLMSERVE_TOOLS)/crds
LLMSERVE_LINT_BIN              ?= $(LLMSERVE_TOOLS)/lint-staticcheck-v0.8.2/bin

GO_TEST_FLAGS ?=

.PHONY: all build vet lint tools tools-lint crds test test-unit test-integration bench golden demo clean-tools

all: build vet test-unit

build:
	go build ./...

vet:
	go vet ./...
	go vet -tags integration ./...

## tools: build the pinned kube-apiserver, etcd, Pulumi CLI, Kubernetes provider, kwok and
## cluster-autoscaler and linters (cached; two at a time)
tools:
	tools/build.sh

tools-lint:
	tools/build.sh lint

## lint: formatting (goimports, which includes gofmt), go vet, staticcheck (staticcheck.conf)
## and a tidy go.mod; first in `make test`, so style problems show in the first minutes
lint: tools-lint
	@out=$$($(LLMSERVE_LINT_BIN)/goimports -l $$(git ls-files '*.go')) || \
		{ echo "goimports failed (its error above; \`make tools-lint\` builds it into $(LLMSERVE_LINT_BIN))"; exit 1; }; \
	if [ -n "$$out" ]; then echo "goimports: not formatted (run $(LLMSERVE_LINT_BIN)/goimports -w on them):"; echo "$$out"; exit 1; fi
	go mod tidy -diff
	go vet ./...
	go vet -tags integration ./...
	$(LLMSERVE_LINT_BIN)/staticcheck ./...
	$(LLMSERVE_LINT_BIN)/staticcheck -tags integration ./...

## crds: the CRDs the apiserver tests install (from ../shared/crds in CI, upstream otherwise)
crds:
	tools/crds.sh
	tools/crds-gateway.sh

## test-unit: Pulumi mocks only; seconds
test-unit:
	go test $(GO_TEST_FLAGS) ./...

## test-integration: real kube-apiserver (envtest) and the real Pulumi engine
test-integration: tools crds
	go test $(GO_TEST_FLAGS) -tags integration -count=1 -timeout 45m ./tests/...

## test: every test layer, fastest first: lint and the mock tests run before any tool is
## built, so a fresh machine reports them within minutes; the fuzz targets last (their first
## build instruments every dependency)
test: lint test-unit test-integration fuzz-short

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
	go test -tags integration -run '^$$' -bench . -benchmem -benchtime 3x -timeout 30m ./tests/... \
		| go run ./tools/benchtable

clean-tools:
	rm -rf $(LLMSERVE_TOOLS)

## demo: the local autoscaling lab: builds missing tools, runs the plateau scenario at 10x
## speed on a kwok cluster with fake TPU v6e nodes added and removed by the real
## cluster-autoscaler and the real HPA, writes timeline.csv/.png under $LLMSERVE_LAB_DIR
## (default ~/.cache/llmserve/lab), and stops everything when it ends (about 5 minutes)
demo: tools crds
	go run ./cmd/llmserve-lab -scenario plateau -speed 10

## bench-lab: the sets of lab benchmarks below, one after the other. Not part of `make test`.
.PHONY: bench-lab bench-lab-small bench-lab-service bench-lab-scale
bench-lab: bench-lab-small bench-lab-service bench-lab-scale

## bench-lab-small: the four HPA policies on the 4-slice plateau, diurnal, trace and bursts
## scenarios at 10x speed, four runs at a time, each in its own local cluster; prints one table
## per scenario (with the oracle and the static pool) and writes compare.md and the plots under
## $LLMSERVE_LAB_DIR (about 25 minutes)
bench-lab-small: tools crds
	go run ./cmd/llmserve-lab -compare -scenario plateau,diurnal,trace,bursts -speed 10 -parallel 4

## bench-lab-service: the 4-slice set again with requests spread by a plain Service (random per
## connection, 100 keep-alive connections), the routing of stacks that cannot run the gateway
## (JetStream, existing clusters, exposure cluster), under $LLMSERVE_LAB_DIR/service
bench-lab-service: tools crds
	LLMSERVE_LAB_DIR=$${LLMSERVE_LAB_DIR:-$$HOME/.cache/llmserve/lab}/service \
	go run ./cmd/llmserve-lab -compare -scenario plateau,diurnal,trace,bursts -routing service -speed 10 -parallel 4

## bench-lab-scale: the same policies at the scale users run: maxReplicas 16, the day (4 h 15 min
## of world time with a long night) and the trace and bursts scenarios scaled to a peak of 12
## replicas' worth, at 10x speed, four at a time, under $LLMSERVE_LAB_DIR/scale (80 minutes
## here beside other labs: the day alone is 25.5 minutes of wall time)
bench-lab-scale: tools crds
	LLMSERVE_LAB_DIR=$${LLMSERVE_LAB_DIR:-$$HOME/.cache/llmserve/lab}/scale \
	go run ./cmd/llmserve-lab -compare -scenario day,trace,bursts -peak 12 -max-replicas 16 -speed 10 -parallel 4

## demo-down: stop a lab left running (a killed `make demo`): its process and its cluster
.PHONY: demo-down
demo-down:
	go run ./cmd/llmserve-lab -down
