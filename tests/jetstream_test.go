package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJetStreamRunsOnItsPins (issue 11, point 4): the gemma-7b JetStream server is wired as
// the pinned upstream images expect: the XLA cache through MaxText's jax_cache_dir key (it
// ignores JAX_COMPILATION_CACHE_DIR), /healthcheck probes on jetstream-http v0.2.3 (the tag
// GKE pairs with them), and the MaxText checkpoint made by a conversion Job on a TPU slice
// that the server waits for by its output path.
func TestJetStreamRunsOnItsPins(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:model", "gemma-7b").without("llmserve:overrides"))
	dep := server(t, rec)
	srv := container(t, dep, "server")
	assert.Contains(t, srv["args"], "jax_cache_dir=/xla-cache")
	assert.NotContains(t, envMap(srv), "JAX_COMPILATION_CACHE_DIR", "MaxText overrides it with jax_cache_dir")
	http := container(t, dep, "jetstream-http")
	assert.Equal(t, "us-docker.pkg.dev/cloud-tpu-images/inference/jetstream-http:v0.2.3", http["image"])
	for _, p := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
		assert.Equal(t, "/healthcheck", dig(t, http, p+".httpGet.path"), p)
	}

	job := in(rec.one(t, tJob))
	assert.Equal(t, "gemma-7b-jetstream-weights", dig(t, job, "metadata.name"))
	c := dig(t, job, "spec.template.spec.containers.0").(map[string]any)
	assert.Equal(t, "us-docker.pkg.dev/cloud-tpu-images/inference/inference-checkpoint:v0.2.4", c["image"])
	assert.Equal(t, []any{"-b=my-project-llmserve-dev", "-m=google/gemma/maxtext/7b-it/2"}, c["args"])
	assert.Equal(t, "8", dig(t, c, "resources.limits.google.com/tpu"), "the conversion runs MaxText on a slice")
	assert.Equal(t, dig(t, dep, "spec.template.spec.nodeSelector"), dig(t, job, "spec.template.spec.nodeSelector"))
	assert.Equal(t, "kaggle-secret", dig(t, job, "spec.template.spec.volumes.2.secret.secretName"))
	assert.Equal(t, "/kaggle/", dig(t, c, "volumeMounts.0.mountPath"))

	// The server waits for the converter's output path (the script exits 0 even when it did
	// nothing), and that path is what load_parameters_path reads.
	gate := initScript(t, dep, "wait-for-weights")
	assert.Contains(t, gate, `ready="/data/final/unscanned/gemma_7b-it/0/checkpoints/0/items"`)
	assert.Contains(t, srv["args"], "load_parameters_path=/data/final/unscanned/gemma_7b-it/0/checkpoints/0/items")
	require.NotNil(t, gate)
}
