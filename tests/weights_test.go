package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const tJob = "kubernetes:batch/v1:Job"

// fakeHub puts a python3 on PATH that stands in for huggingface_hub's snapshot_download:
// it counts its runs in a file and writes two weight files into local_dir slowly.
func fakeHub(t *testing.T, dir string) (path string, runs string) {
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	runs = filepath.Join(dir, "downloads")
	script := `#!/bin/sh
# argv: -c <program> <repo_id> <local_dir>
echo run >> "` + runs + `"
sleep 1
echo weights > "$4/model-00001.safetensors"
echo config > "$4/config.json"
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "python3"), []byte(script), 0o755))
	return bin + string(os.PathListSeparator) + os.Getenv("PATH"), runs
}

// TestWeightsDownloadedOnce (issue 11, point 5) runs what the rendered objects run for a
// model with three replicas on an empty bucket (a directory standing in for it): the
// download Job's script (twice, as a retried Job would) and the three servers' weights
// gates, all at once. The weights are downloaded once, no server starts before they are
// complete, the servers mount the bucket read-only and load the local copy offline.
func TestWeightsDownloadedOnce(t *testing.T) {
	root := t.TempDir()
	bucket := filepath.Join(root, "data")
	require.NoError(t, os.MkdirAll(bucket, 0o755))
	three := m{"autoscaling": m{"minReplicas": 3, "maxReplicas": 3}, "storage": m{"mountPath": bucket}}
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:overrides", three))
	dep := server(t, rec)
	job := in(rec.one(t, tJob))

	// What the objects say: one Job pod at a time, the servers only read the bucket.
	assert.Equal(t, 1.0, dig(t, job, "spec.parallelism"))
	assert.Equal(t, 1.0, dig(t, job, "spec.completions"))
	assert.Equal(t, "true", dig(t, job, "spec.template.metadata.annotations.gke-gcsfuse/volumes"))
	for _, c := range containersOf(dig(t, dep, "spec.template.spec").(map[string]any)) {
		for _, vm := range c["volumeMounts"].([]any) {
			v := vm.(map[string]any)
			if v["name"] == "model-store" && c["name"] != "xla-cache-publish" {
				assert.Equal(t, true, v["readOnly"], "container %s mounts the bucket writable", c["name"])
			}
		}
	}
	srv := container(t, dep, "server")
	assert.Contains(t, srv["args"], "--model="+filepath.Join(bucket, "models/meta-llama/Llama-3.1-8B-Instruct"))
	assert.Equal(t, "1", envMap(srv)["HF_HUB_OFFLINE"])
	assert.Equal(t, "wait-for-weights", dig(t, dep, "spec.template.spec.initContainers.0.name"))

	download := dig(t, job, "spec.template.spec.containers.0.command.2").(string)
	wait := initScript(t, dep, "wait-for-weights")
	path, runs := fakeHub(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run := func(script string) (string, error) {
		cmd := exec.CommandContext(ctx, "sh", "-c", strings.ReplaceAll(script, "sleep 10", "sleep 0.2"))
		cmd.Env = append(os.Environ(), "PATH="+path)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	var wg sync.WaitGroup
	started := make([]time.Time, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := run(wait)
			assert.NoError(t, err, out)
			started[i] = time.Now()
		}()
	}
	out, err := run(download) // the Job
	require.NoError(t, err, out)
	out, err = run(download) // a retry, or the next `up` replacing the Job
	require.NoError(t, err, out)
	assert.Contains(t, out, "already complete")
	wg.Wait()

	raw, err := os.ReadFile(runs)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(raw), "run"), "the weights were downloaded more than once")
	model := filepath.Join(bucket, "models/meta-llama/Llama-3.1-8B-Instruct")
	assert.FileExists(t, filepath.Join(model, "model-00001.safetensors"))
	assert.FileExists(t, filepath.Join(model, ".llmserve-complete"))
	marker, err := os.Stat(filepath.Join(model, ".llmserve-complete"))
	require.NoError(t, err)
	for i, s := range started {
		assert.False(t, s.Before(marker.ModTime().Add(-10*time.Millisecond)), "replica %d started before the weights were complete", i)
	}
}
