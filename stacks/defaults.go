package stacks

import (
	"fmt"

	"regexp"
	"strings"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
)

// DefaultScrapeInterval and the other defaults that are choices worth naming.
const ( // DefaultScrapeInterval is the shortest interval Managed Prometheus supports for server
	// metrics (GKE "Configure autoscaling for LLM workloads on TPUs": "With server metrics,
	// scrape intervals as frequent as 5 seconds are supported"). Fresher data, faster HPA.
	DefaultScrapeInterval = "5s"
)

// DefaultMountOptions are seed 003's GCS FUSE options: the file cache with parallel
// downloads, so a restarted or new replica reads weights from the bucket at full speed
// (https://cloud.google.com/kubernetes-engine/docs/how-to/cloud-storage-fuse-csi-driver-perf).
var DefaultMountOptions = []string{
	"implicit-dirs",
	"file-cache:enable-parallel-downloads:true",
	"file-cache:parallel-downloads-per-file:100",
	"file-cache:max-parallel-downloads:-1",
	"file-cache:download-chunk-size-mb:10",
	"file-cache:max-size-mb:-1",
}

// applyDefaults fills every unset field. It runs before Validate so that Validate sees the
// values that will be deployed.
func (c *Config) applyDefaults(stack string) {
	cl := &c.Cluster
	def(&cl.Mode, catalog.ModeStandard)
	def(&cl.Name, "llmserve-"+Slug(stack))
	def(&cl.Location, c.Region)
	def(&cl.ReleaseChannel, "REGULAR")
	if cl.DeletionProtection == nil {
		cl.DeletionProtection = boolPtr(true)
	}
	def(&cl.SystemPool.MachineType, "e2-standard-4")
	// Only counts left out take defaults: a written -1 or 0 is validated as written.
	sp := &cl.SystemPool
	if sp.MinNodes == nil {
		sp.MinNodes = intPtr(1)
		if sp.MaxNodes != nil && *sp.MaxNodes < 1 {
			sp.MinNodes = intPtr(0) // the written maxNodes alone is then the problem
		}
	}
	if sp.MaxNodes == nil {
		sp.MaxNodes = intPtr(max(*sp.MinNodes, 3))
	}

	c.applyProfileDefaults()
	a := c.Profile.Autoscaling
	if c.Pool.Create == nil {
		c.Pool.Create = boolPtr(cl.Mode == catalog.ModeStandard)
	}
	// One single-host slice per replica: the pool's bounds follow the HPA's by default,
	// plus one spare slice where llmserve sizes the capacity (a pool it creates, Autopilot),
	// so that a rolling update surges a new pod before the old one stops instead of taking
	// a replica down for the whole model load (issue 11). The autoscaler adds the spare node
	// only while the surge pod waits for it and removes it after (GKE: single-host TPU pools
	// scale node by node between total min and max). An existing cluster's pool is the
	// user's: without pool.maxNodes llmserve assumes no spare slice.
	if c.Pool.MinNodes == nil {
		c.Pool.MinNodes = intPtr(a.MinReplicas)
	}
	if c.Pool.MaxNodes == nil {
		spare := 0
		if *c.Pool.Create || cl.Mode == catalog.ModeAutopilot {
			spare = 1
		}
		// The capacity buffer's spare nodes come on top (validateBuffer).
		c.Pool.MaxNodes = intPtr(a.MaxReplicas + spare + max(a.Buffer.Replicas, 0))
	}
	// TPU capacity is scarce: ANY lets the autoscaler take whichever zone has it.
	def(&c.Pool.LocationPolicy, "ANY")

	m := &c.ModelStore
	if c.Project != "" && c.GCPResources {
		def(&m.Bucket, strings.ToLower(fmt.Sprintf("%s-llmserve-%s", c.Project, Slug(stack))))
	}
	def(&m.Location, strings.ToUpper(c.Region))
	def(&m.StorageClass, "STANDARD")

	s := &c.Serving
	def(&s.Namespace, "llm")
	if s.CreateNamespace == nil {
		s.CreateNamespace = boolPtr(true)
	}
	def(&s.ServiceAccount, c.ObjectName())
	c.applyRoutingDefaults() // routing_default.go: gateway where it can run

	mt := &c.Metrics
	def(&mt.Backend, catalog.BackendManaged)
	def(&mt.Adapter, catalog.AdapterStackdriver)
	if mt.InstallAdapter == nil {
		mt.InstallAdapter = boolPtr(mt.Adapter != catalog.AdapterNone)
	}
	if mt.ScrapeGKEDCGM == nil {
		mt.ScrapeGKEDCGM = boolPtr(false)
	}
	if mt.InstallDCGMExporter == nil {
		// GKE's managed exporter, when asked for, replaces NVIDIA's.
		mt.InstallDCGMExporter = boolPtr(c.needsDCGMExporter() && !*mt.ScrapeGKEDCGM)
	}
	def(&mt.AdapterImage, catalog.DefaultAdapterImage)
	def(&mt.FrontendImage, catalog.DefaultFrontendImage)
	def(&mt.ScrapeInterval, DefaultScrapeInterval)
	def(&mt.SystemScrapeInterval, "15s")
}

func (c *Config) applyProfileDefaults() {
	p := &c.Profile
	def(&p.DType, "bfloat16")
	// The numbers below default only when the profile and overrides leave them out: a
	// written 0 reaches validation (issue 21).
	if !c.wrote("overrides", "server.port") {
		p.Server.Port = 8000
	}
	if !c.wrote("overrides", "jetstream.metricsPort") {
		p.JetStream.MetricsPort = 9100
	}
	st := &p.Storage
	def(&st.MountPath, "/data")
	if st.MountOptions == nil {
		st.MountOptions = append([]string(nil), DefaultMountOptions...)
	}
	// TPU VMs have no local SSD: the GCS FUSE file cache lives in RAM (seed 003).
	def(&st.FileCacheMedium, "Memory")
	// "0" lifts the FUSE sidecar's limits: parallel downloads of 100+ GB need them (seed 003).
	def(&st.SidecarCPULimit, "0")
	def(&st.SidecarMemoryLimit, "0")
	def(&st.SidecarStorageLimit, "0")
	if catalog.IsTPU(p.Accelerator.Type) {
		def(&st.XLACache, catalog.XLACacheShared)
	} else {
		def(&st.XLACache, catalog.XLACacheOff) // XLA compiles for TPUs only
	}
	def(&st.XLACacheLocalSize, "20Gi")
	if st.XLACachePublishDelay == nil {
		st.XLACachePublishDelay = intPtr(60)
	}
	if !c.wrote("overrides", "probes.periodSeconds") {
		p.Probes.PeriodSeconds = 10
	}
	if !c.wrote("overrides", "probes.startupTimeoutSeconds") {
		p.Probes.StartupTimeoutSeconds = 3600
	}
	applyBehaviorDefaults(&p.Autoscaling.Behavior)
}

// applyBehaviorDefaults: scale up at once (no stabilization) by up to 4 pods or 100% every
// 15 s, whichever is more (seed 001's scale-up); scale down only after 10 minutes of lower
// recommendations, and then by one pod a minute. The 10 minutes cover what bringing a
// replica back costs on TPU v6e (a new node, ~5 min, plus a warm cold start, ~5.5 min;
// lab/coldstart.go): with seed 001's 30 s window the queue-driven HPA removed the replicas
// that kept the queue at 0 while the load lasted (measured in issue 10). Each rule
// is replaced whole when the user sets its policies; seed 001's scale-down is
// {stabilizationWindowSeconds: 30, policies: [{type: Percent, value: 100, periodSeconds: 15}]}.
func applyBehaviorDefaults(b *components.BehaviorSpec) {
	if b.ScaleUp.StabilizationWindowSeconds == nil {
		b.ScaleUp.StabilizationWindowSeconds = intPtr(0)
	}
	def(&b.ScaleUp.SelectPolicy, "Max")
	if b.ScaleUp.Policies == nil {
		b.ScaleUp.Policies = []components.ScalingPolicy{
			{Type: "Pods", Value: 4, PeriodSeconds: 15},
			{Type: "Percent", Value: 100, PeriodSeconds: 15},
		}
	}
	if b.ScaleDown.StabilizationWindowSeconds == nil {
		b.ScaleDown.StabilizationWindowSeconds = intPtr(600)
	}
	def(&b.ScaleDown.SelectPolicy, "Max")
	if b.ScaleDown.Policies == nil {
		b.ScaleDown.Policies = []components.ScalingPolicy{{Type: "Pods", Value: 1, PeriodSeconds: 60}}
	}
}

// ObjectName is the Kubernetes name of the model's objects: the profile name and engine
// (llama-3-1-70b-vllm), so two models share a namespace without collisions.
func (c *Config) ObjectName() string {
	return Slug(c.ModelName) + "-" + c.Profile.Engine
}

func def(field *string, value string) {
	if *field == "" {
		*field = value
	}
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// Slug lower-cases s and turns every run of other characters into one "-": the form of
// every name llmserve derives from a stack or model name.
func Slug(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}
