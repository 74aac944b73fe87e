//go:build integration

package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// TestRenderCommandOffline (issue 11, point 1) runs the README's example through the built
// command, `llmserve render --env dev --model llama-3.1-70b --out DIR` from the repository
// root, as a newcomer would after `make tools`: no pulumi on PATH and no LLMSERVE_* tool
// variables (the command finds what `make tools` built), no passphrase, no backend, no cloud
// credentials, an empty PULUMI_HOME (no GCP plugin: registering any GCP resource fails)
// and no terminal to prompt on.
func TestRenderCommandOffline(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "llmserve")
	build := exec.Command("go", "build", "-o", bin, "./cmd/llmserve")
	build.Dir = ".."
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	home, _ := os.UserHomeDir()
	var env []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "LLMSERVE_TOOLS" && v == filepath.Join(home, ".cache", "llmserve", "tools"):
			continue // the default: the command must find it unaided
		case strings.HasPrefix(k, "LLMSERVE_") && k != "LLMSERVE_TOOLS",
			strings.HasPrefix(k, "PULUMI_"), strings.HasPrefix(k, "GOOGLE_"), strings.HasPrefix(k, "CLOUDSDK_"):
			continue
		case k == "PATH":
			var keep []string
			for _, d := range filepath.SplitList(v) {
				if _, err := os.Stat(filepath.Join(d, "pulumi")); err != nil {
					keep = append(keep, d)
				}
			}
			kv = "PATH=" + strings.Join(keep, string(os.PathListSeparator))
		}
		env = append(env, kv)
	}
	env = append(env, "PULUMI_HOME="+filepath.Join(tmp, "pulumi-home"), "CLOUDSDK_CONFIG="+filepath.Join(tmp, "gcloud"))

	dir := filepath.Join(tmp, "rendered")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "render", "--env", "dev", "--model", "llama-3.1-70b", "--out", dir)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = "..", env, &stdout, &stderr
	require.NoError(t, cmd.Run(), "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	assert.Contains(t, stdout.String(), "dev-llama-3.1-70b: render: create ")
	assert.NotContains(t, stderr.String(), "gcp:", "render registered a GCP resource")

	kinds := map[string]int{}
	var bucket string
	var objs []*unstructured.Unstructured
	files, err := filepath.Glob(filepath.Join(dir, "1-manifest", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal(raw, &doc), f)
		kinds[doc["kind"].(string)]++
		// Decoded again the apiserver's way (JSON numbers: int64, float64), which
		// unstructured objects need.
		var obj map[string]any
		require.NoError(t, utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096).Decode(&obj), f)
		objs = append(objs, &unstructured.Unstructured{Object: obj})
		if doc["kind"] == "Deployment" && strings.Contains(string(raw), "gcsfuse.csi.storage.gke.io") {
			for _, v := range dig(t, doc, "spec.template.spec.volumes").([]any) {
				if b, ok := v.(map[string]any)["csi"]; ok {
					bucket = dig(t, b, "volumeAttributes.bucketName").(string)
				}
			}
		}
	}
	assert.Zero(t, kinds["Secret"], "render leaves the token Secret out")
	for _, k := range []string{"Namespace", "Deployment", "Service", "HorizontalPodAutoscaler", "PodMonitoring"} {
		assert.NotZero(t, kinds[k], "no %s rendered: %v", k, kinds)
	}
	assert.Equal(t, "my-project-llmserve-dev-llama-3-1-70b", bucket, "the real stack's bucket, not a render stack's")
	// The default stack of vLLM on a cluster llmserve creates routes through GKE Inference
	// Gateway (issue 20), and the apiserver with the upstream CRDs accepts every object of it.
	for _, k := range []string{"Gateway", "HTTPRoute", "InferencePool", "HealthCheckPolicy", "GCPBackendPolicy"} {
		assert.Equal(t, 1, kinds[k], "%s rendered: %v", k, kinds)
	}
	c := kubeClient(t)
	ensureNamespaces(t, c, objs)
	for _, o := range objs {
		if err := dryRunApply(context.Background(), c, o); err != nil {
			t.Errorf("%s: rejected by the apiserver: %v", kubeRef(o), err)
		}
	}

	// A second render replaces the first: same files, no leftovers, still no prompt.
	cmd = exec.Command(bin, "render", "--env", "dev", "--model", "llama-3.1-70b", "--out", dir)
	cmd.Dir, cmd.Env = "..", env
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	again, _ := filepath.Glob(filepath.Join(dir, "1-manifest", "*.yaml"))
	assert.Equal(t, files, again)
}
