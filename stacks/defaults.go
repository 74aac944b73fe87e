package stacks

import (
	"fmt"

	"github.com/llmserve/llmserve/components"
	"regexp"
	"strings"
)

// Defaults that are facts or choices worth naming.
const (
	// DefaultAdapterImage is the Custom Metrics Stackdriver Adapter image of the upstream
	// manifest GoogleCloudPlatform/k8s-stackdriver custom-metrics-stackdriver-adapter/deploy/
	// production/adapter_new_resource_model.yaml (commit 0857364d). Pin a newer one with
	// llmserve:metrics.adapterImage.
	DefaultAdapterImage = "gcr.io/gke-release/custom-metrics-stackdriver-adapter:v0.15.1-gke.0"
	// DefaultScrapeInterval is the shortest interval Managed Prometheus supports for server
	// metrics (GKE "Configure autoscaling for LLM workloads on TPUs": "With server metrics,
	// scrape intervals as frequent as 5 seconds are supported"). Fresher data, faster HPA.
	DefaultScrapeInterval = "5s"
	// DefaultFrontendImage is the Managed Prometheus query frontend of GKE's
	// prometheus-adapter guide (the tag GKE's docs and examples use).
	DefaultFrontendImage = "gke.gcr.io/prometheus-engine/frontend:v0.15.3-gke.0"
	// DefaultKubePrometheusStackChart pins prometheus-community/kube-prometheus-stack.
	DefaultKubePrometheusStackChart = "82.10.3"
	// DefaultPrometheusAdapterChart pins prometheus-community/prometheus-adapter.
	DefaultPrometheusAdapterChart = "5.3.0"
	// DefaultDCGMExporterChart pins NVIDIA's dcgm-exporter chart.
	DefaultDCGMExporterChart = "4.8.4"
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
	def(&cl.Mode, "standard")
	def(&cl.Name, "llmserve-"+slug(stack))
	def(&cl.Location, c.Region)
	def(&cl.ReleaseChannel, "REGULAR")
	if cl.DeletionProtection == nil {
		cl.DeletionProtection = boolPtr(true)
	}
	def(&cl.SystemPool.MachineType, "e2-standard-4")
	if cl.SystemPool.MaxNodes == 0 {
		cl.SystemPool.MinNodes, cl.SystemPool.MaxNodes = max(cl.SystemPool.MinNodes, 1), max(cl.SystemPool.MinNodes, 3)
	}

	c.applyProfileDefaults()
	a := c.Profile.Autoscaling
	if c.Pool.Create == nil {
		c.Pool.Create = boolPtr(cl.Mode == "standard")
	}
	// One single-host slice per replica: the pool's bounds follow the HPA's by default.
	if c.Pool.MinNodes == nil {
		c.Pool.MinNodes = intPtr(a.MinReplicas)
	}
	if c.Pool.MaxNodes == nil {
		c.Pool.MaxNodes = intPtr(a.MaxReplicas)
	}
	// TPU capacity is scarce: ANY lets the autoscaler take whichever zone has it.
	def(&c.Pool.LocationPolicy, "ANY")

	m := &c.ModelStore
	if c.Project != "" && c.GCPResources {
		def(&m.Bucket, strings.ToLower(fmt.Sprintf("%s-llmserve-%s", c.Project, slug(stack))))
	}
	def(&m.Location, strings.ToUpper(c.Region))
	def(&m.StorageClass, "STANDARD")

	s := &c.Serving
	def(&s.Namespace, "llm")
	if s.CreateNamespace == nil {
		s.CreateNamespace = boolPtr(true)
	}
	def(&s.ServiceAccount, c.ObjectName())
	def(&s.Exposure, "cluster")

	mt := &c.Metrics
	def(&mt.Backend, components.BackendManaged)
	def(&mt.Adapter, components.AdapterStackdriver)
	if mt.InstallAdapter == nil {
		mt.InstallAdapter = boolPtr(mt.Adapter != components.AdapterNone)
	}
	if mt.InstallPrometheus == nil {
		mt.InstallPrometheus = boolPtr(mt.Backend == components.BackendOperator)
	}
	def(&mt.AdapterImage, DefaultAdapterImage)
	def(&mt.FrontendImage, DefaultFrontendImage)
	def(&mt.ScrapeInterval, DefaultScrapeInterval)
	def(&mt.SystemScrapeInterval, "15s")
	def(&mt.Charts.KubePrometheusStack, DefaultKubePrometheusStackChart)
	def(&mt.Charts.PrometheusAdapter, DefaultPrometheusAdapterChart)
	def(&mt.Charts.DCGMExporter, DefaultDCGMExporterChart)
}

func (c *Config) applyProfileDefaults() {
	p := &c.Profile
	def(&p.DType, "bfloat16")
	if p.Server.Port == 0 {
		p.Server.Port = 8000
	}
	if p.JetStream.MetricsPort == 0 {
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
	if components.IsTPU(p.Accelerator.Type) {
		def(&st.XLACache, components.XLACacheShared)
	} else {
		def(&st.XLACache, components.XLACacheOff) // XLA compiles for TPUs only
	}
	def(&st.XLACacheLocalSize, "20Gi")
	if st.XLACachePublishDelay == nil {
		st.XLACachePublishDelay = intPtr(60)
	}
	if p.Probes.PeriodSeconds == 0 {
		p.Probes.PeriodSeconds = 10
	}
	if p.Probes.StartupTimeoutSeconds == 0 {
		p.Probes.StartupTimeoutSeconds = 3600
	}
	applyBehaviorDefaults(&p.Autoscaling.Behavior)
}

// applyBehaviorDefaults: scale up at once (no stabilization) by up to 4 pods or 100% every
// 15 s, whichever is more (seed 001's scale-up); scale down only after 10 minutes of lower
// recommendations, and then by one pod a minute. The 10 minutes cover what bringing a
// replica back costs on TPU v6e (a new node, ~5 min, plus a warm cold start, ~3.5 min;
// lab/coldstart.go): with seed 001's 30 s window the queue-driven HPA removed the replicas
// that kept the queue at 0 while the load lasted (measured in issue 10). Each rule
// is replaced whole when the user sets its policies; seed 001's scale-down is
// {stabilizationWindowSeconds: 30, policies: [{type: Percent, value: 100, periodSeconds: 15}]}.
func applyBehaviorDefaults(b *BehaviorSpec) {
	if b.ScaleUp.StabilizationWindowSeconds == nil {
		b.ScaleUp.StabilizationWindowSeconds = intPtr(0)
	}
	def(&b.ScaleUp.SelectPolicy, "Max")
	if b.ScaleUp.Policies == nil {
		b.ScaleUp.Policies = []ScalingPolicy{
			{Type: "Pods", Value: 4, PeriodSeconds: 15},
			{Type: "Percent", Value: 100, PeriodSeconds: 15},
		}
	}
	if b.ScaleDown.StabilizationWindowSeconds == nil {
		b.ScaleDown.StabilizationWindowSeconds = intPtr(600)
	}
	def(&b.ScaleDown.SelectPolicy, "Max")
	if b.ScaleDown.Policies == nil {
		b.ScaleDown.Policies = []ScalingPolicy{{Type: "Pods", Value: 1, PeriodSeconds: 60}}
	}
}

// ObjectName is the Kubernetes name of the model's objects: the profile name and engine
// (llama-3-1-70b-vllm), so two models share a namespace without collisions.
func (c *Config) ObjectName() string {
	return slug(c.ModelName) + "-" + c.Profile.Engine
}

func def(field *string, value string) {
	if *field == "" {
		*field = value
	}
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// slug lower-cases s and turns every run of other characters into one "-".
func slug(s string) string {
	return strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}
