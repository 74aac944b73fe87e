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
	tServiceMonitor = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
	tPrometheusRule = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
	tConfigMap      = "kubernetes:core/v1:ConfigMap"
	tDaemonSet      = "kubernetes:apps/v1:DaemonSet"
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

// seed002Prometheus is the Prometheus of seed 002's kube-prometheus-stack (release
// kube-prometheus-stack in monitoring), by the Service the operator creates for it.
const seed002Prometheus = "http://prometheus-operated.monitoring.svc:9090"

// seed002Metrics is seed 002's pipeline: the cluster's Prometheus Operator and
// prometheus-adapter; the monitors carry the label kube-prometheus-stack selects by default.
func seed002Metrics() m {
	return m{"adapter": "prometheus-adapter", "backend": "prometheus-operator",
		"prometheusURL": seed002Prometheus, "monitorLabels": m{"release": "kube-prometheus-stack"}}
}

// seed002Config: vLLM on an L4 scaling on its running batch and DCGM GPU utilisation, through
// the Prometheus Operator of a GKE cluster llmserve did not create (cluster.mode existing: a
// cluster it creates has no operator, and Validate refuses the backend there); llmserve
// still creates the bucket and its grant. NVIDIA's DCGM exporter fails on GKE
// (NVIDIA/dcgm-exporter#484), so llmserve installs none: scrapeGKEDCGM makes the cluster's
// own Prometheus scrape GKE's managed exporter instead.
func seed002Config(t *testing.T) stackConfig {
	mt := seed002Metrics()
	mt["scrapeGKEDCGM"] = true
	return modeConfigs(t)["existing"].with("llmserve:model", "gemma-3-1b-it").
		with("llmserve:metrics", mt).
		with("llmserve:overrides", m{"autoscaling": m{"metrics": []m{
			{"metric": "vllm:num_requests_running", "target": 4},
			{"metric": "DCGM_FI_DEV_GPU_UTIL", "target": 80},
		}}})
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
	assert.Empty(t, helmReleases(rec))
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
	assert.Empty(t, rec.byType(tCluster), "the operator's cluster exists already")
	// The cluster's own Prometheus Operator: llmserve installs no chart and no Prometheus
	// (issue 11); on GKE no NVIDIA exporter but GKE's (scrapeGKEDCGM, TestDCGMOnGKE).
	assert.Empty(t, helmReleases(rec))
	assert.Empty(t, rec.byType(tDaemonSet))

	sm := in(rec.named(t, tServiceMonitor, "gemma-3-1b-it-vllm-monitoring-servicemonitor"))
	assert.Equal(t, "llm", dig(t, sm, "metadata.namespace"))
	assert.Equal(t, dig(t, in(rec.named(t, tService, "gemma-3-1b-it-vllm-service")), "metadata.labels.app.kubernetes.io/name"),
		dig(t, sm, "spec.selector.matchLabels.app.kubernetes.io/name"))
	assert.Equal(t, map[string]any{"port": "http", "path": "/metrics", "interval": "5s"}, dig(t, sm, "spec.endpoints.0"))
	rule := in(rec.one(t, tPrometheusRule))
	assert.Equal(t, "llmserve_gpu_utilization", dig(t, rule, "spec.groups.0.rules.0.record"))
	assert.Contains(t, dig(t, rule, "spec.groups.0.rules.0.expr"), `DCGM_FI_DEV_GPU_UTIL{exported_namespace="llm", exported_pod!=""}`)

	// Every monitor carries metrics.monitorLabels, so kube-prometheus-stack's default
	// selectors (release: <release>) pick it up.
	monitors := append(rec.byType(tServiceMonitor), rec.byType(tPrometheusRule)...)
	require.Len(t, monitors, 3, "the server's ServiceMonitor, GKE's DCGM exporter's, the GPU rule")
	for _, mon := range monitors {
		assert.Equal(t, "kube-prometheus-stack", dig(t, in(mon), "metadata.labels.release"), mon.Name)
	}

	assert.Equal(t, seed002Prometheus, adapterArg(t, rec, "--prometheus-url"))
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

// TestDCGMOnGKE (issue 11, point 3): NVIDIA's dcgm-exporter fails on GKE ("NVML not found",
// NVIDIA/dcgm-exporter#484). A GPU cluster llmserve creates enables GKE's managed DCGM
// (monitoringConfig DCGM), which Managed Prometheus scrapes itself; TPU clusters enable none.
// On an existing GKE cluster with a Prometheus Operator, scrapeGKEDCGM adds the ServiceMonitor
// of upstream kubernetes/examples gpu-service-monitor-gke.yaml (@ 929f82b) and no NVIDIA
// exporter; without it (llmserve cannot tell the cluster is GKE) NVIDIA's exporter is the
// default (TestDCGMExporterOnExistingCluster).
func TestDCGMOnGKE(t *testing.T) {
	rec := mustRun(t, "dev", gpuConfig(t))
	assert.Equal(t, []any{"SYSTEM_COMPONENTS", "DCGM"}, dig(t, in(rec.one(t, tCluster)), "monitoringConfig.enableComponents"))
	assert.Empty(t, rec.byType(tServiceMonitor), "managed-prometheus: GKE scrapes its own exporter")

	rec = mustRun(t, "dev", seed002Config(t))
	assert.Empty(t, rec.byType(tDaemonSet), "NVIDIA's exporter on GKE")
	sm := in(rec.named(t, tServiceMonitor, "gemma-3-1b-it-vllm-monitoring-gke-dcgm-servicemonitor"))
	assert.Equal(t, "llm", dig(t, sm, "metadata.namespace"))
	assert.Equal(t, "kube-prometheus-stack", dig(t, sm, "metadata.labels.release"), "the cluster's Prometheus selects it")
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "gke-managed-dcgm-exporter"}, dig(t, sm, "spec.selector.matchLabels"))
	assert.Equal(t, []any{"gke-managed-system"}, dig(t, sm, "spec.namespaceSelector.matchNames"))
	assert.Equal(t, map[string]any{"port": "metrics", "interval": "15s"}, dig(t, sm, "spec.endpoints.0"))

	rec = mustRun(t, "dev", seed002Config(t).with("llmserve:metrics", seed002Metrics()))
	for _, sm := range rec.byType(tServiceMonitor) {
		assert.NotContains(t, sm.Name, "gke-dcgm", "scrapeGKEDCGM is off by default: llmserve cannot tell an existing cluster is GKE")
	}

	rec = mustRun(t, "dev", devConfig(t))
	assert.Equal(t, []any{"SYSTEM_COMPONENTS"}, dig(t, in(rec.one(t, tCluster)), "monitoringConfig.enableComponents"))
}

// seed002NoGCP is seed 002 on a cluster that may not be GKE, with no GCP resources: NVIDIA's
// DCGM exporter is llmserve's to install there.
func seed002NoGCP(t *testing.T) stackConfig {
	return modeConfigs(t)["existing-no-gcp"].with("llmserve:model", "gemma-3-1b-it").
		with("llmserve:metrics", seed002Metrics()).
		with("llmserve:modelStore", m{"bucket": "my-models"}).
		with("llmserve:overrides", m{"autoscaling": m{"metrics": []m{
			{"metric": "vllm:num_requests_running", "target": 4},
			{"metric": "DCGM_FI_DEV_GPU_UTIL", "target": 80},
		}}})
}

// TestDCGMExporterOnExistingCluster (issue 11, point 2): NVIDIA's DCGM exporter is typed
// objects built after its chart 4.8.3 (DaemonSet, Service, ServiceMonitor), not a chart
// fetched at deploy time, in a namespace of its own whose Pod Security level admits
// CAP_SYS_ADMIN and the kubelet's pod-resources hostPath.
func TestDCGMExporterOnExistingCluster(t *testing.T) {
	rec := mustRun(t, "dev", seed002NoGCP(t))
	assert.Empty(t, helmReleases(rec))
	rec.one(t, "llmserve:monitoring:DCGMExporter")

	ns := in(rec.named(t, tNamespace, "dcgm-exporter-ns"))
	assert.Equal(t, "dcgm-exporter", dig(t, ns, "metadata.name"))
	assert.Equal(t, "privileged", dig(t, ns, "metadata.labels.pod-security.kubernetes.io/enforce"))
	assert.Equal(t, "restricted", dig(t, ns, "metadata.labels.pod-security.kubernetes.io/warn"))

	dsRec := rec.one(t, tDaemonSet)
	assert.Equal(t, "llmserve:monitoring:DCGMExporter", parentType(dsRec))
	ds := in(dsRec)
	assert.Equal(t, "dcgm-exporter", dig(t, ds, "metadata.namespace"))
	spec := dig(t, ds, "spec.template.spec").(map[string]any)
	c := dig(t, spec, "containers.0").(map[string]any)
	assert.Equal(t, "nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-distroless", c["image"])
	assert.Contains(t, c["env"], map[string]any{"name": "DCGM_EXPORTER_KUBERNETES", "value": "true"})
	assert.Contains(t, c["env"], map[string]any{"name": "DCGM_EXPORTER_LISTEN", "value": ":9400"})
	assert.Equal(t, []any{map[string]any{"name": "metrics", "containerPort": 9400.0, "protocol": "TCP"}}, c["ports"])
	assert.Equal(t, []any{"SYS_ADMIN"}, dig(t, c, "securityContext.capabilities.add"))
	assert.Equal(t, []any{"ALL"}, dig(t, c, "securityContext.capabilities.drop"))
	assert.Equal(t, false, dig(t, c, "securityContext.allowPrivilegeEscalation"))
	assert.Equal(t, map[string]any{"name": "pod-gpu-resources", "hostPath": map[string]any{"path": "/var/lib/kubelet/pod-resources"}}, dig(t, spec, "volumes.0"))
	assert.Equal(t, map[string]any{"name": "pod-gpu-resources", "mountPath": "/var/lib/kubelet/pod-resources", "readOnly": true}, dig(t, c, "volumeMounts.0"))
	// GPU nodes only, tolerating their taint, as llmserve's values for the chart were.
	assert.Equal(t, []any{map[string]any{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}}, spec["tolerations"])
	assert.Equal(t, map[string]any{"key": "cloud.google.com/gke-accelerator", "operator": "Exists"},
		dig(t, spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0"))

	svc := in(rec.named(t, tService, "dcgm-exporter-service"))
	assert.Equal(t, dig(t, ds, "spec.selector.matchLabels"), dig(t, svc, "spec.selector"))
	assert.Equal(t, 9400.0, dig(t, svc, "spec.ports.0.port"))
	sm := in(rec.named(t, tServiceMonitor, "dcgm-exporter-servicemonitor"))
	assert.Equal(t, "dcgm-exporter", dig(t, sm, "metadata.namespace"))
	assert.Equal(t, "kube-prometheus-stack", dig(t, sm, "metadata.labels.release"), "metrics.monitorLabels")
	assert.Equal(t, dig(t, ds, "spec.selector.matchLabels"), dig(t, sm, "spec.selector.matchLabels"))
	assert.Equal(t, map[string]any{"port": "metrics", "path": "/metrics", "interval": "15s", "honorLabels": false}, dig(t, sm, "spec.endpoints.0"))
	assert.Len(t, rec.byType(tServiceMonitor), 2, "the server's and the exporter's; no GKE exporter to scrape")

	// A second model of the cluster (or another stack) installed it already.
	rec = mustRun(t, "dev", seed002NoGCP(t).with("llmserve:metrics", m{"adapter": "prometheus-adapter", "backend": "prometheus-operator",
		"prometheusURL": seed002Prometheus, "installDCGMExporter": false}))
	assert.Empty(t, rec.byType("llmserve:monitoring:DCGMExporter"))
	assert.Empty(t, rec.byType(tDaemonSet))
}

// TestPrometheusURLIsTheConfiguredOne: prometheus-adapter queries exactly
// llmserve:metrics.prometheusURL (issue 11: llmserve installs no Prometheus of its own).
func TestPrometheusURLIsTheConfiguredOne(t *testing.T) {
	url := "https://prometheus-k8s.observability.svc:9443/prom"
	rec := mustRun(t, "dev", seed002Config(t).with("llmserve:metrics", m{"adapter": "prometheus-adapter", "backend": "prometheus-operator", "prometheusURL": url}))
	assert.Equal(t, url, adapterArg(t, rec, "--prometheus-url"))
	for _, mon := range append(rec.byType(tServiceMonitor), rec.byType(tPrometheusRule)...) {
		assert.NotContains(t, dig(t, in(mon), "metadata.labels"), "release", "no monitorLabels set: %s", mon.Name)
	}
}
