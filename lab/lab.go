package lab

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

// Config is one lab: where its state lives, the tools it runs, the stack it deploys and
// the server model it simulates.
type Config struct {
	// WorkDir holds everything the lab writes: KWOK_WORKDIR (kwok/), the Pulumi state and
	// work dirs, the adapter's certificate, and the run's timeline.csv and timeline.png.
	WorkDir string
	Target  deploy.Target
	// Overrides are llmserve:overrides for the stack (nil: the profile as it is), and
	// ScrapeInterval llmserve:metrics.scrapeInterval ("": the default).
	Overrides      map[string]any
	ScrapeInterval string
	// KubeBin, EtcdBin, KwokBin, PulumiBin, PulumiK8sBin and CRDs are the directories the
	// Makefile exports as LLMSERVE_*_BIN and LLMSERVE_CRDS.
	KubeBin, EtcdBin, KwokBin, PulumiBin, PulumiK8sBin, CRDs string
	// Nodes is the number of fake TPU nodes; 0 mirrors the pool (llmserve:pool.maxNodes).
	// Fewer than the pool stands for a TPU stockout: the pods beyond them stay Pending.
	Nodes int
	// ModelLoadDelay is how long a scheduled replica takes to become ready.
	ModelLoadDelay time.Duration
	// TokensPerSecond and OutputTokens complete the server model (ServerModel); its batch
	// size is the profile's maxNumSeqs.
	TokensPerSecond, OutputTokens float64
	// Ingestion is the metrics pipeline; a zero ScrapeInterval takes the stack's
	// llmserve:metrics.scrapeInterval, zero delays Managed Prometheus's 3-7 s.
	Ingestion Ingestion
	Seed      uint64
	Log       io.Writer // kwokctl and Pulumi progress; nil drops it
}

// Defaults for a lab run.
const (
	DefaultModelLoadDelay  = 20 * time.Second
	DefaultTokensPerSecond = 2000.0 // one replica's decode throughput at a full batch
	DefaultOutputTokens    = 200.0  // mean generated tokens per request
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
		ModelLoadDelay: DefaultModelLoadDelay, TokensPerSecond: DefaultTokensPerSecond, OutputTokens: DefaultOutputTokens}
	var missing []error
	for _, v := range []struct {
		env string
		dst *string
	}{{"LLMSERVE_KUBE_BIN", &c.KubeBin}, {"LLMSERVE_ETCD_BIN", &c.EtcdBin}, {"LLMSERVE_KWOK_BIN", &c.KwokBin},
		{"LLMSERVE_PULUMI_BIN", &c.PulumiBin}, {"LLMSERVE_PULUMI_K8S_BIN", &c.PulumiK8sBin}, {"LLMSERVE_CRDS", &c.CRDs}} {
		if *v.dst = os.Getenv(v.env); *v.dst == "" {
			missing = append(missing, fmt.Errorf("%s is not set (run through `make demo`, which exports it)", v.env))
		}
	}
	return c, errors.Join(missing...)
}

// Lab is a running lab: cluster, fake nodes, adapter, sim and the deployed stack.
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
	Nodes           int

	stopAdapter context.CancelFunc
}

// Start brings the lab up: resolves the stack's config, starts the cluster with the
// model-load delay, installs the CRDs, creates the fake TPU nodes, starts and registers the
// adapter, and deploys the stack through deploy.Open. On error everything started is stopped.
func Start(ctx context.Context, c Config) (_ *Lab, err error) {
	if c.Log == nil {
		c.Log = io.Discard
	}
	quietKlog(c.Log)
	l := &Lab{Config: c}
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
	maxSeqs := p.Server.MaxNumSeqs
	if p.Engine == catalog.EngineJetStream {
		chips, _ := catalog.LookupTPUSlice(p.Accelerator.Topology)
		maxSeqs = p.JetStream.PerDeviceBatchSize * chips.Chips
	}
	l.Model = ServerModel{MaxNumSeqs: maxSeqs, TokensPerSecond: c.TokensPerSecond, OutputTokens: c.OutputTokens}
	ing := c.Ingestion
	if ing.ScrapeInterval == 0 {
		if ing.ScrapeInterval, err = time.ParseDuration(l.Stack.Metrics.ScrapeInterval); err != nil {
			return nil, fmt.Errorf("lab: scrape interval %q: %w", l.Stack.Metrics.ScrapeInterval, err)
		}
	}
	if ing.MinDelay == 0 && ing.MaxDelay == 0 {
		ing.MinDelay, ing.MaxDelay = 3*time.Second, 7*time.Second
	}
	if l.Sim, err = NewSim(l.Model, ing, simMetrics, c.Seed); err != nil {
		return nil, err
	}

	l.Cluster, err = StartCluster(ctx, ClusterConfig{WorkDir: filepath.Join(c.WorkDir, "kwok"), KubeBin: c.KubeBin,
		EtcdBin: c.EtcdBin, KwokBin: c.KwokBin, ModelLoadDelay: c.ModelLoadDelay, Log: c.Log})
	if err != nil {
		return nil, err
	}
	rc, err := clientcmd.RESTConfigFromKubeConfig(l.Cluster.KubeconfigData)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if l.Kube, err = kubernetes.NewForConfig(rc); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := l.kubectl(ctx, "apply", "-f", c.CRDs); err != nil {
		return nil, err
	}
	// A CRD just created may have no conditions yet, which kubectl wait reports as an error:
	// retry, for at most 30 s.
	for i := 0; ; i++ {
		err := l.kubectl(ctx, "wait", "--for", "condition=established", "--timeout", "10s", "crd", "--all")
		if err == nil {
			break
		}
		if i == 30 {
			return nil, err
		}
		time.Sleep(time.Second)
	}
	l.Nodes = c.Nodes
	if l.Nodes == 0 {
		l.Nodes = *l.Stack.Pool.MaxNodes
	}
	nodes, err := TPUNodes(p.Accelerator.Topology, l.Nodes)
	if err != nil {
		return nil, err
	}
	if err := CreateNodes(ctx, l.Kube, nodes); err != nil {
		return nil, err
	}

	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.stopAdapter = cancel
	// The adapter gets the kubeconfig with its certificates inlined: client-go caches TLS
	// transports by certificate file path, so a second lab in one process (-compare) would
	// otherwise reuse the first cluster's CA for the same pki/ca.crt path.
	adapterKubeconfig := filepath.Join(c.WorkDir, "adapter-kubeconfig")
	if err := os.WriteFile(adapterKubeconfig, l.Cluster.KubeconfigData, 0o600); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if l.Adapter, err = StartAdapter(actx, adapterKubeconfig, filepath.Join(c.WorkDir, "adapter-certs"),
		l.HPAMetrics, nil, l.Sim, l.Kube); err != nil {
		return nil, err
	}
	if err := l.Adapter.Register(ctx, dyn); err != nil {
		return nil, err
	}

	st, err := openStack(ctx, c.Target, StackSettings(l.Cluster.KubeconfigData, c.Overrides, c.ScrapeInterval), c.WorkDir, c.PulumiBin, c.PulumiK8sBin, c.Log)
	if err != nil {
		return nil, err
	}
	if _, err := st.Up(ctx); err != nil {
		return nil, err
	}
	if err := l.waitServing(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// waitServing steps the sim with no load until minReplicas replicas are ready and their
// metric has reached the adapter, so that a scenario starts from a serving stack. It waits
// at most the model-load delay plus a minute.
func (l *Lab) waitServing(ctx context.Context) error {
	want := l.Stack.Profile.Autoscaling.MinReplicas
	deadline := time.Now().Add(l.ModelLoadDelay + time.Minute)
	last := time.Now()
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		row, err := l.observe(ctx, 0, time.Since(last), Phase{Name: "start"})
		last = time.Now()
		if err != nil {
			return err
		}
		if _, n := l.Sim.Visible(l.HPAMetrics[0]); row.Ready >= want && n >= want {
			return nil
		}
	}
	return fmt.Errorf("lab: %d replica(s) not serving after %s (kwok logs: %s)", want, l.ModelLoadDelay+time.Minute, l.Cluster.LogsDir())
}

// Close stops the adapter and deletes the cluster, with every process kwokctl started.
func (l *Lab) Close() error {
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

func (l *Lab) kubectl(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(l.KubeBin, "kubectl"), append([]string{"--kubeconfig", l.Cluster.Kubeconfig}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lab: kubectl %s: %w\n%s", args[0], err, out)
	}
	return nil
}

// Run drives the scenario once a second for its whole length, stepping the sim with the
// ready replicas and recording a row per step; tick (may be nil) sees every row.
func (l *Lab) Run(ctx context.Context, sc Scenario, tick func(Row)) ([]Row, error) {
	start := time.Now()
	last := start
	var rows []Row
	step := time.NewTicker(time.Second)
	defer step.Stop()
	limit := int(sc.Duration()/time.Second) + 1
	for i := 0; i < limit; i++ {
		select {
		case <-ctx.Done():
			return rows, ctx.Err()
		case <-step.C:
		}
		now := time.Now()
		t := now.Sub(start)
		ph := sc.At(t)
		row, err := l.observe(ctx, t, now.Sub(last), ph)
		last = now
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
		if tick != nil {
			tick(row)
		}
	}
	return rows, nil
}

// observe reads pods and the HPA, steps the sim and returns the row.
func (l *Lab) observe(ctx context.Context, t, dt time.Duration, ph Phase) (Row, error) {
	rate := ph.Load * l.Model.Capacity()
	sel := labels.SelectorFromSet(map[string]string{components.LabelName: l.Name, components.LabelComponent: "model-server"})
	pods, err := l.Kube.CoreV1().Pods(l.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return Row{}, fmt.Errorf("lab: pods: %w", err)
	}
	var ready []string
	pending := 0
	for _, p := range pods.Items {
		switch {
		case p.DeletionTimestamp != nil:
		case podReady(&p):
			ready = append(ready, p.Name)
		case p.Spec.NodeName == "":
			pending++
		}
	}
	st := l.Sim.Step(dt, rate, ready)
	row := Row{T: t, Phase: ph.Name, Rate: rate, Waiting: st.Waiting, Running: st.Running, Ready: st.Ready,
		Pods: len(pods.Items), Unschedulable: pending, Target: l.Targets[0]}
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

// quietKlog sends the adapter's apiserver logs (klog) to w instead of stderr.
func quietKlog(w io.Writer) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(w)
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
