package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gpuConfig is the dev stack serving seed 001's model on an L4.
func gpuConfig(t *testing.T) stackConfig {
	return devConfig(t).with("llmserve:model", "gemma-3-1b-it").without("llmserve:overrides")
}

func TestGPUPool(t *testing.T) {
	rec := mustRun(t, "dev", gpuConfig(t))
	assert.Empty(t, rec.byType("llmserve:gke:TPUNodePool"))
	rec.one(t, "llmserve:gke:GPUNodePool")
	pool := in(rec.named(t, tNodePool, "gpu-pool"))
	assert.Equal(t, "g2-standard-8", dig(t, pool, "nodeConfig.machineType"))
	assert.Equal(t, map[string]any{"type": "nvidia-l4", "count": 1.0, "gpuDriverInstallationConfig": map[string]any{"gpuDriverVersion": "LATEST"}},
		dig(t, pool, "nodeConfig.guestAccelerators.0"))
	assert.Equal(t, 6.0, dig(t, pool, "autoscaling.totalMaxNodeCount"), "maxReplicas 5 and a spare node for rolling updates")
}

func TestGPUServer(t *testing.T) {
	rec := mustRun(t, "dev", gpuConfig(t))
	dep := server(t, rec)
	assert.Equal(t, map[string]any{"cloud.google.com/gke-accelerator": "nvidia-l4"}, dig(t, dep, "spec.template.spec.nodeSelector"))
	c := container(t, dep, "server")
	assert.Equal(t, "vllm/vllm-openai:v0.19.1", c["image"])
	assert.Equal(t, "1", dig(t, c, "resources.limits.nvidia.com/gpu"))
	assert.Equal(t, "1", dig(t, c, "resources.requests.nvidia.com/gpu"))
	assert.Equal(t, "nvidia.com/gpu", dig(t, dep, "spec.template.spec.tolerations.0.key"))
	// No XLA on GPUs: no cache path, no restore/publish containers; only the weights gate.
	assert.NotContains(t, envMap(c), "VLLM_XLA_CACHE_PATH")
	inits := dig(t, dep, "spec.template.spec.initContainers").([]any)
	require.Len(t, inits, 1)
	assert.Equal(t, "wait-for-weights", dig(t, inits[0], "name"))
	hpa := in(rec.one(t, tHPA))
	assert.Equal(t, "prometheus.googleapis.com|vllm:num_requests_running|gauge", dig(t, hpa, "spec.metrics.0.pods.metric.name"))
	assert.Equal(t, "4", dig(t, hpa, "spec.metrics.0.pods.target.averageValue"))
}

func TestGPUSpotPool(t *testing.T) {
	rec := mustRun(t, "dev", gpuConfig(t).with("llmserve:pool", m{"spot": true, "driverVersion": "DEFAULT"}))
	pool := in(rec.named(t, tNodePool, "gpu-pool"))
	assert.Equal(t, true, dig(t, pool, "nodeConfig.spot"))
	assert.Equal(t, "DEFAULT", dig(t, pool, "nodeConfig.guestAccelerators.0.gpuDriverInstallationConfig.gpuDriverVersion"))
}

// TestGPUImageCacheDisk: a GPU pool takes pool.imageCacheDisk as a TPU pool does, beside its
// accelerators (the vLLM GPU image is as large: 28.6 GB, lab/coldstart.go).
func TestGPUImageCacheDisk(t *testing.T) {
	rec := mustRun(t, "dev", gpuConfig(t).with("llmserve:pool", m{"imageCacheDisk": "global/images/vllm-gpu-cache"}))
	pool := in(rec.named(t, tNodePool, "gpu-pool"))
	assert.Equal(t, "global/images/vllm-gpu-cache", dig(t, pool, "nodeConfig.secondaryBootDisks.0.diskImage"))
	assert.Equal(t, "CONTAINER_IMAGE_CACHE", dig(t, pool, "nodeConfig.secondaryBootDisks.0.mode"))
	assert.Equal(t, true, dig(t, pool, "nodeConfig.gcfsConfig.enabled"))
	assert.NotEmpty(t, dig(t, pool, "nodeConfig.guestAccelerators"))
}
