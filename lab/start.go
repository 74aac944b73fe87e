package lab

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/stacks"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

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
	arrived     []Request     // the last drive's requests, arrivals from its start
	pods        map[string]*PodLife
	seen        map[string]time.Duration // world time the lab first saw each replica
	images      ImageCache
	// startReplicas is how many replicas the stack starts with (StartReplicas of
	// StartScenario, else minReplicas); floorRaised says the HPA's minReplicas is raised to
	// it, until StartFloorHold into Settle (or Run, without Settle).
	startReplicas int
	floorRaised   bool
}

// PodLife is what the lab saw of one replica, in world time: when it first saw it (Pending
// or not: its creation, within an observation), when it was scheduled on a ready node and
// began its cold start, how long that takes, whether its XLA cache was warm, and when it
// became Ready (-1 before).
type PodLife struct {
	Created, Started, ColdStart, ReadyAt time.Duration
	Warm, Patched                        bool
	// Node is where it runs; ImageCached says the node held the server image when it
	// started, so its cold start had no image pull (ImageCache).
	Node        string
	ImageCached bool
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
	l := &Lab{Config: c, pods: map[string]*PodLife{}, seen: map[string]time.Duration{}}
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
	as := p.Autoscaling
	l.startReplicas = as.MinReplicas
	if c.StartScenario != nil && !c.FreshStack {
		l.startReplicas = StartReplicas(c.StartScenario.StartingLoad(l.Model.Capacity()), as.MinReplicas, as.MaxReplicas)
	}
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
		// The pool has been serving startReplicas replicas and holding the buffer's spare
		// nodes: at least that many nodes exist.
		first := startNodes(l.MinNodes, l.MaxNodes, l.startReplicas, p.Autoscaling.Buffer.Replicas)
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
	if err := l.raiseStartFloor(ctx); err != nil {
		return nil, err
	}
	l.wallStart = time.Now()
	if err := l.waitServing(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// waitServing steps the sim with no load until startReplicas replicas are ready and their
// metric has reached the adapter, and the buffer's placeholders run on the nodes the start
// left them (startSpare), so that a scenario starts from a serving stack holding its spare
// nodes. Unless FreshStack, those replicas skip their cold start and the placeholders'
// nodes hold the server image: they have been there for a while.
func (l *Lab) waitServing(ctx context.Context) error {
	want := l.startReplicas
	nodes := l.MinNodes
	if l.ca != nil {
		nodes = startNodes(l.MinNodes, l.MaxNodes, want, l.SpareWant())
	}
	spare := startSpare(nodes, want, l.SpareWant())
	budget := time.Minute
	if l.FreshStack {
		budget += wall(l.ColdStart.Duration(false)+l.NodeProvisioning, l.Speed)
	}
	if spare > 0 {
		// The scheduler may bind a placeholder first, on a node a replica then preempts
		// it from: it waits for the node the cluster-autoscaler adds.
		budget += wall(l.NodeProvisioning, l.Speed)
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
		if _, n := l.Sim.Visible(l.HPAMetrics[0]); row.Ready >= want && n >= want && row.Spare >= spare {
			return nil
		}
	}
	return fmt.Errorf("lab: %d replica(s) serving and %d placeholder(s) holding a node not seen after %s (kwok logs: %s)", want, spare, budget, l.Cluster.LogsDir())
}

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

// quietKlog sends the adapter's apiserver logs (klog) to w instead of stderr.
func quietKlog(w io.Writer) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(w)
}

// raiseStartFloor makes the stack start with startReplicas replicas when that is more than
// minReplicas: the HPA's minReplicas and the Deployment's replicas are raised to it, so that
// the HPA, seeing no load while waitServing waits, does not scale down before the load
// begins. releaseStartFloor gives the HPA its own minReplicas back.
func (l *Lab) raiseStartFloor(ctx context.Context) error {
	if l.startReplicas <= l.Stack.Profile.Autoscaling.MinReplicas {
		return nil
	}
	if err := l.patchHPAMin(ctx, l.startReplicas); err != nil {
		return err
	}
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, l.startReplicas)
	if _, err := l.Kube.AppsV1().Deployments(l.Namespace).Patch(ctx, l.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("lab: start with %d replicas: %w", l.startReplicas, err)
	}
	l.floorRaised = true
	return nil
}

// releaseStartFloor undoes raiseStartFloor (once; a no-op otherwise).
func (l *Lab) releaseStartFloor(ctx context.Context) error {
	if !l.floorRaised {
		return nil
	}
	if err := l.patchHPAMin(ctx, l.Stack.Profile.Autoscaling.MinReplicas); err != nil {
		return err
	}
	l.floorRaised = false
	return nil
}

func (l *Lab) patchHPAMin(ctx context.Context, n int) error {
	patch := fmt.Sprintf(`{"spec":{"minReplicas":%d}}`, n)
	if _, err := l.Kube.AutoscalingV2().HorizontalPodAutoscalers(l.Namespace).Patch(ctx, l.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("lab: HPA minReplicas %d: %w", n, err)
	}
	return nil
}
