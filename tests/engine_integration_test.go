//go:build integration

package tests

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The real-engine layer: the pulumi CLI and the Kubernetes provider plugin, driven through
// the embedding API (deploy.Open) with the inline stacks.Program, deploy the existing-no-gcp
// stack to the envtest apiserver. envtest has no kubelet (so every object is skipAwait) and
// no controller-manager (so no namespace controller: a deleted namespace stays Terminating
// until engRemoveNamespace finalizes it, as the namespace controller would once it is empty).

const (
	engBucket       = "my-weights"
	engHPAMetric    = "prometheus.googleapis.com|vllm:num_requests_waiting|gauge"
	engAdapterNS    = "custom-metrics"
	engOpTimeout    = 3 * time.Minute
	engLlama        = "llama-3.1-8b"
	engLlamaObjects = "llama-3-1-8b-vllm"
)

// engSettings is Pulumi.dev.yaml in the existing-no-gcp mode (tests/infra_test.go
// modeConfigs), pointed at the envtest apiserver, in its own namespace.
func engSettings(namespace string) deploy.Settings {
	noGCP := false
	return deploy.Settings{
		Project: "my-project", Region: "us-central1",
		GCPResources: &noGCP,
		Cluster:      stacks.ClusterConfig{Mode: "existing", Name: "mine", Kubeconfig: string(apiServer.kubeconfig)},
		ModelStore:   stacks.ModelStoreConfig{Bucket: engBucket},
		Serving:      stacks.ServingConfig{Namespace: namespace},
		Overrides:    map[string]any{"autoscaling": map[string]any{"minReplicas": 1, "maxReplicas": 2}},
		HFToken:      testToken,
		SkipAwait:    true, // no kubelet: nothing would ever become ready
	}
}

// engBufferOverrides are engSettings' overrides with n spare nodes held by placeholders.
func engBufferOverrides(n int) map[string]any {
	return map[string]any{"autoscaling": map[string]any{"minReplicas": 1, "maxReplicas": 2, "buffer": map[string]any{"replicas": n}}}
}

// engEnv is one user's machine: a file:// backend, PULUMI_HOME and work dir of its own, the
// pinned CLI, and the provider plugin found on PATH (no download: there is no network).
type engEnv struct {
	dir      string
	progress *syncBuffer
}

func newEngEnv(t testing.TB) *engEnv {
	t.Helper()
	e := &engEnv{dir: t.TempDir(), progress: &syncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("engine output:\n%s", e.progress.String())
		}
	})
	return e
}

func (e *engEnv) options(s deploy.Settings) deploy.Options {
	return deploy.Options{
		Backend:    "file://" + filepath.Join(e.dir, "state"),
		Passphrase: "llmserve-integration",
		PulumiHome: filepath.Join(e.dir, "pulumi-home"),
		WorkDir:    filepath.Join(e.dir, "work"),
		PulumiBin:  requireEnv("LLMSERVE_PULUMI_BIN"),
		PluginDirs: []string{requireEnv("LLMSERVE_PULUMI_K8S_BIN")},
		Settings:   s,
		Progress:   e.progress,
		Env:        map[string]string{"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"},
	}
}

// open opens a stack and, when the test ends, destroys whatever it still holds (a failed
// test must not leave objects that break the next one).
func (e *engEnv) open(t testing.TB, ctx context.Context, target deploy.Target, s deploy.Settings) *deploy.Stack {
	t.Helper()
	st, err := deploy.Open(ctx, target, e.options(s))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), engOpTimeout)
		defer cancel()
		if _, _, err := engDestroy(t, ctx, st); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return st
}

// engUp deploys a stack, fails the test if it cannot, and returns the result and the
// Kubernetes objects its state then holds.
func engUp(t testing.TB, ctx context.Context, st *deploy.Stack) (deploy.Result, []stateObject) {
	t.Helper()
	res, err := st.Up(ctx)
	require.NoError(t, err)
	t.Logf("%s up: %s", st.Name(), summaryString(res))
	export, err := st.Export(ctx)
	require.NoError(t, err)
	return res, stateObjects(t, export)
}

// engDestroy destroys a stack with engControllers running on its objects, and returns the
// objects it held.
func engDestroy(t testing.TB, ctx context.Context, st *deploy.Stack) (deploy.Result, []stateObject, error) {
	t.Helper()
	export, err := st.Export(ctx)
	if err != nil {
		return deploy.Result{}, nil, err
	}
	objs := stateObjects(t, export)
	stop := engControllers(t, objs)
	defer stop()
	res, err := st.Destroy(ctx)
	return res, objs, err
}

// syncBuffer collects the engine's progress: the CLI's stdout and stderr are copied to it
// from two goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func engClient(t testing.TB) client.Client {
	t.Helper()
	c, err := client.New(apiServer.cfg, client.Options{})
	require.NoError(t, err)
	return c
}

// engSuffix makes names unique across tests and runs against the same apiserver.
func engSuffix() string { return fmt.Sprintf("%06x", time.Now().UnixNano()&0xffffff) }

// engRemoveNamespace deletes a namespace and finalizes it, as the namespace controller that
// envtest does not run would once the namespace is empty. Tests call it for namespaces they
// own (and for the adapter's, which the acceptance tests create for their dry runs).
func engRemoveNamespace(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(apiServer.cfg)
	require.NoError(t, err)
	ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return
	}
	require.NoError(t, err)
	if ns.DeletionTimestamp == nil {
		err := cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		if !apierrors.IsNotFound(err) {
			require.NoError(t, err)
		}
		if ns, err = cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
		require.NoError(t, err)
	}
	if err := engFinalizeNamespace(ctx, cs, ns); !apierrors.IsNotFound(err) {
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		_, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 30*time.Second, 100*time.Millisecond, "namespace %s not removed", name)
}

// engCreateNamespace creates a namespace the stack does not own.
func engCreateNamespace(t testing.TB, c client.Client, name string) {
	t.Helper()
	err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
}

// engControllers stands in, while a destroy runs, for the two controllers envtest lacks and
// every real cluster runs: the garbage collector, which removes the foregroundDeletion
// finalizer of an object with no dependents (the Kubernetes provider deletes with foreground
// propagation and waits until the object is gone), and the namespace controller, which
// finalizes a deleted namespace once it is empty. It acts only on the listed objects, and
// only once they are being deleted. The returned func stops it.
func engControllers(t testing.TB, objs []stateObject) (stop func()) {
	t.Helper()
	c := engClient(t)
	cs, err := kubernetes.NewForConfig(apiServer.cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, o := range objs {
				u, err := getObject(ctx, c, o)
				if err != nil || u.GetDeletionTimestamp() == nil {
					continue
				}
				if o.kind == "Namespace" {
					engFinalizeIfEmpty(ctx, cs, c, o.name, objs)
					continue
				}
				if fin := u.GetFinalizers(); len(fin) > 0 && onlyGCFinalizers(fin) {
					patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))
					_ = c.Patch(ctx, u, patch)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// onlyGCFinalizers: the finalizers are the garbage collector's own (foreground or orphan
// propagation), none of another controller.
func onlyGCFinalizers(fin []string) bool {
	for _, f := range fin {
		if f != metav1.FinalizerDeleteDependents && f != metav1.FinalizerOrphanDependents {
			return false
		}
	}
	return true
}

// engFinalizeIfEmpty finalizes a deleted namespace when none of the listed objects is left in
// it, as the namespace controller would after emptying it.
func engFinalizeIfEmpty(ctx context.Context, cs kubernetes.Interface, c client.Client, ns string, objs []stateObject) {
	for _, o := range objs {
		if o.namespace != ns {
			continue
		}
		if _, err := getObject(ctx, c, o); !apierrors.IsNotFound(err) {
			return
		}
	}
	n, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		return
	}
	engFinalizeNamespace(ctx, cs, n)
}

// engFinalizeNamespace does, for a deleted namespace, what the namespace controller (the
// spec finalizer "kubernetes") and the garbage collector (foregroundDeletion, when Pulumi
// deleted it with foreground propagation) would do.
func engFinalizeNamespace(ctx context.Context, cs kubernetes.Interface, n *corev1.Namespace) error {
	if len(n.Spec.Finalizers) > 0 {
		n.Spec.Finalizers = nil
		var err error
		if n, err = cs.CoreV1().Namespaces().Finalize(ctx, n, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	if len(n.Finalizers) > 0 && onlyGCFinalizers(n.Finalizers) {
		_, err := cs.CoreV1().Namespaces().Patch(ctx, n.Name, types.MergePatchType,
			[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		return err
	}
	return nil
}

// assertNoLeak fails when secret appears in text, showing where (not the whole text).
func assertNoLeak(t *testing.T, what, text, secret string) {
	t.Helper()
	for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
		if i := strings.Index(text, form); i >= 0 {
			from, to := max(0, i-400), min(len(text), i+len(form)+100)
			t.Errorf("%s holds the token (%d bytes in): ...%s...", what, i, text[from:to])
		}
	}
}

// stateObject is a Kubernetes object the stack's state says Pulumi manages.
type stateObject struct {
	apiVersion, kind, namespace, name string
}

func (o stateObject) String() string {
	if o.namespace == "" {
		return o.kind + " " + o.name
	}
	return o.kind + " " + o.namespace + "/" + o.name
}

// stateObjects lists the Kubernetes objects in a `pulumi stack export`.
func stateObjects(t testing.TB, export []byte) []stateObject {
	t.Helper()
	var doc struct {
		Deployment struct {
			Resources []struct {
				Type    string         `json:"type"`
				Outputs map[string]any `json:"outputs"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	require.NoError(t, json.Unmarshal(export, &doc))
	var out []stateObject
	for _, r := range doc.Deployment.Resources {
		if !strings.HasPrefix(r.Type, "kubernetes:") {
			continue // the stack, our components, the provider
		}
		meta, _ := r.Outputs["metadata"].(map[string]any)
		o := stateObject{apiVersion: fmt.Sprint(r.Outputs["apiVersion"]), kind: fmt.Sprint(r.Outputs["kind"])}
		o.name, _ = meta["name"].(string)
		o.namespace, _ = meta["namespace"].(string)
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// getObject reads an object from the apiserver.
func getObject(ctx context.Context, c client.Client, o stateObject) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(o.apiVersion)
	u.SetKind(o.kind)
	return u, c.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: o.name}, u)
}

func summaryString(r deploy.Result) string { return fmt.Sprint(r.Summary) }

// TestEngineLifecycle: up creates every object, a preview right after changes nothing, one
// changed HPA target is one update, the state holds no plaintext token, destroy removes it all.
func TestEngineLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), engOpTimeout)
	defer cancel()
	c := engClient(t)
	ns := "engine-" + engSuffix()
	// The adapter's namespace is the stack's to create; the acceptance tests create it for
	// their dry runs, and it must not exist when up creates it.
	engRemoveNamespace(t, engAdapterNS)
	t.Cleanup(func() { engRemoveNamespace(t, ns); engRemoveNamespace(t, engAdapterNS) })

	env := newEngEnv(t)
	target := deploy.Target{Env: "dev", Model: engLlama}
	settings := engSettings(ns)
	st := env.open(t, ctx, target, settings)
	require.Equal(t, "dev-llama-3.1-8b", st.Name())

	// up
	up, objs := engUp(t, ctx, st)
	require.NotEmpty(t, objs)
	for op := range up.Summary {
		assert.Contains(t, []string{"create", "same"}, op, "a first up only creates: %s", summaryString(up))
	}
	// Every Kubernetes object, the provider, 10 components and the stack are created.
	assert.Greater(t, up.Summary["create"], len(objs))
	for _, o := range objs {
		_, err := getObject(ctx, c, o)
		assert.NoError(t, err, "%s is in the state but not in the cluster", o)
	}
	t.Logf("%d Kubernetes objects: %v", len(objs), objs)
	assert.Equal(t, ns, up.Outputs["namespace"])
	assert.Equal(t, engLlamaObjects, up.Outputs["deployment"])
	assert.Equal(t, engBucket, up.Outputs["bucket"])
	assert.Equal(t, deploy.SecretMask, up.Outputs["kubeconfig"], "the kubeconfig output is secret")
	assert.Equal(t, fmt.Sprintf("http://%s.%s.svc.cluster.local:8000", engLlamaObjects, ns), up.Outputs["endpoint"])

	// What the server stored: the HPA's metric, the PodMonitoring, the Deployment's volumes
	// and env, the token Secret.
	assertHPATarget(t, ctx, c, ns, engLlamaObjects, "10", profileMetrics(t, "llama-3.1-8b"))
	pm := &unstructured.Unstructured{}
	pm.SetAPIVersion("monitoring.googleapis.com/v1")
	pm.SetKind("PodMonitoring")
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: engLlamaObjects}, pm))
	eps, _, err := unstructured.NestedSlice(pm.Object, "spec", "endpoints")
	require.NoError(t, err)
	require.Len(t, eps, 1)
	assert.Equal(t, map[string]any{"port": "http", "path": "/metrics", "interval": "5s"}, eps[0])
	sel, _, _ := unstructured.NestedStringMap(pm.Object, "spec", "selector", "matchLabels")

	var dep appsv1.Deployment
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: engLlamaObjects}, &dep))
	assert.Equal(t, dep.Spec.Selector.MatchLabels, sel, "the PodMonitoring selects the server's pods")
	vols := map[string]corev1.Volume{}
	for _, v := range dep.Spec.Template.Spec.Volumes {
		vols[v.Name] = v
	}
	require.Contains(t, vols, "model-store")
	csi := vols["model-store"].CSI
	require.NotNil(t, csi, "model-store is a CSI volume")
	assert.Equal(t, "gcsfuse.csi.storage.gke.io", csi.Driver)
	assert.Equal(t, engBucket, csi.VolumeAttributes["bucketName"])
	assert.Contains(t, csi.VolumeAttributes["mountOptions"], "file-cache:enable-parallel-downloads:true")
	var server *corev1.Container
	for i := range dep.Spec.Template.Spec.Containers {
		if dep.Spec.Template.Spec.Containers[i].Name == "server" {
			server = &dep.Spec.Template.Spec.Containers[i]
		}
	}
	require.NotNil(t, server, "no server container")
	envs := map[string]corev1.EnvVar{}
	for _, e := range server.Env {
		envs[e.Name] = e
	}
	assert.Equal(t, "/xla-cache", envs["VLLM_XLA_CACHE_PATH"].Value)
	// The token goes to the weights download Job; the server loads offline.
	var job batchv1.Job
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: engLlamaObjects + "-weights"}, &job))
	envs = map[string]corev1.EnvVar{}
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		envs[e.Name] = e
	}
	require.NotNil(t, envs["HF_TOKEN"].ValueFrom)
	assert.Equal(t, engLlamaObjects+"-hf-token", envs["HF_TOKEN"].ValueFrom.SecretKeyRef.Name)
	var sec corev1.Secret
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: engLlamaObjects + "-hf-token"}, &sec))
	assert.Equal(t, testToken, string(sec.Data["hf_api_token"]), "the Secret holds the token")

	// preview right after: nothing to do
	pre, err := st.Preview(ctx)
	require.NoError(t, err)
	t.Logf("preview: %s", summaryString(pre))
	assert.Zero(t, pre.Changes(), "preview after up: %s", summaryString(pre))
	assert.Equal(t, up.Summary["create"], pre.Summary["same"])

	// one changed HPA target is one update
	settings.Overrides = map[string]any{"autoscaling": map[string]any{
		"minReplicas": 1,
		"maxReplicas": 2,
		"metrics":     []any{map[string]any{"metric": "vllm:num_requests_waiting", "target": 5}},
	}}
	st = env.open(t, ctx, target, settings)
	upd, err := st.Up(ctx)
	require.NoError(t, err)
	t.Logf("update: %s", summaryString(upd))
	assert.Equal(t, 1, upd.Summary["update"], "update: %s", summaryString(upd))
	assert.Equal(t, 1, upd.Changes(), "only the HPA changes: %s", summaryString(upd))
	assertHPATarget(t, ctx, c, ns, engLlamaObjects, "5", 1)

	// refresh reads the cluster back; nothing drifted, so the next preview is empty again
	ref, err := st.Refresh(ctx)
	require.NoError(t, err)
	t.Logf("refresh: %s", summaryString(ref))
	pre, err = st.Preview(ctx)
	require.NoError(t, err)
	t.Logf("preview after refresh: %s", summaryString(pre))
	assert.Zero(t, pre.Changes(), "preview after refresh: %s", summaryString(pre))

	// the state: the token only as ciphertext
	export, err := st.Export(ctx)
	require.NoError(t, err)
	assertNoLeak(t, "the stack export", string(export), testToken)
	assert.Contains(t, string(export), `"ciphertext"`, "secrets are exported as ciphertext")
	stateFiles, err := filepath.Glob(filepath.Join(env.dir, "state", ".pulumi", "stacks", "*", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, stateFiles, "no state file in the file:// backend")
	for _, f := range stateFiles {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		assertNoLeak(t, "state file "+filepath.Base(f), string(raw), testToken)
	}
	assert.Contains(t, string(export), "4dabf18193072939515e22adb298388d", "secrets are kept as Pulumi secret values")

	// destroy
	des, _, err := engDestroy(t, ctx, st)
	require.NoError(t, err)
	t.Logf("destroy: %s", summaryString(des))
	assert.Equal(t, up.Summary["create"], des.Summary["delete"], "destroy: %s", summaryString(des))
	assertGone(t, ctx, c, objs)
	left, err := st.Outputs(ctx)
	require.NoError(t, err)
	assert.Empty(t, left, "a destroyed stack has no outputs")
}

// assertHPATarget checks that the HPA has its metrics as the server stored them, the first
// (the queue) at target.
func assertHPATarget(t *testing.T, ctx context.Context, c client.Client, ns, name, target string, metrics int) {
	t.Helper()
	var hpa autoscalingv2.HorizontalPodAutoscaler
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &hpa))
	require.Len(t, hpa.Spec.Metrics, metrics)
	m := hpa.Spec.Metrics[0]
	assert.Equal(t, autoscalingv2.PodsMetricSourceType, m.Type)
	require.NotNil(t, m.Pods)
	assert.Equal(t, engHPAMetric, m.Pods.Metric.Name)
	assert.Equal(t, autoscalingv2.AverageValueMetricType, m.Pods.Target.Type)
	require.NotNil(t, m.Pods.Target.AverageValue)
	assert.True(t, m.Pods.Target.AverageValue.Equal(resource.MustParse(target)), "averageValue %s, want %s", m.Pods.Target.AverageValue, target)
	assert.Equal(t, name, hpa.Spec.ScaleTargetRef.Name)
	assert.Equal(t, int32(2), hpa.Spec.MaxReplicas)
}

// assertGone checks that no object of the list is left. envtest runs no namespace
// controller, so a deleted namespace stays, Terminating: there the test asserts what is
// realistic, that it was deleted (it has a deletionTimestamp) and holds none of our objects.
func assertGone(t *testing.T, ctx context.Context, c client.Client, objs []stateObject) {
	t.Helper()
	for _, o := range objs {
		u, err := getObject(ctx, c, o)
		if apierrors.IsNotFound(err) {
			continue
		}
		if !assert.NoError(t, err, "%s", o) {
			continue
		}
		if o.kind == "Namespace" {
			assert.NotNil(t, u.GetDeletionTimestamp(), "namespace %s was not deleted", o.name)
			t.Logf("namespace %s: deleted, still Terminating (finalizers %v %v)", o.name, u.GetFinalizers(), u.Object["spec"])
			continue
		}
		t.Errorf("%s is left after destroy", o)
	}
}

// TestEngineTwoModelsOneEnvironment: dev-llama-3.1-8b and dev-qwen2.5-32b are two stacks
// of one user, in one namespace that neither owns; their objects do not collide, and each
// destroy removes only its own.
func TestEngineTwoModelsOneEnvironment(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), engOpTimeout)
	defer cancel()
	c := engClient(t)
	ns := "engine-shared-" + engSuffix()
	engCreateNamespace(t, c, ns)
	engRemoveNamespace(t, engAdapterNS)
	t.Cleanup(func() { engRemoveNamespace(t, ns); engRemoveNamespace(t, engAdapterNS) })

	env := newEngEnv(t)
	shared := func(s deploy.Settings) deploy.Settings {
		s.Serving.CreateNamespace = new(bool)
		return s
	}
	llama := shared(engSettings(ns))
	// llama holds a spare node (issue 19, point 3): its cluster-scoped PriorityClass is
	// named after the namespace, so it never collides with another stack's.
	llama.Overrides = engBufferOverrides(1)
	qwen := shared(engSettings(ns))
	qwen.Overrides = nil
	// The metrics adapter serves the whole cluster: the first stack installs it.
	qwen.Metrics.InstallAdapter = new(bool)

	type model struct {
		stack   *deploy.Stack
		objects string
		state   []stateObject
	}
	models := []*model{
		{stack: env.open(t, ctx, deploy.Target{Env: "dev", Model: engLlama}, llama), objects: engLlamaObjects},
		{stack: env.open(t, ctx, deploy.Target{Env: "dev", Model: "qwen2.5-32b"}, qwen), objects: "qwen2-5-32b-vllm"},
	}
	assert.Equal(t, "dev-llama-3.1-8b", models[0].stack.Name())
	assert.Equal(t, "dev-qwen2.5-32b", models[1].stack.Name())
	for _, m := range models {
		_, m.state = engUp(t, ctx, m.stack)
	}
	// Disjoint objects, and every one of both in the cluster.
	seen := map[string]string{}
	for _, m := range models {
		for _, o := range m.state {
			if other, dup := seen[o.String()]; dup {
				t.Errorf("%s is in both %s and %s", o, other, m.stack.Name())
			}
			seen[o.String()] = m.stack.Name()
			_, err := getObject(ctx, c, o)
			assert.NoError(t, err, "%s of %s", o, m.stack.Name())
		}
	}
	for _, m := range models {
		var dep appsv1.Deployment
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: m.objects}, &dep))
		var hpa autoscalingv2.HorizontalPodAutoscaler
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: m.objects}, &hpa))
		assert.Equal(t, m.objects, hpa.Spec.ScaleTargetRef.Name, "each HPA scales its own server")
		var sa corev1.ServiceAccount
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: m.objects}, &sa))
		var sec corev1.Secret
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: m.objects + "-hf-token"}, &sec))
	}
	var placeholders appsv1.Deployment
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: engLlamaObjects + "-buffer"}, &placeholders))
	require.NotNil(t, placeholders.Spec.Replicas)
	assert.Equal(t, int32(1), *placeholders.Spec.Replicas)
	var pc schedulingv1.PriorityClass
	require.NoError(t, c.Get(ctx, client.ObjectKey{Name: placeholders.Spec.Template.Spec.PriorityClassName}, &pc))
	assert.Less(t, pc.Value, int32(0), "placeholders rank below every workload")
	var qwenHPA autoscalingv2.HorizontalPodAutoscaler
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "qwen2-5-32b-vllm"}, &qwenHPA))
	assert.Len(t, qwenHPA.Spec.Metrics, profileMetrics(t, "qwen2.5-32b"), "qwen2.5-32b's HPA has every metric of its profile")

	// Destroying qwen leaves llama whole; then llama goes too.
	_, _, err := engDestroy(t, ctx, models[1].stack)
	require.NoError(t, err)
	assertGone(t, ctx, c, models[1].state)
	for _, o := range models[0].state {
		_, err := getObject(ctx, c, o)
		assert.NoError(t, err, "%s went with the other stack", o)
	}
	_, _, err = engDestroy(t, ctx, models[0].stack)
	require.NoError(t, err)
	assertGone(t, ctx, c, models[0].state)
	var shNS corev1.Namespace
	require.NoError(t, c.Get(ctx, client.ObjectKey{Name: ns}, &shNS))
	assert.Nil(t, shNS.DeletionTimestamp, "the shared namespace is not the stacks' to delete")
}

// TestEngineRenderMode: with llmserve:renderDir, up writes manifests instead of applying
// them. No file holds the token, and the apiserver accepts every manifest.
func TestEngineRenderMode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), engOpTimeout)
	defer cancel()
	c := engClient(t)
	ns := "engine-render-" + engSuffix()
	env := newEngEnv(t)
	settings := engSettings(ns)
	settings.Overrides = engBufferOverrides(1) // the buffer renders too (issue 19, point 3)
	settings.RenderDir = filepath.Join(env.dir, "manifests")
	// Rendering reaches no cluster, and the provider refuses a kubeconfig together with
	// renderYamlToDirectory.
	settings.Cluster.Kubeconfig = ""
	st := env.open(t, ctx, deploy.Target{Env: "render", Model: engLlama}, settings)
	res, err := st.Up(ctx)
	require.NoError(t, err)
	t.Logf("render up: %s", summaryString(res))

	var docs []*unstructured.Unstructured
	var files []string
	require.NoError(t, filepath.WalkDir(settings.RenderDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(settings.RenderDir, path)
		files = append(files, rel)
		assertNoLeak(t, rel, string(raw), testToken)
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
		for {
			var obj map[string]any
			if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			if obj == nil {
				continue
			}
			u := &unstructured.Unstructured{Object: obj}
			assert.NotEqual(t, "Secret", u.GetKind(), "%s: render mode leaves the token Secret out", rel)
			docs = append(docs, u)
		}
		return nil
	}))
	t.Logf("rendered %d files, %d objects", len(files), len(docs))
	kinds := map[string]int{}
	for _, d := range docs {
		kinds[d.GetKind()]++
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "Deployment", "Service", "PodMonitoring", "HorizontalPodAutoscaler", "APIService", "PriorityClass"} {
		assert.NotZero(t, kinds[k], "no %s rendered (%v)", k, kinds)
	}
	// Nothing reached the cluster.
	var dep appsv1.Deployment
	assert.True(t, apierrors.IsNotFound(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: engLlamaObjects}, &dep)), "render mode applied the Deployment")

	// The apiserver accepts every manifest (server-side apply, dry run). Namespaced objects
	// need their namespace to exist; a dry-run Namespace creates nothing.
	t.Cleanup(func() { engRemoveNamespace(t, ns) })
	for _, d := range docs {
		if d.GetKind() == "Namespace" {
			engCreateNamespace(t, c, d.GetName())
			if d.GetName() == engAdapterNS {
				t.Cleanup(func() { engRemoveNamespace(t, engAdapterNS) })
			}
		}
	}
	for _, d := range docs {
		ac := client.ApplyConfigurationFromUnstructured(d.DeepCopy())
		err := c.Apply(ctx, ac, client.DryRunAll, client.ForceOwnership, client.FieldOwner("llmserve-render-test"))
		assert.NoError(t, err, "%s %s/%s rejected", d.GetKind(), d.GetNamespace(), d.GetName())
	}

	// Destroying a rendered stack deletes its manifests.
	des, err := st.Destroy(ctx)
	require.NoError(t, err)
	t.Logf("render destroy: %s", summaryString(des))
	var left []string
	_ = filepath.WalkDir(settings.RenderDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, path)
		}
		return nil
	})
	assert.Empty(t, left, "manifests left after destroy")
}

// cancelOnWrite passes the engine's progress on and cancels a context the first time the
// progress names a Kubernetes resource: the engine is then deploying for sure.
type cancelOnWrite struct {
	w      io.Writer
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("kubernetes:")) {
		c.once.Do(c.cancel)
	}
	return c.w.Write(p)
}

// TestEngineCancel: canceling the context stops an up in flight; the error says so and
// matches context.Canceled, and the stack is left unlocked for the next operation.
func TestEngineCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), engOpTimeout)
	defer cancel()
	ns := "engine-cancel-" + engSuffix()
	t.Cleanup(func() { engRemoveNamespace(t, ns) })
	env := newEngEnv(t)
	settings := engSettings(ns)
	settings.Metrics.InstallAdapter = new(bool) // nothing cluster-wide to leave behind
	target := deploy.Target{Env: "cancel", Model: engLlama}
	st := env.open(t, ctx, target, settings)

	upCtx, upCancel := context.WithCancel(ctx)
	defer upCancel()
	opts := env.options(settings)
	opts.Progress = &cancelOnWrite{w: env.progress, cancel: upCancel}
	canceling, err := deploy.Open(ctx, target, opts)
	require.NoError(t, err)
	_, err = canceling.Up(upCtx)
	require.Error(t, err)
	t.Logf("canceled up: %v", err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "llmserve cancel-llama-3.1-8b: up: context canceled")
	var opErr *deploy.OpError
	require.ErrorAs(t, err, &opErr)
	assert.Equal(t, "up", opErr.Op)

	// Not locked: the next operation runs.
	pre, err := st.Preview(ctx)
	require.NoError(t, err, "the stack is still locked after a canceled up")
	t.Logf("preview after cancel: %s", summaryString(pre))
}

// TestEngineNeverAdoptsANamespace (issue 11, point 8): with pulumi-kubernetes 4.25 a
// Namespace that already exists is silently adopted (server-side apply upserts) and destroy
// deletes it with everything in it. llmserve refuses instead, for the serving namespace and
// the adapter's, before registering anything; using a namespace without managing it is
// explicit (serving.createNamespace false), and destroy then leaves it and its contents.
func TestEngineNeverAdoptsANamespace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), engOpTimeout)
	defer cancel()
	c := engClient(t)
	ns := "engine-foreign-" + engSuffix()
	engCreateNamespace(t, c, ns)
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses", Namespace: ns}, Data: map[string]string{"k": "v"}}
	require.NoError(t, c.Create(ctx, theirs))
	engRemoveNamespace(t, engAdapterNS)
	t.Cleanup(func() { engRemoveNamespace(t, ns); engRemoveNamespace(t, engAdapterNS) })
	env := newEngEnv(t)
	target := deploy.Target{Env: "foreign", Model: engLlama}
	stillThere := func() {
		t.Helper()
		var n corev1.Namespace
		require.NoError(t, c.Get(ctx, client.ObjectKey{Name: ns}, &n))
		assert.Nil(t, n.DeletionTimestamp, "namespace %s is being deleted", ns)
		var cm corev1.ConfigMap
		require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: theirs.Name}, &cm), "their ConfigMap is gone")
	}

	// 1. The serving namespace exists and is not this stack's: refused, nothing created.
	s := engSettings(ns)
	s.Metrics.InstallAdapter = new(bool)
	st := env.open(t, ctx, target, s)
	_, err := st.Up(ctx)
	require.Error(t, err, "up adopted namespace %s", ns)
	assert.Contains(t, err.Error(), "namespace "+ns+": already exists and was not created by stack foreign-llama-3.1-8b")
	var deps appsv1.DeploymentList
	require.NoError(t, c.List(ctx, &deps, client.InNamespace(ns)))
	assert.Empty(t, deps.Items, "objects were created before the refusal")
	stillThere()

	// 2. The adapter's namespace exists (an adapter someone installed): refused too.
	engCreateNamespace(t, c, engAdapterNS)
	s = engSettings(ns)
	s.Serving.CreateNamespace = new(bool)
	st = env.open(t, ctx, target, s)
	_, err = st.Up(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "namespace "+engAdapterNS+": already exists and was not created by stack foreign-llama-3.1-8b")
	engRemoveNamespace(t, engAdapterNS)

	// 3. Explicitly used, not managed: up works, destroy leaves the namespace and its contents.
	s = engSettings(ns)
	s.Serving.CreateNamespace = new(bool)
	s.Metrics.InstallAdapter = new(bool)
	st = env.open(t, ctx, target, s)
	res, err := st.Up(ctx)
	require.NoError(t, err)
	t.Logf("up into a namespace it does not own: %s", summaryString(res))
	_, _, err = engDestroy(t, ctx, st)
	require.NoError(t, err)
	stillThere()
}

// profileMetrics is the number of metrics a profile's HPA scales on by default.
func profileMetrics(t *testing.T, model string) int {
	t.Helper()
	p, err := stacks.LoadProfile(model)
	require.NoError(t, err)
	require.NotEmpty(t, p.Autoscaling.Metrics)
	return len(p.Autoscaling.Metrics)
}
