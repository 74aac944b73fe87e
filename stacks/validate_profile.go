package stacks

import (
	"fmt"
	"strings"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
)

// ChipsPerReplica is the number of accelerators one server replica uses: the chips of one
// single-host TPU slice, or the GPUs of one node.
func (c *Config) ChipsPerReplica() int {
	if !catalog.IsTPU(c.Profile.Accelerator.Type) {
		return c.Profile.Accelerator.Count
	}
	s, _ := catalog.LookupTPUSlice(c.Profile.Accelerator.Topology)
	return s.Chips
}

// acceleratorUnit names what ChipsPerReplica counts, for messages.
func (c *Config) acceleratorUnit() string {
	if catalog.IsTPU(c.Profile.Accelerator.Type) {
		return "TPU chips"
	}
	return c.Profile.Accelerator.Type + " GPUs"
}

func (c *Config) validateProfile(p *problems) {
	pr := c.Profile
	switch pr.Engine {
	case catalog.EngineVLLM, catalog.EngineJetStream:
	default:
		p.addf("engine %q: want vllm or jetstream", pr.Engine)
	}
	if pr.Model == "" {
		p.addf("model: required; the Hugging Face model id, such as meta-llama/Llama-3.1-8B-Instruct")
	}
	if !pinned(pr.Image) {
		p.addf("image %q: pin a version tag or digest (not latest), so every replica runs the same server", pr.Image)
	}
	c.validateAccelerator(p)
	if pr.Server.Port < 1 || pr.Server.Port > 65535 {
		p.addf("server.port %d: want 1-65535", pr.Server.Port)
	}
	switch pr.DType {
	case "bfloat16", "float16", "float32", "int8", "fp8":
	default:
		p.addf("dtype %q: want bfloat16, float16, float32, int8 or fp8", pr.DType)
	}
	c.validateSizing(p)
	if pr.Engine == catalog.EngineVLLM {
		c.validateVLLM(p)
	}
	if pr.Engine == catalog.EngineJetStream {
		c.validateJetStream(p)
	}
	c.validateStorage(p)
	checkQuantity(p, "server.cpu", pr.Server.CPU, false)
	checkQuantity(p, "server.memory", pr.Server.Memory, false)
	if pr.Probes.StartupTimeoutSeconds < 60 {
		p.addf("probes.startupTimeoutSeconds %d: loading a model takes minutes; want at least 60", pr.Probes.StartupTimeoutSeconds)
	}
	if pr.Probes.PeriodSeconds < 1 || pr.Probes.PeriodSeconds > pr.Probes.StartupTimeoutSeconds {
		p.addf("probes.periodSeconds %d: want between 1 and startupTimeoutSeconds", pr.Probes.PeriodSeconds)
	}
}

func (c *Config) validateAccelerator(p *problems) {
	pr := c.Profile
	a := pr.Accelerator
	if catalog.IsTPU(a.Type) {
		if a.Count != 0 {
			p.addf("accelerator.count %d: for GPUs; a TPU slice's chips follow from its topology", a.Count)
		}
		slice, ok := catalog.LookupTPUSlice(a.Topology)
		if !ok {
			p.addf("accelerator.topology %q: want one of %s (single-host TPU v6e slices)", a.Topology, catalog.TPUTopologies())
		} else if pr.Server.TensorParallelSize != slice.Chips {
			p.addf("server.tensorParallelSize %d: must equal the %d chips of a %s slice", pr.Server.TensorParallelSize, slice.Chips, slice.Topology)
		}
		if pr.Engine == catalog.EngineVLLM && strings.Contains(pr.Image, "vllm-openai") {
			p.addf("image %q: the vLLM CUDA image cannot drive TPUs; use vllm/vllm-tpu", pr.Image)
		}
		return
	}
	g, ok := catalog.LookupGPU(a.Type)
	if !ok {
		p.addf("accelerator.type %q: want %s or a GPU: %s", a.Type, catalog.AcceleratorTPUv6e, catalog.GPUTypeNames())
		return
	}
	if a.Topology != "" {
		p.addf("accelerator.topology %q: for TPUs; a GPU node is sized by accelerator.count", a.Topology)
	}
	if _, ok := g.Machines[a.Count]; !ok {
		p.addf("accelerator.count %d: %s nodes come with %v GPUs", a.Count, g.Name, g.Counts())
	} else if pr.Server.TensorParallelSize != a.Count {
		p.addf("server.tensorParallelSize %d: must equal the %d GPUs of a replica (accelerator.count)", pr.Server.TensorParallelSize, a.Count)
	}
	if pr.Engine == catalog.EngineJetStream {
		p.addf("engine jetstream: JetStream (MaxText) serves on TPUs; use vllm on %s", g.Name)
	}
	if strings.Contains(pr.Image, "vllm-tpu") {
		p.addf("image %q: the TPU image cannot drive GPUs; use vllm/vllm-openai", pr.Image)
	}
	if pr.Storage.XLACache != catalog.XLACacheOff {
		p.addf("storage.xlaCache %q: the XLA compilation cache is for TPUs; use off on GPUs", pr.Storage.XLACache)
	}
}

func (c *Config) validateVLLM(p *problems) {
	s := c.Profile.Server
	for _, f := range []struct {
		key string
		v   int
	}{{"server.maxModelLen", s.MaxModelLen}, {"server.maxNumSeqs", s.MaxNumSeqs}, {"server.maxNumBatchedTokens", s.MaxNumBatchedTokens}} {
		if f.v < 1 {
			p.addf("%s %d: must be at least 1", f.key, f.v)
		}
	}
	// vLLM refuses to start when one scheduler step cannot hold a token of every sequence.
	if s.MaxNumSeqs > 0 && s.MaxNumBatchedTokens > 0 && s.MaxNumBatchedTokens < s.MaxNumSeqs {
		p.addf("server.maxNumBatchedTokens %d: vLLM needs at least maxNumSeqs (%d)", s.MaxNumBatchedTokens, s.MaxNumSeqs)
	}
}

func (c *Config) validateJetStream(p *problems) {
	j := c.Profile.JetStream
	if !pinned(j.HTTPImage) {
		p.addf("jetstream.httpImage %q: pin a version tag of the jetstream-http image", j.HTTPImage)
	}
	if j.ModelName == "" {
		p.addf("jetstream.modelName: required; the MaxText model name, such as gemma-7b")
	}
	if j.CheckpointPath == "" || strings.HasPrefix(j.CheckpointPath, "/") || strings.HasPrefix(j.CheckpointPath, "gs://") {
		p.addf("jetstream.checkpointPath %q: want the checkpoint's path inside the model bucket, such as final/unscanned/gemma_7b-it/0/checkpoints/0/items", j.CheckpointPath)
	}
	if j.PerDeviceBatchSize < 1 {
		p.addf("jetstream.perDeviceBatchSize %d: must be at least 1", j.PerDeviceBatchSize)
	}
	if j.MaxPrefillPredictLength < 1 {
		p.addf("jetstream.maxPrefillPredictLength %d: must be at least 1 (the longest prompt, in tokens)", j.MaxPrefillPredictLength)
	} else if j.MaxTargetLength <= j.MaxPrefillPredictLength {
		p.addf("jetstream.maxTargetLength %d: must exceed maxPrefillPredictLength %d (> 0): the target includes the prompt", j.MaxTargetLength, j.MaxPrefillPredictLength)
	}
	if j.MetricsPort == c.Profile.Server.Port || j.MetricsPort == 9000 || j.MetricsPort < 1 || j.MetricsPort > 65535 {
		p.addf("jetstream.metricsPort %d: want a free port other than %d (HTTP) and 9000 (gRPC)", j.MetricsPort, c.Profile.Server.Port)
	}
}

func (c *Config) validateStorage(p *problems) {
	st := c.Profile.Storage
	if !strings.HasPrefix(st.MountPath, "/") || st.MountPath == "/" {
		p.addf("storage.mountPath %q: want an absolute directory such as /data", st.MountPath)
	}
	for i, o := range st.MountOptions {
		name := strings.SplitN(o, "=", 2)[0]
		if o == "" || strings.ContainsAny(o, ", ") {
			p.addf("storage.mountOptions[%d] %q: one option per list item, without commas or spaces", i, o)
		}
		for _, bad := range gcsfuseForbiddenOptions {
			if name == bad {
				p.addf("storage.mountOptions[%d] %q: the GCS FUSE CSI driver does not allow %s", i, o, bad)
			}
		}
	}
	// The apiserver accepts any emptyDir medium string; the kubelet then fails the pod.
	if st.FileCacheMedium != "Memory" && st.FileCacheMedium != "Disk" {
		p.addf("storage.fileCacheMedium %q: want Memory (RAM; TPU nodes have no local SSD) or Disk", st.FileCacheMedium)
	}
	checkQuantity(p, "storage.fileCacheSize", st.FileCacheSize, false)
	checkQuantity(p, "storage.sidecarCPULimit", st.SidecarCPULimit, true)
	checkQuantity(p, "storage.sidecarMemoryLimit", st.SidecarMemoryLimit, true)
	checkQuantity(p, "storage.sidecarEphemeralStorageLimit", st.SidecarStorageLimit, true)
	checkQuantity(p, "storage.sharedMemorySize", st.SharedMemorySize, false)
	checkQuantity(p, "storage.xlaCacheLocalSize", st.XLACacheLocalSize, false)
	switch st.XLACache {
	case catalog.XLACacheShared, catalog.XLACachePerPod, catalog.XLACacheOff:
	default:
		p.addf("storage.xlaCache %q: want shared (per-pod writes, shared read-only seed), per-pod or off", st.XLACache)
	}
	if *st.XLACachePublishDelay < 0 {
		p.addf("storage.xlaCachePublishDelaySeconds %d: must not be negative", *st.XLACachePublishDelay)
	}
}

func (c *Config) validateAutoscaling(p *problems) {
	a := c.Profile.Autoscaling
	if a.MinReplicas < 1 {
		p.addf("autoscaling.minReplicas %d: must be at least 1", a.MinReplicas)
	}
	if a.MaxReplicas < a.MinReplicas {
		p.addf("autoscaling.maxReplicas %d: must be at least minReplicas %d", a.MaxReplicas, a.MinReplicas)
	}
	if len(a.Metrics) == 0 {
		p.addf("autoscaling.metrics: list at least one {metric, target}; for vLLM {metric: \"vllm:num_requests_waiting\", target: 10}")
	}
	seen := map[string]bool{}
	for i, m := range a.Metrics {
		key := fmt.Sprintf("autoscaling.metrics[%d]", i)
		if msg := catalog.CheckMetric(c.Profile.Engine, c.Metrics.Adapter, m.Metric, m.Target); msg != "" {
			p.addf("%s: %s", key, msg)
		}
		if seen[m.Metric] {
			p.addf("%s: metric %q is listed twice; keep one target", key, m.Metric)
		}
		seen[m.Metric] = true
		if km, ok := catalog.LookupMetric(m.Metric); ok && km.Source == catalog.ServerGauge && len(m.Selector) > 0 {
			p.addf("%s: selector is for accelerator (External) metrics; %q is read per pod of this server", key, m.Metric)
		}
		c.validateMetricPath(p, key, m.Metric)
	}
	validateRules(p, "autoscaling.behavior.scaleUp", a.Behavior.ScaleUp)
	validateRules(p, "autoscaling.behavior.scaleDown", a.Behavior.ScaleDown)

	// Capacity: every replica is one node; the HPA must not ask for more than the pool holds.
	chips := c.ChipsPerReplica()
	if chips > 0 && a.MaxReplicas >= a.MinReplicas && *c.Pool.MaxNodes >= 1 {
		if need, have := a.MaxReplicas*chips, *c.Pool.MaxNodes*chips; need > have {
			p.addf("autoscaling.maxReplicas %d: needs %d %s but llmserve:pool.maxNodes %d holds %d; raise pool.maxNodes to %d or lower maxReplicas",
				a.MaxReplicas, need, c.acceleratorUnit(), *c.Pool.MaxNodes, have, a.MaxReplicas)
		}
		if *c.Pool.MinNodes > a.MaxReplicas {
			p.addf("llmserve:pool.minNodes %d: more idle slices than maxReplicas %d can ever use; lower pool.minNodes", *c.Pool.MinNodes, a.MaxReplicas)
		}
	}
}

// validateMetricPath checks that a metric can reach the HPA on this stack's pipeline.
func (c *Config) validateMetricPath(p *problems, key, metric string) {
	km, ok := catalog.LookupMetric(metric)
	if !ok {
		return
	}
	tpu := catalog.IsTPU(c.Profile.Accelerator.Type)
	switch {
	case km.Source == catalog.GPUExporterMetric && tpu:
		p.addf("%s: %q measures NVIDIA GPUs; this profile runs on %s", key, metric, c.Profile.Accelerator.Type)
	case km.Source == catalog.GPUExporterMetric && c.Metrics.Backend != catalog.BackendOperator:
		p.addf("%s: %q comes from the DCGM exporter, which llmserve scrapes only through a Prometheus Operator (llmserve:metrics.backend prometheus-operator); set backend prometheus-operator on a cluster that runs one (cluster.mode existing)", key, metric)
	case km.Source == catalog.AcceleratorMetric && c.Metrics.Backend != catalog.BackendManaged:
		p.addf("%s: %q is a GKE system metric in Cloud Monitoring; it needs llmserve:metrics.backend managed-prometheus", key, metric)
	case km.Source == catalog.AcceleratorMetric && !tpu && metric == "memory_used_percentage":
		p.addf("%s: %q is built from TPU memory metrics; on GPUs use DCGM_FI_DEV_GPU_UTIL", key, metric)
	}
}

func validateRules(p *problems, key string, r components.ScalingRules) {
	if w := *r.StabilizationWindowSeconds; w < 0 || w > 3600 {
		p.addf("%s.stabilizationWindowSeconds %d: want 0-3600", key, w)
	}
	switch r.SelectPolicy {
	case "Max", "Min", "Disabled":
	default:
		p.addf("%s.selectPolicy %q: want Max, Min or Disabled", key, r.SelectPolicy)
	}
	for i, pol := range r.Policies {
		k := fmt.Sprintf("%s.policies[%d]", key, i)
		if pol.Type != "Pods" && pol.Type != "Percent" {
			p.addf("%s.type %q: want Pods or Percent", k, pol.Type)
		}
		if pol.Value < 1 {
			p.addf("%s.value %d: must be at least 1", k, pol.Value)
		}
		if pol.PeriodSeconds < 1 || pol.PeriodSeconds > 1800 {
			p.addf("%s.periodSeconds %d: want 1-1800", k, pol.PeriodSeconds)
		}
	}
}
