package tests

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// xlaPod is one replica's view: its pod-local cache directory and its name.
type xlaPod struct{ name, local string }

// initScript returns the shell script of an init container of the rendered Deployment.
func initScript(t *testing.T, dep map[string]any, name string) string {
	t.Helper()
	for _, c := range dig(t, dep, "spec.template.spec.initContainers").([]any) {
		cm := c.(map[string]any)
		if cm["name"] == name {
			cmd := cm["command"].([]any)
			require.Equal(t, []any{"sh", "-c"}, cmd[:2])
			return cmd[2].(string)
		}
	}
	t.Fatalf("no init container %s", name)
	return ""
}

func runScript(ctx context.Context, script string, pod xlaPod) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Env = append(os.Environ(), "XLA_CACHE_DIR="+pod.local, "POD_NAME="+pod.name)
	return cmd.CombinedOutput()
}

// TestXLACacheReplicasNeverShareAWritableDir runs the restore and publish scripts of the
// rendered Deployment for three replicas against a directory standing in for the bucket:
// two start together on an empty bucket, a third starts later.
func TestXLACacheReplicasNeverShareAWritableDir(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("python3 is needed to run the publish script's health check (it is in the server images)")
	}
	health := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			w.WriteHeader(http.StatusOK)
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go health.Serve(ln)
	defer health.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	root := t.TempDir()
	bucket := filepath.Join(root, "data")
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:overrides", m{
		"storage": m{"mountPath": bucket, "xlaCachePublishDelaySeconds": 1},
		"server":  m{"port": port},
	}))
	dep := server(t, rec)
	restore, publish := initScript(t, dep, "xla-cache-restore"), initScript(t, dep, "xla-cache-publish")

	// The engine's cache path is the pod-local emptyDir, not the bucket.
	assert.Equal(t, "/xla-cache", envMap(container(t, dep, "server"))["VLLM_XLA_CACHE_PATH"])
	found := false
	for _, v := range dig(t, dep, "spec.template.spec.volumes").([]any) {
		if v.(map[string]any)["name"] == "xla-cache" {
			found = true
			assert.Contains(t, v.(map[string]any), "emptyDir")
		}
	}
	require.True(t, found, "no xla-cache volume")
	// Restore only reads the bucket.
	mounts := dig(t, dep, "spec.template.spec.initContainers.0.volumeMounts.0").(map[string]any)
	assert.Equal(t, true, mounts["readOnly"])

	pods := []xlaPod{}
	for _, n := range []string{"server-a", "server-b", "server-c"} {
		dir := filepath.Join(root, n, "xla-cache")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		pods = append(pods, xlaPod{name: n, local: dir})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// a and b start on an empty bucket: nothing to restore, each compiles on its own.
	for _, p := range pods[:2] {
		out, err := runScript(ctx, restore, p)
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "nothing published")
		require.NoError(t, os.WriteFile(filepath.Join(p.local, "program-"+p.name), []byte(p.name), 0o644))
	}
	// Both publish at once. The script ends in `sleep infinity` (it is a sidecar): stop it
	// once its marker exists.
	pubCtx, stop := context.WithCancel(ctx)
	defer stop()
	for _, p := range pods[:2] {
		go runScript(pubCtx, publish, p)
	}
	shared := filepath.Join(bucket, "xla-cache")
	require.Eventually(t, func() bool {
		done, _ := filepath.Glob(filepath.Join(shared, "*", "*", "*", ".complete"))
		return len(done) >= 1
	}, 20*time.Second, 100*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // let a racing second publisher finish or decide
	stop()

	// Every published directory belongs to exactly one pod and holds only its programs.
	published, _ := filepath.Glob(filepath.Join(shared, "*", "*", "*"))
	require.NotEmpty(t, published)
	for _, dir := range published {
		owner := filepath.Base(dir)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			if e.Name() != ".complete" {
				assert.Equal(t, "program-"+owner, e.Name(), "%s holds another pod's file", dir)
			}
		}
	}
	// The cache key is the model's name and a hash: a different image gets a fresh directory.
	assert.True(t, strings.HasPrefix(published[0], filepath.Join(shared, "llama-3-1-8b-vllm")+"/"), published[0])

	// c starts later and begins from a published cache; nothing marks its local copy complete.
	out, err := runScript(ctx, restore, pods[2])
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "restored from")
	local, _ := os.ReadDir(pods[2].local)
	require.Len(t, local, 1)
	assert.True(t, strings.HasPrefix(local[0].Name(), "program-server-"), local[0].Name())

	// A restart of c publishes nothing: a complete cache exists already.
	again, _ := runScriptUntil(ctx, publish, pods[2], "already published")
	assert.Contains(t, again, "already published")
	_, err = os.Stat(filepath.Join(filepath.Dir(published[0]), "server-c"))
	assert.True(t, os.IsNotExist(err), "server-c must not publish over an existing cache")
}

// runScriptUntil runs a sidecar script until its output contains want (or it times out).
func runScriptUntil(ctx context.Context, script string, pod xlaPod, want string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Env = append(os.Environ(), "XLA_CACHE_DIR="+pod.local, "POD_NAME="+pod.name)
	var buf strings.Builder
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		return "", err
	}
	for ctx.Err() == nil && !strings.Contains(buf.String(), want) {
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return buf.String(), nil
}
