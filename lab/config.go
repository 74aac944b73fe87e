package lab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
)

// Config is one lab: where its state lives, the tools it runs, the stack it deploys and
// the server, cold-start and cluster models it simulates. Durations are the simulated
// world's; Speed compresses them all onto the wall clock.
type Config struct {
	// WorkDir holds everything the lab writes: KWOK_WORKDIR (kwok/), the Pulumi state and
	// work dirs, the adapter's certificate, the autoscaler's log, and the run's CSV and PNG.
	WorkDir string
	Target  deploy.Target
	// Overrides are llmserve:overrides for the stack (nil: the profile as it is), and
	// ScrapeInterval llmserve:metrics.scrapeInterval ("": the default).
	Overrides      map[string]any
	ScrapeInterval string
	// KubeBin, EtcdBin, KwokBin, CABin, PulumiBin, PulumiK8sBin and CRDs are the directories
	// the Makefile exports as LLMSERVE_*_BIN and LLMSERVE_CRDS.
	KubeBin, EtcdBin, KwokBin, CABin, PulumiBin, PulumiK8sBin, CRDs string
	// Nodes > 0 is a fixed pool of that many nodes and no cluster-autoscaler (a TPU
	// stockout when below maxReplicas). 0 runs the cluster-autoscaler on the stack's pool,
	// from llmserve:pool.minNodes up to maxNodes.
	Nodes int
	// NodeProvisioning is how long a node the cluster-autoscaler adds takes to be Ready.
	NodeProvisioning time.Duration
	CA               CA
	// ColdStart of a replica; a zero value takes DefaultColdStart of the profile.
	ColdStart ColdStart
	// FreshStack starts the scenario right after the deployment: the first replicas compile
	// cold and no XLA cache is published yet. Without it the stack has been serving for a
	// while: minReplicas replicas are ready and the cache is published.
	FreshStack bool
	// StartScenario, when set, is the scenario the run settles at (Lab.Settle): the stack
	// has been serving its starting load, so it starts with the replicas that load needs
	// (StartReplicas), not minReplicas. Nil starts at minReplicas.
	StartScenario *Scenario
	// TokensPerSecond, PrefillTokensPerSecond and KVBytesPerToken complete the server model
	// (ServerModel); its batch size is the profile's maxNumSeqs. Zero takes the defaults.
	TokensPerSecond, PrefillTokensPerSecond, KVBytesPerToken float64
	Lengths                                                  Lengths
	// ClientTimeout is how long a client waits for a slot before it gives up.
	ClientTimeout time.Duration
	// Routing is how requests reach the replicas (lab/routing.go); the zero value is
	// DefaultRouting, GKE Inference Gateway, which the vLLM stack deploys on GKE.
	Routing Routing
	// Ingestion is the metrics pipeline; a zero ScrapeInterval takes the stack's
	// llmserve:metrics.scrapeInterval, zero delays Managed Prometheus's 3-7 s.
	Ingestion Ingestion
	// Speed runs the world this many times faster than the wall clock: the HPA's sync period
	// and behavior, the cluster-autoscaler's timing, node provisioning and cold starts are
	// all divided by it. 1 is real time; API and scheduling latencies are not divided, so a
	// high speed makes them weigh more.
	Speed float64
	Seed  uint64
	Log   io.Writer // kwokctl and Pulumi progress; nil drops it
}

// Defaults for a lab run.
const (
	// DefaultTokensPerSecond: one v6e replica's decode throughput at a full batch (an
	// assumption of the issue-8 lab, kept; a flag).
	DefaultTokensPerSecond = 2000.0
	// DefaultMFU is the share of the slice's peak bf16 FLOPs a prefill reaches: 40%, the
	// order MaxText reports for v6e (an assumption; -prefill-tokens-per-second overrides the
	// result). Prefill of one token costs 2 x parameters FLOPs.
	DefaultMFU = 0.4
	// TPUv6ePeakFLOPs is one v6e chip's bf16 peak: 918 TFLOPs (cloud.google.com/tpu/docs/v6e).
	TPUv6ePeakFLOPs = 918e12
	// DefaultKVBytesPerToken is Llama 3.1 8B's KV cache per token: 2 (K and V) x 32 layers x
	// 8 KV heads x 128 head dim x 2 bytes (bf16) = 128 KiB (its config.json). Other profiles
	// use it too unless -kv-bytes-per-token is set: a stand-in, not their architecture.
	DefaultKVBytesPerToken = 131072.0
	// DefaultMemoryUtilization is vLLM's --gpu-memory-utilization default, 0.9: the share of
	// HBM vLLM takes for weights and KV cache.
	DefaultMemoryUtilization = 0.9
	// DefaultClientTimeout: the OpenAI Python client's default request timeout, 10 minutes
	// (openai-python README, "Timeouts"). A request that waits longer for a slot is dropped.
	DefaultClientTimeout = 10 * time.Minute
)

// ConfigFromEnv is the lab of `make demo`: the work dir from $LLMSERVE_LAB_DIR (default
// ~/.cache/llmserve/lab), the tools from the variables the Makefile exports, the dev
// environment with the default model.
func ConfigFromEnv() (Config, error) {
	dir := os.Getenv("LLMSERVE_LAB_DIR")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return Config{}, err
		}
		dir = filepath.Join(home, ".cache", "llmserve", "lab")
	}
	c := Config{WorkDir: dir, Target: deploy.Target{Env: "dev", Model: stacks.DefaultModel},
		TokensPerSecond: DefaultTokensPerSecond, NodeProvisioning: DefaultNodeProvisioning, CA: DefaultCA,
		Lengths: DefaultLengths, ClientTimeout: DefaultClientTimeout, Speed: 1}
	var missing []error
	for _, v := range []struct {
		env string
		dst *string
	}{{"LLMSERVE_KUBE_BIN", &c.KubeBin}, {"LLMSERVE_ETCD_BIN", &c.EtcdBin}, {"LLMSERVE_KWOK_BIN", &c.KwokBin},
		{"LLMSERVE_CA_BIN", &c.CABin},
		{"LLMSERVE_PULUMI_BIN", &c.PulumiBin}, {"LLMSERVE_PULUMI_K8S_BIN", &c.PulumiK8sBin}, {"LLMSERVE_CRDS", &c.CRDs}} {
		if *v.dst = os.Getenv(v.env); *v.dst == "" {
			missing = append(missing, fmt.Errorf("%s is not set (run through `make demo`, which exports it)", v.env))
		}
	}
	return c, errors.Join(missing...)
}

// ModelFor is the server model of a stack's profile: its batch (maxNumSeqs, or JetStream's
// per-device batch times chips), the config's decode throughput, a prefill throughput from
// the slice's peak FLOPs at DefaultMFU, and the KV cache left in HBM after the weights.
func ModelFor(cfg stacks.Config, c Config) ServerModel {
	p := cfg.Profile
	chips := 1
	if s, ok := catalog.LookupTPUSlice(p.Accelerator.Topology); ok {
		chips = s.Chips
	}
	maxSeqs := p.Server.MaxNumSeqs
	if p.Engine == catalog.EngineJetStream {
		maxSeqs = p.JetStream.PerDeviceBatchSize * chips
	}
	m := ServerModel{MaxNumSeqs: maxSeqs, TokensPerSecond: c.TokensPerSecond, PrefillTokensPerSecond: c.PrefillTokensPerSecond,
		InputTokens: c.Lengths.InputMean, OutputTokens: c.Lengths.OutputMean}
	if m.TokensPerSecond == 0 {
		m.TokensPerSecond = DefaultTokensPerSecond
	}
	if m.PrefillTokensPerSecond == 0 && p.ParamsBillions > 0 {
		m.PrefillTokensPerSecond = TPUv6ePeakFLOPs * float64(chips) * DefaultMFU / (2 * p.ParamsBillions * 1e9)
	}
	if m.InputTokens == 0 && m.OutputTokens == 0 {
		m.InputTokens, m.OutputTokens = DefaultLengths.InputMean, DefaultLengths.OutputMean
	}
	kvb := c.KVBytesPerToken
	if kvb == 0 {
		kvb = DefaultKVBytesPerToken
	}
	size := stacks.Size(p)
	if free := size.HaveGB*DefaultMemoryUtilization - size.WeightsGB; free > 0 {
		m.KVCacheTokens = free * 1e9 / kvb
	}
	return m
}
