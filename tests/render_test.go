package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRenderRegistersNoGCP (issue 11, point 1): rendering the dev environment registers no
// GCP resource and calls no GCP API (no cluster, pool, bucket, IAM member, project lookup),
// and the manifests use the names of the real stack dev-<model>: the bucket the real
// stack would create, the cluster's name.
func TestRenderRegistersNoGCP(t *testing.T) {
	cfg := loadStackFile(t, "Pulumi.dev.yaml").with("llmserve:model", "llama-3.1-70b").
		without("llmserve:overrides").with("llmserve:renderDir", t.TempDir())
	rec := mustRun(t, "dev-llama-3.1-70b", cfg)
	for _, typ := range rec.types() {
		assert.False(t, strings.HasPrefix(typ, "gcp:"), "render registered %s", typ)
	}
	for _, c := range rec.calls {
		assert.False(t, strings.HasPrefix(c.Token, "gcp:"), "render called %s", c.Token)
	}
	dep := in(rec.named(t, tDeployment, "llama-3-1-70b-vllm-deployment"))
	var bucket any
	for _, v := range dig(t, dep, "spec.template.spec.volumes").([]any) {
		if b, ok := v.(map[string]any)["csi"]; ok {
			bucket = dig(t, b, "volumeAttributes.bucketName")
		}
	}
	require.NotNil(t, bucket, "no GCS FUSE volume")
	assert.Equal(t, "my-project-llmserve-dev-llama-3-1-70b", bucket, "the bucket the real stack dev-llama-3.1-70b creates")
	// No token Secret in files a GitOps tool commits.
	assert.Empty(t, rec.byType(tSecret))
}
