package catalog

// Pinned images llmserve deploys besides the model server (whose image is a
// profile's). Each pin names where it was read.
const (
	// DefaultAdapterImage is the Custom Metrics Stackdriver Adapter: upstream's manifests
	// (GoogleCloudPlatform/k8s-stackdriver custom-metrics-stackdriver-adapter/deploy/
	// production/adapter_new_resource_model.yaml) moved to v0.16.10-gke.0 in PR #1245
	// (merged; the manifest read at v0.16.7-gke.0, commit 11bc7136, is otherwise the one
	// StackdriverAdapter builds, readiness probe from PR #967 included). Pin another with
	// llmserve:metrics.adapterImage.
	DefaultAdapterImage = "gcr.io/gke-release/custom-metrics-stackdriver-adapter:v0.16.10-gke.0"
	// DefaultFrontendImage is the Managed Prometheus query frontend of upstream's
	// examples/frontend.yaml (GoogleCloudPlatform/prometheus-engine @ 0388154), the newest
	// tag a Google-owned source pins (GKE's seed 000 page still shows v0.8.0-gke.4).
	DefaultFrontendImage = "gke.gcr.io/prometheus-engine/frontend:v0.15.3-gke.0"
	// JetStreamCheckpointImage converts Kaggle checkpoints to MaxText ones: the tag GKE's
	// "Serve Gemma using TPUs on GKE with JetStream" tutorial pins (ai-on-gke's
	// checkpoint-job.yaml @ 6c9eb40 pins v0.2.2; both run checkpoint_converter.sh).
	JetStreamCheckpointImage = "us-docker.pkg.dev/cloud-tpu-images/inference/inference-checkpoint:v0.2.4"
	// KaggleSecret is the Secret with kaggle.json the conversion Job mounts (the
	// tutorial's name): kubectl create secret generic kaggle-secret --from-file=kaggle.json
	KaggleSecret = "kaggle-secret"
	// PrometheusAdapterImage is kubernetes-sigs/prometheus-adapter v0.12.0, the latest
	// release ("Cut release 0.12.0", PR #660) and the appVersion of the prometheus-community
	// chart 5.3.0 (charts/prometheus-adapter/Chart.yaml @ ebc6a00), from the registry its
	// README names for releases after v0.8.4. Its Dockerfile ends USER 65534 (@ 03e8eb8).
	PrometheusAdapterImage = "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0"
	// DCGMExporterImage is NVIDIA's DCGM exporter 4.8.3 on DCGM 4.6.0: the image tag of its
	// Helm chart 4.8.3 (NVIDIA/dcgm-exporter deployment/values.yaml image.tag and Chart.yaml
	// @ 7ad5832), the chart whose objects components.DCGMExporter builds. The distroless
	// variant the chart pins copies etc/ (default-counters.csv) to /etc/dcgm-exporter
	// (docker/Dockerfile.distroless).
	DCGMExporterImage = "nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-distroless"
)

// JetStreamCheckpoints are the Kaggle handles of the MaxText checkpoints llmserve converts,
// by JetStream model name. checkpoint_converter.sh writes <bucket>/final/unscanned/
// <model>_<variation>/0/checkpoints/0/items for -m=<org>/<model>/maxtext/<variation>/<ver>
// (ai-on-gke tutorials-and-examples/inference-servers/checkpoints/checkpoint_converter.sh @
// 345c541), which is the profile's checkpointPath.
var JetStreamCheckpoints = map[string]string{
	"gemma-7b": "google/gemma/maxtext/7b-it/2",
}
