package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHPAOnQueueSize(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	hpa := in(rec.one(t, tHPA))
	assert.Equal(t, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama-3-1-8b-vllm"}, dig(t, hpa, "spec.scaleTargetRef"))
	assert.Equal(t, dig(t, server(t, rec), "metadata.name"), dig(t, hpa, "spec.scaleTargetRef.name"))
	assert.Equal(t, 1.0, dig(t, hpa, "spec.minReplicas"), "Pulumi.dev.yaml: a small dev stack")
	assert.Equal(t, 2.0, dig(t, hpa, "spec.maxReplicas"))
	assert.Equal(t, []any{map[string]any{
		"type": "Pods",
		"pods": map[string]any{
			"metric": map[string]any{"name": "prometheus.googleapis.com|vllm:num_requests_waiting|gauge"},
			"target": map[string]any{"type": "AverageValue", "averageValue": "10"},
		},
	}, map[string]any{
		"type": "Pods",
		"pods": map[string]any{
			"metric": map[string]any{"name": "prometheus.googleapis.com|vllm:num_requests_running|gauge"},
			"target": map[string]any{"type": "AverageValue", "averageValue": "16"},
		},
	}}, dig(t, hpa, "spec.metrics"))
}

// TestHPABehaviorDefaults: seed 001's scale-up (no stabilization, 4 pods or 100% per 15s,
// the larger) and issue 10's scale-down (a 600s window, then one pod a minute).
func TestHPABehaviorDefaults(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	b := dig(t, in(rec.one(t, tHPA)), "spec.behavior")
	assert.Equal(t, map[string]any{
		"scaleUp": map[string]any{"stabilizationWindowSeconds": 0.0, "selectPolicy": "Max", "policies": []any{
			map[string]any{"type": "Pods", "value": 4.0, "periodSeconds": 15.0},
			map[string]any{"type": "Percent", "value": 100.0, "periodSeconds": 15.0},
		}},
		"scaleDown": map[string]any{"stabilizationWindowSeconds": 600.0, "selectPolicy": "Max", "policies": []any{
			map[string]any{"type": "Pods", "value": 1.0, "periodSeconds": 60.0},
		}},
	}, b)
}

func TestHPABehaviorOverride(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:overrides", m{"autoscaling": m{"behavior": m{
		"scaleDown": m{"stabilizationWindowSeconds": 300, "policies": []m{{"type": "Pods", "value": 1, "periodSeconds": 60}}},
	}}}))
	b := dig(t, in(rec.one(t, tHPA)), "spec.behavior").(map[string]any)
	assert.Equal(t, 300.0, dig(t, b, "scaleDown.stabilizationWindowSeconds"))
	assert.Equal(t, []any{map[string]any{"type": "Pods", "value": 1.0, "periodSeconds": 60.0}}, dig(t, b, "scaleDown.policies"))
	assert.Equal(t, 0.0, dig(t, b, "scaleUp.stabilizationWindowSeconds"), "scale-up keeps its defaults")
}

// TestHPAMultipleMetricsMixPodsAndExternal: server gauges are Pods metrics, accelerator
// memory is an External metric scoped to this cluster; fractions keep their value.
func TestHPAMultipleMetricsMixPodsAndExternal(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:overrides", m{"autoscaling": m{"metrics": []m{
		{"metric": "vllm:num_requests_waiting", "target": 10},
		{"metric": "vllm:kv_cache_usage_perc", "target": 0.8},
		{"metric": "kubernetes.io|node|accelerator|memory_used", "target": 25e9, "selector": m{"metric.labels.model": "tpu-v6e-slice"}},
	}}}))
	metrics := dig(t, in(rec.one(t, tHPA)), "spec.metrics").([]any)
	assert.Len(t, metrics, 3)
	assert.Equal(t, "prometheus.googleapis.com|vllm:kv_cache_usage_perc|gauge", dig(t, metrics[1], "pods.metric.name"))
	assert.Equal(t, "0.8", dig(t, metrics[1], "pods.target.averageValue"))
	assert.Equal(t, map[string]any{
		"type": "External",
		"external": map[string]any{
			"metric": map[string]any{
				"name": "kubernetes.io|node|accelerator|memory_used",
				"selector": map[string]any{"matchLabels": map[string]any{
					"resource.labels.cluster_name": "llm-dev",
					"metric.labels.model":          "tpu-v6e-slice",
				}},
			},
			"target": map[string]any{"type": "AverageValue", "averageValue": "25000000000"},
		},
	}, metrics[2])
}

func TestJetStreamHPAMetrics(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:model", "gemma-7b").without("llmserve:overrides"))
	metrics := dig(t, in(rec.one(t, tHPA)), "spec.metrics").([]any)
	var names, targets []any
	for _, x := range metrics {
		names = append(names, dig(t, x, "pods.metric.name"))
		targets = append(targets, dig(t, x, "pods.target.averageValue"))
	}
	assert.Equal(t, []any{"prometheus.googleapis.com|jetstream_prefill_backlog_size|gauge", "prometheus.googleapis.com|jetstream_slots_used_percentage|gauge"}, names)
	assert.Equal(t, []any{"10", "0.8"}, targets)
}
