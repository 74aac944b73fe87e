package components

import (
	"fmt"
	"sort"
	"strings"
)

// MetricSource says where the HPA reads a metric from, and so which HPA metric type it is.
type MetricSource string

const (
	// ServerGauge is a gauge the model server exports on its Prometheus endpoint. Managed
	// Prometheus ingests it as prometheus.googleapis.com/<name>/gauge and the Custom Metrics
	// Stackdriver Adapter serves it per pod, so the HPA reads it as a Pods metric.
	ServerGauge MetricSource = "server"
	// AcceleratorMetric is a GKE system metric of the node's accelerator. It is not attached
	// to the server's pods, so the HPA reads it as an External metric with label selectors.
	AcceleratorMetric MetricSource = "accelerator"
)

// Engine names, as written in config.
const (
	EngineVLLM      = "vllm"
	EngineJetStream = "jetstream"
)

// KnownMetric is what llmserve knows of one metric the HPA can scale on.
type KnownMetric struct {
	Name   string
	Source MetricSource
	// Engines that export it; empty means any engine (accelerator metrics).
	Engines []string
	// Fraction marks a 0..1 gauge: a target above 1 can never be reached.
	Fraction bool
	Help     string
}

// knownMetrics is the single list of metrics llmserve scales on. The HPA metric names,
// the adapter rules and the config checks are all derived from it, so they cannot drift.
//
// Sources:
//   - vLLM V1 gauges: vllm-project/vllm vllm/v1/metrics/loggers.py (num_requests_running,
//     num_requests_waiting, kv_cache_usage_perc, "1 means 100 percent usage").
//   - JetStream: AI-Hypercomputer/JetStream jetstream/core/metrics/prometheus.py; the
//     orchestrator sets slots_used_percentage to 1 - free/total slots, a 0..1 fraction.
//   - Accelerator memory: seed 000 (GKE "Configure autoscaling for LLM workloads on TPUs").
var knownMetrics = []KnownMetric{
	{Name: "vllm:num_requests_waiting", Source: ServerGauge, Engines: []string{EngineVLLM},
		Help: "requests queued in the server; scale for throughput"},
	{Name: "vllm:num_requests_running", Source: ServerGauge, Engines: []string{EngineVLLM},
		Help: "requests in the running batch"},
	{Name: "vllm:kv_cache_usage_perc", Source: ServerGauge, Engines: []string{EngineVLLM}, Fraction: true,
		Help: "KV-cache use, 0..1; scale for latency"},
	{Name: "jetstream_prefill_backlog_size", Source: ServerGauge, Engines: []string{EngineJetStream},
		Help: "requests waiting for prefill"},
	{Name: "jetstream_slots_used_percentage", Source: ServerGauge, Engines: []string{EngineJetStream}, Fraction: true,
		Help: "decode slots in use, 0..1"},
	{Name: "kubernetes.io|node|accelerator|memory_used", Source: AcceleratorMetric,
		Help: "accelerator memory in use on the server's nodes, bytes"},
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
	out := append([]KnownMetric(nil), knownMetrics...)
	return out
}

// MetricsFor returns the names of the metrics that make sense for an engine.
func MetricsFor(engine string) []string {
	var names []string
	for _, m := range knownMetrics {
		if len(m.Engines) == 0 || contains(m.Engines, engine) {
			names = append(names, m.Name)
		}
	}
	sort.Strings(names)
	return names
}

// CheckMetric returns a problem with scaling engine on metric at target, or "" if none.
// The text is meant to follow the config key in an error message.
func CheckMetric(engine, metric string, target float64) string {
	if repl, ok := removedMetrics[metric]; ok {
		return fmt.Sprintf("%q was removed from vLLM (deprecated in 0.9, removed in vllm-project/vllm#29330); use %q", metric, repl)
	}
	m, ok := LookupMetric(metric)
	if !ok {
		return fmt.Sprintf("unknown metric %q; want one of %s", metric, strings.Join(MetricsFor(engine), ", "))
	}
	if len(m.Engines) > 0 && !contains(m.Engines, engine) {
		return fmt.Sprintf("metric %q is not exported by engine %q; want one of %s", metric, engine, strings.Join(MetricsFor(engine), ", "))
	}
	if target <= 0 {
		return fmt.Sprintf("target %v for %q must be greater than 0", target, metric)
	}
	if m.Fraction && target > 1 {
		return fmt.Sprintf("target %v for %q is out of range: the metric is a 0..1 fraction, so write %v%% as %v", target, metric, target, target/100)
	}
	return ""
}

// HPAMetricName is the name under which the Custom Metrics Stackdriver Adapter serves a
// metric. Managed Prometheus stores a Prometheus gauge as the Cloud Monitoring type
// prometheus.googleapis.com/<name>/gauge; the adapter's metric names replace "/" with "|"
// because "/" cannot appear in a Kubernetes metric name (seeds 000, 001, 003).
func HPAMetricName(m KnownMetric) string {
	if m.Source == ServerGauge {
		return "prometheus.googleapis.com|" + m.Name + "|gauge"
	}
	return m.Name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
