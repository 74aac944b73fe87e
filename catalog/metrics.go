package catalog

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// MetricSource says where a metric comes from, and so how an adapter serves it.
type MetricSource string

const (
	// ServerGauge is a gauge the model server exports on its Prometheus endpoint. It is
	// attached to the server's pods, so the HPA reads it as a Pods metric.
	ServerGauge MetricSource = "server"
	// AcceleratorMetric is a node metric of the accelerator. It is not attached to the
	// server's pods, so the HPA reads it as an External metric.
	AcceleratorMetric MetricSource = "accelerator"
	// GPUExporterMetric comes from NVIDIA's DCGM exporter, scraped by the Prometheus
	// Operator; a PrometheusRule records it per server pod (seed 002).
	GPUExporterMetric MetricSource = "dcgm"
)

// GPUUtilizationRecord is the series llmserve's PrometheusRule records: DCGM's GPU
// utilisation (0-100) labelled with the server's namespace and pod, which prometheus-adapter
// serves as a Pods metric.
const GPUUtilizationRecord = "llmserve_gpu_utilization"

// Unit is what a metric's value counts, and so what a target for it must look like.
type Unit string

const (
	// UnitCount: requests or sequences; any target above 0.
	UnitCount Unit = "count"
	// UnitFraction: a share from 0 to 1 (vLLM: "1 means 100 percent usage").
	UnitFraction Unit = "fraction"
	// UnitPercent: a share from 0 to 100 (DCGM's GPU utilisation).
	UnitPercent Unit = "percent"
	// UnitBytes: a memory gauge in bytes.
	UnitBytes Unit = "bytes"
)

// KnownMetric is what llmserve knows of one metric the HPA can scale on.
type KnownMetric struct {
	Name   string
	Source MetricSource
	// Engines that export it; empty means any engine.
	Engines []string
	// Adapters that can serve it to the HPA ("none" means an adapter the user runs, with
	// the Stackdriver adapter's names).
	Adapters []string
	// Unit is what the value counts; targets are checked against it.
	Unit Unit
	Help string
}

var allAdapters = []string{AdapterStackdriver, AdapterPrometheus, AdapterNone}

// knownMetrics is the single list of metrics llmserve scales on. The HPA metric names,
// the prometheus-adapter rules and the config checks are all derived from it, so they
// cannot drift.
//
// Sources:
//   - vLLM V1 gauges: vllm-project/vllm vllm/v1/metrics/loggers.py (num_requests_running,
//     num_requests_waiting, kv_cache_usage_perc, "1 means 100 percent usage").
//   - JetStream: AI-Hypercomputer/JetStream jetstream/core/metrics/prometheus.py; the
//     orchestrator sets slots_used_percentage to 1 - free/total slots, a 0..1 fraction.
//   - Accelerator memory: seed 000 (GKE "Configure autoscaling for LLM workloads on TPUs"):
//     kubernetes.io|node|accelerator|memory_used through the Stackdriver adapter, and
//     memory_used_percentage, a prometheus-adapter rule over Managed Prometheus.
//   - DCGM_FI_DEV_GPU_UTIL (0-100 %): NVIDIA dcgm-exporter's default counters (seed 002).
var knownMetrics = []KnownMetric{
	{Name: "vllm:num_requests_waiting", Source: ServerGauge, Engines: []string{EngineVLLM}, Adapters: allAdapters, Unit: UnitCount,
		Help: "requests queued in the server; scale for throughput"},
	{Name: "vllm:num_requests_running", Source: ServerGauge, Engines: []string{EngineVLLM}, Adapters: allAdapters, Unit: UnitCount,
		Help: "requests in the running batch"},
	{Name: "vllm:kv_cache_usage_perc", Source: ServerGauge, Engines: []string{EngineVLLM}, Adapters: allAdapters, Unit: UnitFraction,
		Help: "KV-cache use, 0..1; scale for latency"},
	{Name: "jetstream_prefill_backlog_size", Source: ServerGauge, Engines: []string{EngineJetStream}, Adapters: allAdapters, Unit: UnitCount,
		Help: "requests waiting for prefill"},
	{Name: "jetstream_slots_used_percentage", Source: ServerGauge, Engines: []string{EngineJetStream}, Adapters: allAdapters, Unit: UnitFraction,
		Help: "decode slots in use, 0..1"},
	{Name: "kubernetes.io|node|accelerator|memory_used", Source: AcceleratorMetric, Adapters: []string{AdapterStackdriver, AdapterNone}, Unit: UnitBytes,
		Help: "accelerator memory in use on the cluster's nodes, bytes (Stackdriver adapter)"},
	{Name: "memory_used_percentage", Source: AcceleratorMetric, Adapters: []string{AdapterPrometheus}, Unit: UnitFraction,
		Help: "accelerator memory in use over total on the cluster's nodes, 0..1 (prometheus-adapter)"},
	{Name: "DCGM_FI_DEV_GPU_UTIL", Source: GPUExporterMetric, Adapters: []string{AdapterPrometheus}, Unit: UnitPercent,
		Help: "GPU utilisation of the server's pods, 0-100 (DCGM exporter, Prometheus Operator)"},
}

// removedMetrics maps metric names that upstream removed to their replacement.
// vllm:gpu_cache_usage_perc was deprecated in vLLM 0.9 (vllm-project/vllm#18354) and
// removed in #29330; vllm:kv_cache_usage_perc is the same gauge under its new name.
var removedMetrics = map[string]string{
	"vllm:gpu_cache_usage_perc": "vllm:kv_cache_usage_perc",
}

// LookupMetric returns what llmserve knows of a metric, or false.
func LookupMetric(name string) (KnownMetric, bool) {
	for _, m := range knownMetrics {
		if m.Name == name {
			return m, true
		}
	}
	return KnownMetric{}, false
}

// KnownMetrics returns the metrics llmserve can scale on, in a stable order.
func KnownMetrics() []KnownMetric {
	return append([]KnownMetric(nil), knownMetrics...)
}

// MetricsFor returns the names of the metrics an engine can scale on through an adapter.
func MetricsFor(engine, adapter string) []string {
	var names []string
	for _, m := range knownMetrics {
		if (len(m.Engines) == 0 || slices.Contains(m.Engines, engine)) && slices.Contains(m.Adapters, adapter) {
			names = append(names, m.Name)
		}
	}
	sort.Strings(names)
	return names
}

// CheckMetric returns a problem with scaling engine on metric at target through adapter,
// or "" if none. The text is meant to follow the config key in an error message.
func CheckMetric(engine, adapter, metric string, target float64) string {
	if repl, ok := removedMetrics[metric]; ok {
		return fmt.Sprintf("%q was removed from vLLM (deprecated in 0.9, removed in vllm-project/vllm#29330); use %q", metric, repl)
	}
	m, ok := LookupMetric(metric)
	want := strings.Join(MetricsFor(engine, adapter), ", ")
	if !ok {
		return fmt.Sprintf("unknown metric %q; want one of %s", metric, want)
	}
	if len(m.Engines) > 0 && !slices.Contains(m.Engines, engine) {
		return fmt.Sprintf("metric %q is not exported by engine %q; want one of %s", metric, engine, want)
	}
	if slices.Contains(allAdapters, adapter) && !slices.Contains(m.Adapters, adapter) {
		return fmt.Sprintf("metric %q is not served by the %s adapter (one adapter serves the metrics APIs of a cluster); with it use one of %s", metric, adapter, want)
	}
	return CheckTarget(m, target)
}

// minBytesTarget is the smallest memory target that can be meant: a byte gauge's target is
// written in bytes (20e9 for 20 GB), so anything under a mebibyte is a fraction or a percent
// written for the wrong unit.
const minBytesTarget = 1 << 20

// CheckTarget checks a target against its metric's unit and returns the problem, or "".
func CheckTarget(m KnownMetric, target float64) string {
	if math.IsNaN(target) || math.IsInf(target, 0) {
		return fmt.Sprintf("target %v for %q: want a finite number", target, m.Name)
	}
	if target <= 0 {
		return fmt.Sprintf("target %v for %q must be greater than 0", target, m.Name)
	}
	switch m.Unit {
	case UnitFraction:
		if target > 1 {
			return fmt.Sprintf("target %v for %q is out of range: the metric is a 0..1 fraction, so write %v%% as %v", target, m.Name, target, target/100)
		}
	case UnitPercent:
		if target > 100 {
			return fmt.Sprintf("target %v for %q is out of range: the metric is a percentage, 0-100; write 80%% as 80", target, m.Name)
		}
		if target <= 1 {
			return fmt.Sprintf("target %v for %q looks like a fraction: the metric is a percentage, 0-100, so write %v as %v", target, m.Name, target, target*100)
		}
	case UnitBytes:
		if target < minBytesTarget {
			return fmt.Sprintf("target %v for %q is too small to be meant: the metric is in bytes; write 20 GB as 20e9", target, m.Name)
		}
	}
	return ""
}

// HPAMetric is how the HPA names a metric: its type (Pods or External) and name.
type HPAMetric struct {
	Type string // Pods | External
	Name string
}

// HPAMetricFor maps a metric to what the adapter serves.
//
// The Stackdriver adapter serves Managed Prometheus data under the Cloud Monitoring type
// prometheus.googleapis.com/<name>/gauge, with "/" written "|" because "/" cannot appear
// in a Kubernetes metric name (seeds 000, 001, 003). prometheus-adapter serves what its
// rules name (PrometheusMetricName), so those rules and this mapping come from one place.
func HPAMetricFor(adapter string, m KnownMetric) HPAMetric {
	typ := "Pods"
	if m.Source == AcceleratorMetric {
		typ = "External"
	}
	if adapter == AdapterPrometheus {
		return HPAMetric{Type: typ, Name: PrometheusMetricName(m)}
	}
	if m.Source == ServerGauge {
		return HPAMetric{Type: typ, Name: "prometheus.googleapis.com|" + m.Name + "|gauge"}
	}
	return HPAMetric{Type: typ, Name: m.Name}
}

// PrometheusMetricName is the name prometheus-adapter serves a metric under: ':' is not
// valid in a custom metrics API name, so vllm:num_requests_running becomes
// vllm_num_requests_running (seed 002); DCGM utilisation is served from its recorded series.
func PrometheusMetricName(m KnownMetric) string {
	if m.Source == GPUExporterMetric {
		return GPUUtilizationRecord
	}
	return strings.NewReplacer(":", "_", "|", "_", ".", "_").Replace(m.Name)
}
