package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCurrentImages (issue 11, point 9): every image llmserve deploys is the current pin
// (catalog/images.go and the profiles name where each was read), and the Stackdriver
// adapter carries upstream's readiness probe.
func TestCurrentImages(t *testing.T) {
	want := map[string]bool{
		"gcr.io/gke-release/custom-metrics-stackdriver-adapter:v0.16.10-gke.0": true,
		"gke.gcr.io/prometheus-engine/frontend:v0.15.3-gke.0":                  true,
		"registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0":        true,
		"vllm/vllm-tpu:v0.27.0":    true,
		"vllm/vllm-openai:v0.19.1": true,
		"us-docker.pkg.dev/cloud-tpu-images/inference/maxengine-server:v0.2.2":     true,
		"us-docker.pkg.dev/cloud-tpu-images/inference/jetstream-http:v0.2.3":       true,
		"us-docker.pkg.dev/cloud-tpu-images/inference/inference-checkpoint:v0.2.4": true,
		"nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-distroless":                  true,
		// The endpoint picker of routing gateway (catalog.EPPImage, issue 20).
		"registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0": true,
	}
	seen := map[string]bool{}
	for _, tc := range securityConfigs(t) {
		for _, o := range kubeObjects(t, mustRun(t, "dev", tc.cfg)) {
			spec := podSpecOf(t, o)
			if spec == nil {
				continue
			}
			for _, c := range containersOf(spec) {
				img := c["image"].(string)
				seen[img] = true
				assert.True(t, want[img], "%s container %s: image %s is not a current pin", kubeRef(o), c["name"], img)
				if o.GetName() == "custom-metrics-stackdriver-adapter" && o.GetKind() == "Deployment" {
					assert.Equal(t, map[string]any{
						"httpGet":             map[string]any{"path": "/healthz", "port": 443.0, "scheme": "HTTPS"},
						"initialDelaySeconds": 40.0, "periodSeconds": 10.0, "timeoutSeconds": 5.0,
					}, c["readinessProbe"], "upstream's readiness probe (k8s-stackdriver PR #967)")
				}
			}
		}
	}
	assert.True(t, seen["gcr.io/gke-release/custom-metrics-stackdriver-adapter:v0.16.10-gke.0"], "the adapter was not deployed: %v", seen)
	assert.True(t, seen["nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-distroless"], "the DCGM exporter was not deployed: %v", seen)
	assert.True(t, seen["registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0"], "the endpoint picker was not deployed: %v", seen)
}
