package tests

import (
	"slices"
	"strings"
	"testing"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const (
	tRelease        = "kubernetes:helm.sh/v3:Release"
	tServiceMonitor = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
	tPrometheusRule = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
	tConfigMap      = "kubernetes:core/v1:ConfigMap"
)

// seed000Config: JetStream on TPU, prometheus-adapter over Managed Prometheus through the
// frontend, scaling on the backlog, the slots and TPU memory at once.
func seed000Config(t *testing.T) stackConfig {
	return devConfig(t).with("llmserve:model", "gemma-7b").
		with("llmserve:metrics", m{"adapter": "prometheus-adapter"}).
		with("llmserve:overrides", m{"autoscaling": m{"metrics": []m{
			{"metric": "jetstream_prefill_backlog_size", "target": 10},
			{"metric": "jetstream_slots_used_percentage", "target": 0.8},
			{"metric": "memory_used_percentage", "target": 0.9},
		}}})
}

// seed002Config: vLLM on an L4 with the Prometheus Operator, prometheus-adapter and DCGM.
func seed002Config(t *testing.T) stackConfig {
	return devConfig(t).with("llmserve:model", "gemma-3-1b-it").
		with("llmserve:metrics", m{"adapter": "prometheus-adapter", "backend": "prometheus-operator"}).
		with("llmserve:overrides", m{"autoscaling": m{"metrics": []m{
			{"metric": "vllm:num_requests_running", "target": 4},
			{"metric": "DCGM_FI_DEV_GPU_UTIL", "target": 80},
		}}})
}

func release(t *testing.T, rec *recorder, name string) map[string]any {
	t.Helper()
	for _, r := range rec.byType(tRelease) {
		if in(r)["name"] == name {
			return in(r)
		}
	}
	t.Fatalf("no helm release %s", name)
	return nil
}

// adapterRules re-reads the adapter's config file from its ConfigMap, strictly, the way
// prometheus-adapter does: rules (custom metrics) and externalRules.
func adapterRules(t *testing.T, rec *recorder) components.AdapterRules {
	t.Helper()
	raw := dig(t, in(rec.named(t, tConfigMap, "metrics-adapter-config")), "data.config.yaml").(string)
	var cfg struct {
		Rules         []components.AdapterRule `yaml:"rules"`
		ExternalRules []components.AdapterRule `yaml:"externalRules"`
	}
	dec := yaml.NewDecoder(strings.NewReader(raw))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&cfg), "the adapter config must parse:\n%s", raw)
	return components.AdapterRules{Custom: cfg.Rules, External: cfg.ExternalRules}
}

// adapterArg returns the value of a --flag= argument of the prometheus-adapter container.
func adapterArg(t *testing.T, rec *recorder, flag string) string {
	t.Helper()
	dep := in(rec.named(t, tDeployment, "metrics-adapter-deployment"))
	for _, a := range dig(t, dep, "spec.template.spec.containers.0.args").([]any) {
		if v, ok := strings.CutPrefix(a.(string), flag+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s argument", flag)
	return ""
}

func TestSeed000PrometheusAdapterOverManagedPrometheus(t *testing.T) {
	rec := mustRun(t, "dev", seed000Config(t))
	// The frontend runs as its own KSA, granted monitoring.viewer; no Stackdriver adapter:
	// the APIServices are prometheus-adapter's.
	for _, a := range rec.byType(tAPIService) {
		assert.Equal(t, "prometheus-adapter", dig(t, in(a), "spec.service.name"))
	}
	fe := in(rec.named(t, tDeployment, "prometheus-frontend-deployment"))
	c := dig(t, fe, "spec.template.spec.containers.0").(map[string]any)
	assert.Equal(t, "gke.gcr.io/prometheus-engine/frontend:v0.15.3-gke.0", c["image"])
	assert.Equal(t, []any{"--web.listen-address=:9090", "--query.project-id=my-project"}, c["args"])
	assert.Equal(t, "prometheus-frontend", dig(t, fe, "spec.template.spec.serviceAccountName"))
	iam := in(rec.one(t, tProjectMember))
	assert.Equal(t, "roles/monitoring.viewer", iam["role"])
	assert.True(t, strings.HasSuffix(iam["member"].(string), "/subject/ns/custom-metrics/sa/prometheus-frontend"), iam["member"])

	// prometheus-adapter as typed objects, no chart: nothing fetched at deploy time.
	assert.Empty(t, rec.byType(tRelease))
	assert.Equal(t, "http://prometheus-frontend.custom-metrics.svc:9090", adapterArg(t, rec, "--prometheus-url"))
	rules := adapterRules(t, rec)
	require.Len(t, rules.Custom, 2)
	require.Len(t, rules.External, 1)
	// Every query is scoped to this cluster and namespace: adapter queries are global.
	for _, r := range rules.Custom {
		assert.Contains(t, r.SeriesQuery, `namespace="llm"`)
		assert.Contains(t, r.SeriesQuery, `cluster="llm-dev"`)
		assert.Contains(t, r.MetricsQuery, `namespace="llm"`)
		assert.Contains(t, r.MetricsQuery, `cluster="llm-dev"`)
		assert.NotContains(t, r.SeriesQuery, "=~", "the frontend rejects regex matchers on metric names")
	}
	assert.Equal(t, "jetstream_prefill_backlog_size", rules.Custom[0].Name.As)
	assert.Equal(t, "memory_used_percentage", rules.External[0].Name.As)
	assert.Equal(t, `avg(kubernetes_io:node_accelerator_memory_used{cluster_name="llm-dev"}) / avg(kubernetes_io:node_accelerator_memory_total{cluster_name="llm-dev"})`, rules.External[0].MetricsQuery)

	// The HPA asks for exactly the names the rules serve.
	metrics := dig(t, in(rec.one(t, tHPA)), "spec.metrics").([]any)
	assert.Equal(t, "Pods", dig(t, metrics[0], "type"))
	assert.Equal(t, rules.Custom[0].Name.As, dig(t, metrics[0], "pods.metric.name"))
	assert.Equal(t, rules.Custom[1].Name.As, dig(t, metrics[1], "pods.metric.name"))
	assert.Equal(t, "External", dig(t, metrics[2], "type"))
	assert.Equal(t, map[string]any{"name": "memory_used_percentage"}, dig(t, metrics[2], "external.metric"), "the rule filters by cluster already")

	// TPU system metrics: the device plugin's PodMonitoring in kube-system, every 15s.
	var tpuPM map[string]any
	for _, p := range rec.byType(tPodMonitoring) {
		if dig(t, in(p), "metadata.namespace") == "kube-system" {
			tpuPM = in(p)
		}
	}
	require.NotNil(t, tpuPM)
	assert.Equal(t, map[string]any{"port": 2112.0, "interval": "15s"}, dig(t, tpuPM, "spec.endpoints.0"))
	assert.Equal(t, map[string]any{"k8s-app": "tpu-device-plugin"}, dig(t, tpuPM, "spec.selector.matchLabels"))
}

func TestSeed002PrometheusOperatorDCGM(t *testing.T) {
	rec := mustRun(t, "dev", seed002Config(t))
	assert.Empty(t, rec.byType(tPodMonitoring), "no Managed Prometheus objects on the operator backend")
	assert.Empty(t, rec.byType(tProjectMember), "nothing reads Cloud Monitoring")
	stack := release(t, rec, "kube-prometheus-stack")
	assert.Equal(t, "82.10.3", stack["version"])
	assert.Equal(t, "monitoring", stack["namespace"])
	assert.Equal(t, false, dig(t, stack, "values.prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues"))
	// On GKE, GKE's managed DCGM, not NVIDIA's chart (TestDCGMOnGKE).
	for _, r := range rec.byType(tRelease) {
		assert.NotEqual(t, "dcgm-exporter", in(r)["name"])
	}

	sm := in(rec.named(t, tServiceMonitor, "gemma-3-1b-it-vllm-monitoring-servicemonitor"))
	assert.Equal(t, "llm", dig(t, sm, "metadata.namespace"))
	assert.Equal(t, dig(t, in(rec.named(t, tService, "gemma-3-1b-it-vllm-service")), "metadata.labels.app.kubernetes.io/name"),
		dig(t, sm, "spec.selector.matchLabels.app.kubernetes.io/name"))
	assert.Equal(t, map[string]any{"port": "http", "path": "/metrics", "interval": "5s"}, dig(t, sm, "spec.endpoints.0"))
	rule := in(rec.one(t, tPrometheusRule))
	assert.Equal(t, "llmserve_gpu_utilization", dig(t, rule, "spec.groups.0.rules.0.record"))
	assert.Contains(t, dig(t, rule, "spec.groups.0.rules.0.expr"), `DCGM_FI_DEV_GPU_UTIL{exported_namespace="llm", exported_pod!=""}`)

	assert.Equal(t, "http://llmserve-prom-prometheus.monitoring.svc:9090", adapterArg(t, rec, "--prometheus-url"))
	rules := adapterRules(t, rec)
	require.Len(t, rules.Custom, 2)
	assert.Equal(t, "vllm_num_requests_running", rules.Custom[0].Name.As, "seed 002's rename: ':' is not valid in the API")
	assert.Equal(t, `vllm:num_requests_running{namespace="llm",pod!=""}`, rules.Custom[0].SeriesQuery)
	assert.NotContains(t, rules.Custom[0].MetricsQuery, "cluster=", "a local Prometheus has no cluster label")
	assert.Equal(t, "llmserve_gpu_utilization", rules.Custom[1].Name.As)

	metrics := dig(t, in(rec.one(t, tHPA)), "spec.metrics").([]any)
	assert.Equal(t, "vllm_num_requests_running", dig(t, metrics[0], "pods.metric.name"))
	assert.Equal(t, "llmserve_gpu_utilization", dig(t, metrics[1], "pods.metric.name"))
	assert.Equal(t, "80", dig(t, metrics[1], "pods.target.averageValue"))
}

// TestHPANamesMatchAdapterRules: for every metric the prometheus-adapter serves, the HPA
// name and the rule's name come from one function, so they cannot drift.
func TestHPANamesMatchAdapterRules(t *testing.T) {
	for _, km := range catalog.KnownMetrics() {
		rules, err := components.PrometheusAdapterRules([]string{km.Name}, components.RuleScope{
			Backend: catalog.BackendManaged, Cluster: "c", Namespace: "n",
		})
		require.NoError(t, err)
		served := append(rules.Custom, rules.External...)
		if !slices.Contains(km.Adapters, catalog.AdapterPrometheus) {
			assert.Empty(t, served, "%s is not served by prometheus-adapter: no rule", km.Name)
			continue
		}
		require.Len(t, served, 1, km.Name)
		assert.Equal(t, catalog.HPAMetricFor(catalog.AdapterPrometheus, km).Name, served[0].Name.As, km.Name)
	}
}

// TestDCGMOnGKE (issue 11, point 3): NVIDIA's dcgm-exporter chart fails on GKE ("NVML not
// found", NVIDIA/dcgm-exporter#484). A GPU cluster llmserve creates enables GKE's managed
// DCGM (monitoringConfig DCGM) and the operator scrapes GKE's exporter in
// gke-managed-system, as upstream gpu-service-monitor-gke.yaml; the plain exporter is only
// for an existing (maybe not GKE) cluster; TPU clusters enable no DCGM.
func TestDCGMOnGKE(t *testing.T) {
	rec := mustRun(t, "dev", seed002Config(t))
	assert.Equal(t, []any{"SYSTEM_COMPONENTS", "DCGM"}, dig(t, in(rec.one(t, tCluster)), "monitoringConfig.enableComponents"))
	sm := in(rec.named(t, tServiceMonitor, "gemma-3-1b-it-vllm-monitoring-gke-dcgm-servicemonitor"))
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "gke-managed-dcgm-exporter"}, dig(t, sm, "spec.selector.matchLabels"))
	assert.Equal(t, []any{"gke-managed-system"}, dig(t, sm, "spec.namespaceSelector.matchNames"))
	assert.Equal(t, map[string]any{"port": "metrics", "interval": "15s"}, dig(t, sm, "spec.endpoints.0"))
	for _, r := range rec.byType(tRelease) {
		assert.NotEqual(t, "dcgm-exporter", in(r)["name"], "NVIDIA's chart on GKE")
	}

	existing := seed002Config(t).with("llmserve:cluster", m{"mode": "existing"}).with("llmserve:gcpResources", "false").
		with("llmserve:modelStore", m{"bucket": "my-models"})
	rec = mustRun(t, "dev", existing)
	assert.Equal(t, "https://nvidia.github.io/dcgm-exporter/helm-charts", dig(t, release(t, rec, "dcgm-exporter"), "repositoryOpts.repo"))
	assert.Len(t, rec.byType(tServiceMonitor), 1, "no GKE exporter to scrape")

	rec = mustRun(t, "dev", devConfig(t))
	assert.Equal(t, []any{"SYSTEM_COMPONENTS"}, dig(t, in(rec.one(t, tCluster)), "monitoringConfig.enableComponents"))
}
