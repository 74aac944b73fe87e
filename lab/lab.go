package lab

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
	"github.com/prometheus/common/model"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
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
	// TokensPerSecond, PrefillTokensPerSecond and KVBytesPerToken complete the server model
	// (ServerModel); its batch size is the profile's maxNumSeqs. Zero takes the defaults.
	TokensPerSecond, PrefillTokensPerSecond, KVBytesPerToken float64
	Lengths                                                  Lengths
	// ClientTimeout is how long a client waits for a slot before it gives up.
	ClientTimeout time.Duration
	// Routing is how requests reach the replicas (lab/routing.go); the zero value is
	// DefaultRouting, the ClusterIP Service the stack deploys.
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

// Lab is a running lab: cluster, nodes, cluster-autoscaler, adapter, sim and the deployed
// stack.
type Lab struct {
	Config
	Stack   *stacks.Config // the deployed stack's resolved config
	Cluster *Cluster
	Adapter *Adapter
	Sim     *Sim
	Model   ServerModel
	Kube    kubernetes.Interface
	// Namespace and Name locate the Deployment and HPA; HPAMetrics are the HPA's metric
	// names and Targets their targets, in the profile's order.
	Namespace, Name string
	HPAMetrics      []string
	Targets         []float64
	// MinNodes and MaxNodes bound the pool; ChipsPerNode is its slice's chips.
	MinNodes, MaxNodes, ChipsPerNode int
	XLA                              *XLACache

	ca          *caProcess
	stopAdapter context.CancelFunc
	wallStart   time.Time
	origin      time.Duration // world time the last Run began
	pods        map[string]*PodLife
}

// PodLife is what the lab saw of one replica, in world time: when it was scheduled on a
// ready node and began its cold start, how long that takes, whether its XLA cache was warm,
// and when it became Ready (-1 before).
type PodLife struct {
	Started, ColdStart, ReadyAt time.Duration
	Warm, Patched               bool
}

// Start brings the lab up: resolves the stack's config, starts the cluster, installs the
// CRDs, creates the pool's first nodes and starts the cluster-autoscaler (or creates a fixed
// pool), starts and registers the adapter, and deploys the stack through deploy.Open with
// its HPA's timing divided by the speed. On error everything started is stopped.
func Start(ctx context.Context, c Config) (_ *Lab, err error) {
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.Speed <= 0 {
		c.Speed = 1
	}
	if c.TokensPerSecond == 0 {
		c.TokensPerSecond = DefaultTokensPerSecond
	}
	if c.Lengths == (Lengths{}) {
		c.Lengths = DefaultLengths
	}
	if c.CA == (CA{}) {
		c.CA = DefaultCA
	}
	quietKlog(c.Log)
	l := &Lab{Config: c, pods: map[string]*PodLife{}}
	defer func() {
		if err != nil {
			_ = l.Close()
		}
	}()
	// The stack's state describes the previous lab cluster, which is gone: start empty.
	for _, d := range []string{"state", "work"} {
		if err := os.RemoveAll(filepath.Join(c.WorkDir, d)); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
	}
	if l.Stack, err = ResolveConfig(c.Target, StackSettings(nil, c.Overrides, c.ScrapeInterval)); err != nil {
		return nil, err
	}
	p := l.Stack.Profile
	if p.Accelerator.Type != catalog.AcceleratorTPUv6e {
		return nil, fmt.Errorf("lab: model %s runs on %s; the lab simulates TPU v6e pools only", c.Target.Model, p.Accelerator.Type)
	}
	slice, ok := catalog.LookupTPUSlice(p.Accelerator.Topology)
	if !ok {
		return nil, fmt.Errorf("lab: topology %q unknown", p.Accelerator.Topology)
	}
	l.ChipsPerNode = slice.Chips
	l.Namespace, l.Name = l.Stack.Serving.Namespace, l.Stack.ObjectName()
	simMetrics := map[string]string{}
	for _, m := range p.Autoscaling.Metrics {
		km, ok := catalog.LookupMetric(m.Metric)
		if !ok {
			return nil, fmt.Errorf("lab: metric %q unknown", m.Metric)
		}
		name := catalog.HPAMetricFor(l.Stack.Metrics.Adapter, km).Name
		l.HPAMetrics, l.Targets = append(l.HPAMetrics, name), append(l.Targets, m.Target)
		simMetrics[name] = m.Metric
	}
	l.Model = ModelFor(*l.Stack, c)
	size := stacks.Size(p)
	if l.ColdStart == (ColdStart{}) {
		l.ColdStart = DefaultColdStart(size.WeightsGB)
	} else if l.ColdStart.WeightsGB == 0 {
		l.ColdStart.WeightsGB = size.WeightsGB
	}
	publish := time.Duration(0)
	if d := p.Storage.XLACachePublishDelay; d != nil {
		publish = time.Duration(*d) * time.Second
	}
	l.XLA = &XLACache{Mode: p.Storage.XLACache, PublishDelay: publish}
	if !c.FreshStack {
		l.XLA.Served(-publish) // published before the scenario starts
	}
	ing := c.Ingestion
	if ing.ScrapeInterval == 0 {
		// A Prometheus duration, as validation reads it (1d is one; time.ParseDuration says no).
		d, err := model.ParseDuration(l.Stack.Metrics.ScrapeInterval)
		if err != nil {
			return nil, fmt.Errorf("lab: scrape interval %q: %w", l.Stack.Metrics.ScrapeInterval, err)
		}
		ing.ScrapeInterval = time.Duration(d)
	}
	if ing.MinDelay == 0 && ing.MaxDelay == 0 {
		ing.MinDelay, ing.MaxDelay = 3*time.Second, 7*time.Second
	}
	if l.Sim, err = NewSim(l.Model, ing, simMetrics, c.ClientTimeout, c.Seed); err != nil {
		return nil, err
	}
	if err := l.Sim.SetRouting(c.Routing); err != nil {
		return nil, err
	}

	l.Cluster, err = StartCluster(ctx, ClusterConfig{WorkDir: filepath.Join(c.WorkDir, "kwok"), KubeBin: c.KubeBin,
		EtcdBin: c.EtcdBin, KwokBin: c.KwokBin, HPASyncPeriod: wall(DefaultHPASyncPeriod, c.Speed),
		NodeProvisioning: wall(c.NodeProvisioning, c.Speed), Log: c.Log})
	if err != nil {
		return nil, err
	}
	rc, err := clientcmd.RESTConfigFromKubeConfig(l.Cluster.KubeconfigData)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	rc.QPS, rc.Burst = 100, 200 // the run loop polls several objects every world second
	if l.Kube, err = kubernetes.NewForConfig(rc); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	// envtest's installer applies every CRD in the directory and waits until each is
	// established, which a bare apply does not.
	// envtest logs through controller-runtime, which dumps a stack when no logger is set.
	ctrllog.SetLogger(logr.Discard())
	if _, err := envtest.InstallCRDs(rc, envtest.CRDInstallOptions{Paths: []string{c.CRDs}, ErrorIfPathMissing: true}); err != nil {
		return nil, fmt.Errorf("lab: CRDs from %s: %w", c.CRDs, err)
	}
	// The adapter and the autoscaler get the kubeconfig with its certificates inlined:
	// client-go caches TLS transports by certificate file path, so a second lab in one
	// process (-compare) would otherwise reuse the first cluster's CA for the same path.
	kubeconfig := filepath.Join(c.WorkDir, "lab-kubeconfig")
	if err := os.WriteFile(kubeconfig, l.Cluster.KubeconfigData, 0o600); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if c.Nodes > 0 {
		l.MinNodes, l.MaxNodes = c.Nodes, c.Nodes
		nodes, err := TPUNodes(p.Accelerator.Topology, c.Nodes)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			n.Annotations[AnnotationPreprovisioned] = "true"
		}
		if err := CreateNodes(ctx, l.Kube, nodes); err != nil {
			return nil, err
		}
	} else {
		l.MinNodes, l.MaxNodes = *l.Stack.Pool.MinNodes, *l.Stack.Pool.MaxNodes
		// The pool has been serving minReplicas replicas: at least that many nodes exist.
		first := max(l.MinNodes, min(p.Autoscaling.MinReplicas, l.MaxNodes))
		template, nodes, err := PoolNodes(p.Accelerator.Topology, l.MinNodes, l.MaxNodes)
		if err != nil {
			return nil, err
		}
		if first > len(nodes) {
			_, nodes, _ = PoolNodes(p.Accelerator.Topology, first, l.MaxNodes)
			template.Annotations[caNGSize] = fmt.Sprint(first)
		}
		if err := CreateNodes(ctx, l.Kube, nodes); err != nil {
			return nil, err
		}
		if l.ca, err = startCA(ctx, l.Kube, c.CABin, kubeconfig, c.WorkDir, template, c.CA, c.Speed); err != nil {
			return nil, err
		}
	}

	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.stopAdapter = cancel
	if l.Adapter, err = StartAdapter(actx, kubeconfig, filepath.Join(c.WorkDir, "adapter-certs"),
		l.HPAMetrics, nil, l.Sim, l.Kube); err != nil {
		return nil, err
	}
	if err := l.Adapter.Register(ctx, dyn); err != nil {
		return nil, err
	}

	overrides, err := ScaledOverrides(c.Overrides, p.Autoscaling.Behavior, c.Speed)
	if err != nil {
		return nil, err
	}
	st, err := openStack(ctx, c.Target, StackSettings(l.Cluster.KubeconfigData, overrides, c.ScrapeInterval), c.WorkDir, c.PulumiBin, c.PulumiK8sBin, c.Log)
	if err != nil {
		return nil, err
	}
	if _, err := st.Up(ctx); err != nil {
		return nil, err
	}
	l.wallStart = time.Now()
	if err := l.waitServing(ctx); err != nil {
		return nil, err
	}
	return l, nil
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

// ScaledOverrides returns the stack overrides with the HPA's behavior (the one the profile
// resolves to, whatever set it) divided by speed: windows and periods in whole seconds, at
// least 1. At speed 1 the overrides are returned as they are.
func ScaledOverrides(overrides map[string]any, b components.BehaviorSpec, speed float64) (map[string]any, error) {
	if speed == 1 {
		return overrides, nil
	}
	sec := func(v int) int { return max(1, int(math.Round(float64(v)/speed))) }
	rules := func(r components.ScalingRules) map[string]any {
		var ps []any
		for _, p := range r.Policies {
			ps = append(ps, map[string]any{"type": p.Type, "value": p.Value, "periodSeconds": sec(p.PeriodSeconds)})
		}
		out := map[string]any{"selectPolicy": r.SelectPolicy, "policies": ps}
		if r.StabilizationWindowSeconds != nil {
			w := *r.StabilizationWindowSeconds
			if w > 0 {
				w = sec(w)
			}
			out["stabilizationWindowSeconds"] = w
		}
		return out
	}
	out := map[string]any{}
	for k, v := range overrides {
		out[k] = v
	}
	as := map[string]any{}
	if a, ok := out["autoscaling"].(map[string]any); ok {
		for k, v := range a {
			as[k] = v
		}
	}
	as["behavior"] = map[string]any{"scaleUp": rules(b.ScaleUp), "scaleDown": rules(b.ScaleDown)}
	out["autoscaling"] = as
	return out, nil
}

// Now is the world time since the stack was deployed.
func (l *Lab) Now() time.Duration {
	return time.Duration(float64(time.Since(l.wallStart)) * l.Speed)
}

// waitServing steps the sim with no load until minReplicas replicas are ready and their
// metric has reached the adapter, so that a scenario starts from a serving stack. Unless
// FreshStack, those replicas skip their cold start: they have been serving for a while.
func (l *Lab) waitServing(ctx context.Context) error {
	want := l.Stack.Profile.Autoscaling.MinReplicas
	budget := time.Minute
	if l.FreshStack {
		budget += wall(l.ColdStart.Duration(false)+l.NodeProvisioning, l.Speed)
	}
	deadline := time.Now().Add(budget)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(l.tick()):
		}
		row, err := l.observe(ctx, nil, Phase{Name: "start"}, 0, !l.FreshStack)
		if err != nil {
			return err
		}
		if _, n := l.Sim.Visible(l.HPAMetrics[0]); row.Ready >= want && n >= want {
			return nil
		}
	}
	return fmt.Errorf("lab: %d replica(s) not serving after %s (kwok logs: %s)", want, budget, l.Cluster.LogsDir())
}

// tick is the wall time between two observations: a world second, at most 10 a second.
func (l *Lab) tick() time.Duration { return max(100*time.Millisecond, wall(time.Second, l.Speed)) }

// Close stops the autoscaler and the adapter and deletes the cluster, with every process
// kwokctl started.
func (l *Lab) Close() error {
	l.ca.stop()
	if l.stopAdapter != nil {
		l.stopAdapter()
	}
	if l.Adapter != nil {
		select {
		case <-l.Adapter.Done():
		case <-time.After(10 * time.Second):
		}
	}
	if l.Cluster != nil {
		return l.Cluster.Stop(context.Background())
	}
	return nil
}

// CALog is the cluster-autoscaler's log file ("" without one).
func (l *Lab) CALog() string {
	if l.ca == nil {
		return ""
	}
	return l.ca.log
}

// Outcomes returns the requests of the last Run, arrival times from its start, and how
// many were still queued.
func (l *Lab) Outcomes() ([]Outcome, int) {
	done, queued := l.Sim.Outcomes()
	var out []Outcome
	for _, o := range done {
		if o.Arrival >= l.origin {
			o.Arrival -= l.origin
			out = append(out, o)
		}
	}
	return out, queued
}

// Pods returns what the lab saw of every replica so far.
func (l *Lab) Pods() map[string]PodLife {
	out := map[string]PodLife{}
	for k, v := range l.pods {
		out[k] = *v
	}
	return out
}

// Run drives the scenario for its whole length, one observation a world second: the
// scenario's requests reach the sim, the lab completes cold starts, and a row is recorded
// per observation; tick (may be nil) sees every row. T in rows counts from the scenario's
// start.
func (l *Lab) Run(ctx context.Context, sc Scenario, tick func(Row)) ([]Row, error) {
	var rows []Row
	err := l.drive(ctx, sc, l.Seed, func(r Row) bool {
		rows = append(rows, r)
		if tick != nil {
			tick(r)
		}
		return false
	})
	return rows, err
}

// drive steps the lab through a scenario's load, one observation a world second, from now:
// the requests its source (seeded with seed) generates reach the sim, cold starts complete,
// and each row goes to each, which ends the drive by returning true. It also ends with the
// scenario or ctx. Outcomes count from the last drive's start.
func (l *Lab) drive(ctx context.Context, sc Scenario, seed uint64, each func(Row) bool) error {
	src := NewSource(sc, l.Model.Capacity(), l.Lengths, seed)
	origin := l.Now()
	l.origin = origin
	step := time.NewTicker(l.tick())
	defer step.Stop()
	need := newNeedMeter(l.Model, time.Minute)
	as := l.Stack.Profile.Autoscaling
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-step.C:
		}
		t := l.Now() - origin
		if t > sc.Duration() {
			return nil
		}
		arr := arrivals(src, need, t, origin)
		row, err := l.observe(ctx, arr, sc.At(t), origin, false)
		if err != nil {
			return err
		}
		row.T = t
		row.Load = sc.Load(t)
		row.Rate = need.rate(t)
		row.Need = max(as.MinReplicas, min(as.MaxReplicas, need.replicas(t)))
		if each(row) {
			return nil
		}
	}
}

// observe reads pods, nodes and the HPA, completes cold starts, steps the sim to now with
// the arrivals and returns the row. prewarmed skips the cold start of the replicas it finds
// (the ones serving before the scenario).
func (l *Lab) observe(ctx context.Context, arrivals []Request, ph Phase, origin time.Duration, prewarmed bool) (Row, error) {
	now := l.Now()
	sel := labels.SelectorFromSet(map[string]string{components.LabelName: l.Name, components.LabelComponent: "model-server"})
	pods, err := l.Kube.CoreV1().Pods(l.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return Row{}, fmt.Errorf("lab: pods: %w", err)
	}
	nodes, err := l.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return Row{}, fmt.Errorf("lab: nodes: %w", err)
	}
	nodesReady := 0
	readyNode := map[string]bool{}
	for i := range nodes.Items {
		if nodeReady(&nodes.Items[i]) {
			nodesReady++
			readyNode[nodes.Items[i].Name] = true
		}
	}
	var ready []string
	pending, loading := 0, 0
	for i := range pods.Items {
		p := &pods.Items[i]
		life := l.pods[p.Name]
		switch {
		case p.DeletionTimestamp != nil:
		case podReady(p):
			ready = append(ready, p.Name)
			if life != nil && life.ReadyAt < 0 {
				life.ReadyAt = now
			}
			l.XLA.Served(now)
		case p.Spec.NodeName == "":
			pending++
		case p.Status.Phase == corev1.PodRunning && !readyNode[p.Spec.NodeName]:
			// Bound to a node not Ready (the pool's template keeps new nodes tainted
			// not-ready, so only a node that went NotReady later): it starts once Ready.
			pending++
		case p.Status.Phase == corev1.PodRunning:
			loading++
			if life == nil {
				warm := l.XLA.Warm(now)
				life = &PodLife{Started: now, ColdStart: l.ColdStart.Duration(warm), Warm: warm, ReadyAt: -1}
				if prewarmed {
					life.ColdStart, life.Warm = 0, true
				}
				l.pods[p.Name] = life
			}
			if !life.Patched && now >= life.Started+life.ColdStart {
				patch := []byte(`{"metadata":{"annotations":{"` + AnnotationLoaded + `":"true"}}}`)
				if _, err := l.Kube.CoreV1().Pods(l.Namespace).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
					return Row{}, fmt.Errorf("lab: pod %s: %w", p.Name, err)
				}
				life.Patched = true
			}
		}
	}
	st := l.Sim.Step(now-l.simNow(), arrivals, ready)
	row := Row{T: now - origin, Phase: ph.Name, Waiting: st.Waiting, Running: st.Running, Ready: st.Ready,
		Pods: len(pods.Items), Unschedulable: pending, Loading: loading, Nodes: len(nodes.Items), NodesReady: nodesReady,
		Target: l.Targets[0]}
	row.Metric, _ = l.Sim.Visible(l.HPAMetrics[0])
	hpa, err := l.Kube.AutoscalingV2().HorizontalPodAutoscalers(l.Namespace).Get(ctx, l.Name, metav1.GetOptions{})
	if err != nil {
		return Row{}, fmt.Errorf("lab: hpa: %w", err)
	}
	row.Desired = int(hpa.Status.DesiredReplicas)
	dep, err := l.Kube.AppsV1().Deployments(l.Namespace).Get(ctx, l.Name, metav1.GetOptions{})
	if err != nil {
		return Row{}, fmt.Errorf("lab: deployment: %w", err)
	}
	if dep.Spec.Replicas != nil {
		row.Spec = int(*dep.Spec.Replicas)
	}
	row.ScalingActive = hpaCondition(hpa, autoscalingv2.ScalingActive)
	if len(hpa.Status.CurrentMetrics) > 0 && hpa.Status.CurrentMetrics[0].Pods != nil {
		if v := hpa.Status.CurrentMetrics[0].Pods.Current.AverageValue; v != nil {
			row.HPAMetric = v.AsApproximateFloat64()
			row.HPAMetricSeen = true
		}
	}
	return row, nil
}

// simNow is the sim's clock.
func (l *Lab) simNow() time.Duration {
	l.Sim.mu.Lock()
	defer l.Sim.mu.Unlock()
	return l.Sim.now
}

// arrivals takes the requests the source has until t (scenario time) into the need meter,
// which counts in scenario time, and returns them for the sim, which counts in the lab's
// world time: shifted by origin, the scenario's start in it.
func arrivals(src *Source, need *needMeter, t, origin time.Duration) []Request {
	arr := src.Until(t)
	need.add(arr, t)
	for i := range arr {
		arr[i].Arrival += origin
	}
	return arr
}

// needMeter estimates the replicas the arriving load needs: the slot-seconds of the requests
// that arrived in the last window, per second, over a replica's slots.
type needMeter struct {
	m      ServerModel
	window time.Duration
	reqs   []Request
}

func newNeedMeter(m ServerModel, window time.Duration) *needMeter {
	return &needMeter{m: m, window: window}
}

func (n *needMeter) add(rs []Request, now time.Duration) {
	n.reqs = append(n.reqs, rs...)
	i := 0
	for i < len(n.reqs) && n.reqs[i].Arrival < now-n.window {
		i++
	}
	n.reqs = n.reqs[i:]
}

func (n *needMeter) span(now time.Duration) float64 {
	return min(n.window, max(now, time.Second)).Seconds()
}

// rate is the requests per second that arrived over the window.
func (n *needMeter) rate(now time.Duration) float64 { return float64(len(n.reqs)) / n.span(now) }

// replicas is the replicas the window's work needs.
func (n *needMeter) replicas(now time.Duration) int {
	work := 0.0
	for _, r := range n.reqs {
		work += n.m.SlotTime(float64(r.Input), float64(r.Output)).Seconds()
	}
	return int(math.Ceil(work/n.span(now)/float64(n.m.MaxNumSeqs) - 1e-9))
}

// quietKlog sends the adapter's apiserver logs (klog) to w instead of stderr.
func quietKlog(w io.Writer) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(w)
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hpaCondition(h *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) string {
	for _, c := range h.Status.Conditions {
		if c.Type == t {
			return string(c.Status) + "/" + c.Reason
		}
	}
	return ""
}
