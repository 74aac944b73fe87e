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
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmserve/llmserve/components"
	"github.com/llmserve/llmserve/deploy"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The side-by-side run, on the one envtest apiserver: the real engine deploying the
// existing-no-gcp dev stack (BenchmarkEngine*), and kubectl server-side-applying the same
// objects as the engine renders them (BenchmarkKubectl*). Each benchmark leaves the
// apiserver as it found it. `make bench` prints the table and the ratios (tools/benchtable).

// benchTimeout bounds one benchmark, setup and cleanup included.
const benchTimeout = 10 * time.Minute

// benchStart removes the adapter's namespace (the stack creates it) and, when the benchmark
// ends, the namespaces it used.
func benchStart(b *testing.B, ns string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	b.Cleanup(cancel)
	engRemoveNamespace(b, engAdapterNS)
	b.Cleanup(func() { engRemoveNamespace(b, ns); engRemoveNamespace(b, engAdapterNS) })
	return ctx
}

// BenchmarkEngineUp times deploy.Stack.Up creating the stack's objects; the destroy between
// iterations is not timed.
func BenchmarkEngineUp(b *testing.B) {
	ns := "bench-up-" + engSuffix()
	ctx := benchStart(b, ns)
	st := newEngEnv(b).open(b, ctx, deploy.Target{Env: "bench", Model: engLlama}, engSettings(ns))
	objects := 0
	for b.Loop() {
		up, err := st.Up(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if up.Summary["create"] == 0 {
			b.Fatalf("up created nothing: %s", summaryString(up))
		}
		_, objs, err := engDestroy(b, ctx, st)
		if err != nil {
			b.Fatal(err)
		}
		objects = len(objs)
		engRemoveNamespace(b, ns)
		engRemoveNamespace(b, engAdapterNS)
		b.StartTimer()
	}
	b.ReportMetric(float64(objects), "objects/op")
}

// BenchmarkEnginePreviewNoop times a preview of a stack that is up to date.
func BenchmarkEnginePreviewNoop(b *testing.B) {
	ns := "bench-preview-" + engSuffix()
	ctx := benchStart(b, ns)
	st := newEngEnv(b).open(b, ctx, deploy.Target{Env: "bench", Model: engLlama}, engSettings(ns))
	if _, err := st.Up(ctx); err != nil {
		b.Fatal(err)
	}
	export, err := st.Export(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		pre, err := st.Preview(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if pre.Changes() != 0 {
			b.Fatalf("preview of an up-to-date stack reports changes: %s", summaryString(pre))
		}
	}
	b.ReportMetric(float64(len(stateObjects(b, export))), "objects/op")
}

// BenchmarkKubectlApplyCreate times `kubectl apply --server-side` creating the objects; the
// delete between iterations is not timed.
func BenchmarkKubectlApplyCreate(b *testing.B) {
	ns := "bench-create-" + engSuffix()
	ctx := benchStart(b, ns)
	k := newBenchKubectl(b, ctx, ns)
	b.Cleanup(func() { k.delete(b, context.Background()) })
	for b.Loop() {
		k.apply(b, ctx)
		b.StopTimer()
		k.delete(b, ctx)
		b.StartTimer()
	}
	b.ReportMetric(float64(len(k.objs)), "objects/op")
}

// BenchmarkKubectlApplyNoop times `kubectl apply --server-side` of objects that are already
// there as applied: the server writes nothing (checked by their resourceVersions).
func BenchmarkKubectlApplyNoop(b *testing.B) {
	ns := "bench-noop-" + engSuffix()
	ctx := benchStart(b, ns)
	k := newBenchKubectl(b, ctx, ns)
	b.Cleanup(func() { k.delete(b, context.Background()) })
	k.apply(b, ctx)
	before := k.versions(b, ctx)
	for b.Loop() {
		k.apply(b, ctx)
	}
	if after := k.versions(b, ctx); !maps.Equal(before, after) {
		b.Fatalf("a no-op apply changed objects: resourceVersions %v, then %v", before, after)
	}
	b.ReportMetric(float64(len(k.objs)), "objects/op")
}

// benchKubectl is kubectl on the envtest apiserver with a directory of manifests.
type benchKubectl struct {
	bin, kubeconfig, cacheDir, dir string
	objs                           []*unstructured.Unstructured
	c                              client.Client
}

// newBenchKubectl renders the benchmark stack's objects in namespace ns with the engine
// (llmserve:renderDir) and writes them to a directory kubectl applies: Namespaces in the
// first file (kubectl applies the files of a directory in name order, and a namespaced object
// needs its namespace), with the token Secret that render mode leaves out added, so that
// kubectl applies the objects the engine creates. It warms kubectl's discovery cache.
func newBenchKubectl(b *testing.B, ctx context.Context, ns string) *benchKubectl {
	env := newEngEnv(b)
	settings := engSettings(ns)
	settings.RenderDir = filepath.Join(env.dir, "rendered")
	settings.Cluster.Kubeconfig = "" // the provider refuses a kubeconfig with renderYamlToDirectory
	st := env.open(b, ctx, deploy.Target{Env: "bench-render", Model: engLlama}, settings)
	if _, err := st.Up(ctx); err != nil {
		b.Fatal(err)
	}
	objs := readManifests(b, settings.RenderDir)
	objs = append(objs, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": engLlamaObjects + "-hf-token", "namespace": ns},
		"data":     map[string]any{components.HFTokenKey: base64.StdEncoding.EncodeToString([]byte(testToken))},
	}})

	k := &benchKubectl{
		bin:      filepath.Join(requireEnv("LLMSERVE_KUBE_BIN"), "kubectl"),
		cacheDir: filepath.Join(env.dir, "kube-cache"),
		dir:      filepath.Join(env.dir, "apply"),
		objs:     objs,
		c:        engClient(b),
	}
	k.kubeconfig = filepath.Join(env.dir, "kubeconfig")
	require.NoError(b, os.WriteFile(k.kubeconfig, apiServer.kubeconfig, 0o600))
	require.NoError(b, os.MkdirAll(k.dir, 0o700))
	var first, rest bytes.Buffer
	for _, o := range objs {
		raw, err := json.Marshal(o.Object) // JSON is YAML; kubectl reads "---"-separated documents
		require.NoError(b, err)
		w := &rest
		if o.GetKind() == "Namespace" {
			w = &first
		}
		fmt.Fprintf(w, "---\n%s\n", raw)
	}
	require.NoError(b, os.WriteFile(filepath.Join(k.dir, "0-namespaces.yaml"), first.Bytes(), 0o600))
	require.NoError(b, os.WriteFile(filepath.Join(k.dir, "1-objects.yaml"), rest.Bytes(), 0o600))
	k.run(b, ctx, "api-resources", "-o", "name")
	return k
}

// readManifests decodes every object in a render directory.
func readManifests(t testing.TB, dir string) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
		for {
			var obj map[string]any
			if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if obj != nil {
				objs = append(objs, &unstructured.Unstructured{Object: obj})
			}
		}
	}))
	require.NotEmpty(t, objs, "nothing rendered in %s", dir)
	return objs
}

func (k *benchKubectl) run(b *testing.B, ctx context.Context, args ...string) {
	args = append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", k.cacheDir}, args...)
	out, err := exec.CommandContext(ctx, k.bin, args...).CombinedOutput()
	if err != nil {
		b.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// apply is the measured command.
func (k *benchKubectl) apply(b *testing.B, ctx context.Context) {
	k.run(b, ctx, "apply", "--server-side", "--force-conflicts", "--field-manager", "llmserve-bench", "-f", k.dir)
}

// delete removes the objects and waits until they are gone. With no garbage collector in
// envtest, a background-propagation delete (nothing waits on dependents) removes an object
// at once; the namespaces are finalized by engRemoveNamespace once they are empty.
func (k *benchKubectl) delete(b *testing.B, ctx context.Context) {
	var namespaces []string
	for i := len(k.objs) - 1; i >= 0; i-- {
		o := k.objs[i]
		if o.GetKind() == "Namespace" {
			namespaces = append(namespaces, o.GetName())
			continue
		}
		err := k.c.Delete(ctx, o.DeepCopy(), client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			b.Fatalf("delete %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
	for _, o := range k.objs {
		if o.GetKind() == "Namespace" {
			continue
		}
		require.Eventually(b, func() bool {
			err := k.c.Get(ctx, client.ObjectKeyFromObject(o), o.DeepCopy())
			return apierrors.IsNotFound(err)
		}, 30*time.Second, 50*time.Millisecond, "%s %s/%s not deleted", o.GetKind(), o.GetNamespace(), o.GetName())
	}
	for _, ns := range namespaces {
		engRemoveNamespace(b, ns)
	}
}

// versions returns the resourceVersion of every object, as the server has it.
func (k *benchKubectl) versions(b *testing.B, ctx context.Context) map[string]string {
	out := map[string]string{}
	for _, o := range k.objs {
		u := o.DeepCopy()
		require.NoError(b, k.c.Get(ctx, client.ObjectKeyFromObject(o), u))
		out[o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName()] = u.GetResourceVersion()
	}
	return out
}
