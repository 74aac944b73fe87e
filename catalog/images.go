package catalog

// Pinned images and charts llmserve deploys besides the model server (whose image is a
// profile's). Each pin names where it was read.
const (
	// DefaultAdapterImage is the Custom Metrics Stackdriver Adapter image of the upstream
	// manifest GoogleCloudPlatform/k8s-stackdriver custom-metrics-stackdriver-adapter/deploy/
	// production/adapter_new_resource_model.yaml (commit 0857364d). Pin a newer one with
	// llmserve:metrics.adapterImage.
	DefaultAdapterImage = "gcr.io/gke-release/custom-metrics-stackdriver-adapter:v0.15.1-gke.0"
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
