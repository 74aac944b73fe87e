//go:build integration

package tests

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/llmserve/llmserve/components"
	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Stacks that live for years (issue 21, point 5b): an unchanged stack must stay unchanged
// through every later `up` and preview, and a kubeconfig change that keeps the cluster must
// not replace the Kubernetes provider (and with it every object it manages).

const engLongLivedTimeout = 10 * time.Minute

// engAllOptionalSettings is the stack with every optional piece llmserve can deploy onto an
// existing cluster turned on: a GPU model on seed 002's Prometheus Operator path, with
// prometheus-adapter, the DCGM exporter, ServiceMonitors and PrometheusRules with the
// cluster's monitor labels, and two HPA metrics. (serving.exposure internal needs GKE, so
// gcpResources true; without a cloud account that stays with the mock tests.)
func engAllOptionalSettings(ns string) deploy.Settings {
	s := engSettings(ns)
	yes, no := true, false
	s.Metrics = stacks.MetricsConfig{
		Backend:             "prometheus-operator",
		Adapter:             "prometheus-adapter",
		PrometheusURL:       seed002Prometheus,
		MonitorLabels:       map[string]string{"release": "kube-prometheus-stack"},
		InstallDCGMExporter: &yes,
		ScrapeGKEDCGM:       &no,
	}
	s.Overrides = map[string]any{"autoscaling": map[string]any{
		"minReplicas": 1,
		"maxReplicas": 2,
		"metrics": []any{
			map[string]any{"metric": "vllm:num_requests_running", "target": 4},
			map[string]any{"metric": "DCGM_FI_DEV_GPU_UTIL", "target": 80},
		},
	}}
	return s
}

// engUIDs is every state object's UID in the cluster: an object deleted and created again
// (a replacement) gets a new one.
func engUIDs(t *testing.T, ctx context.Context, st *deploy.Stack) map[string]types.UID {
	t.Helper()
	export, err := st.Export(ctx)
	require.NoError(t, err)
	c := engClient(t)
	uids := map[string]types.UID{}
	for _, o := range stateObjects(t, export) {
		u, err := getObject(ctx, c, o)
		require.NoError(t, err, "%s is in the state but not in the cluster", o)
		uids[o.String()] = u.GetUID()
	}
	require.NotEmpty(t, uids)
	return uids
}

// TestEngineUnchangedStackChangesNothing: after the first up, a preview and a second up of
// the same program and config (a new process, as a user's next `llmserve up`) report no
// change, and no object is recreated; for the default stack and for one with every optional
// piece on.
func TestEngineUnchangedStackChangesNothing(t *testing.T) {
	cases := []struct {
		name     string
		model    string
		settings func(ns string) deploy.Settings
	}{
		{"default", engLlama, engSettings},
		{"every-optional-piece", "gemma-3-1b-it", engAllOptionalSettings},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), engLongLivedTimeout)
			defer cancel()
			ns := "engine-noop-" + engSuffix()
			// Cluster-wide namespaces the stack creates must not exist yet.
			engRemoveNamespace(t, engAdapterNS)
			engRemoveNamespace(t, components.DCGMNamespace)
			t.Cleanup(func() {
				engRemoveNamespace(t, ns)
				engRemoveNamespace(t, engAdapterNS)
				engRemoveNamespace(t, components.DCGMNamespace)
			})
			env := newEngEnv(t)
			target := deploy.Target{Env: "noop", Model: tc.model}
			settings := tc.settings(ns)

			up, err := env.open(t, ctx, target, settings).Up(ctx)
			require.NoError(t, err)
			t.Logf("first up: %s", summaryString(up))
			require.NotZero(t, up.Summary["create"])

			st := env.open(t, ctx, target, settings)
			before := engUIDs(t, ctx, st)
			pre, err := st.Preview(ctx)
			require.NoError(t, err)
			t.Logf("preview: %s", summaryString(pre))
			assert.Zero(t, pre.Changes(), "preview of an unchanged stack: %s", summaryString(pre))
			assert.Equal(t, up.Summary["create"], pre.Summary["same"])

			again, err := env.open(t, ctx, target, settings).Up(ctx)
			require.NoError(t, err)
			t.Logf("second up: %s", summaryString(again))
			assert.Zero(t, again.Changes(), "second up of an unchanged stack: %s", summaryString(again))
			assert.Equal(t, up.Summary["create"], again.Summary["same"])
			assert.Equal(t, before, engUIDs(t, ctx, st), "objects were recreated")
		})
	}
}

// TestEngineKubeconfigChangeKeepsProvider: the same cluster reached through another
// kubeconfig — another context and cluster entry name, another user's credentials, and the
// cluster's CA read from a file instead of inline data (as after a credential rotation, the
// cluster entry differs) — updates the Kubernetes provider and replaces nothing: the objects
// keep their UIDs. Without clusterIdentifier, pulumi-kubernetes replaces the provider when the
// active cluster entry changes (provider/v4 pkg/provider/provider.go, DiffConfig), and every
// object under it with it.
func TestEngineKubeconfigChangeKeepsProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), engLongLivedTimeout)
	defer cancel()
	ns := "engine-kubeconfig-" + engSuffix()
	t.Cleanup(func() { engRemoveNamespace(t, ns) })
	env := newEngEnv(t)
	target := deploy.Target{Env: "rotate", Model: engLlama}
	settings := engSettings(ns)
	settings.Metrics.InstallAdapter = new(bool) // nothing cluster-wide: only this stack's objects
	st := env.open(t, ctx, target, settings)
	up, err := st.Up(ctx)
	require.NoError(t, err)
	t.Logf("up: %s", summaryString(up))
	before := engUIDs(t, ctx, st)

	// Another admin user of the same apiserver, renamed and with the CA in a file.
	user, err := apiServer.env.AddUser(envtest.User{Name: "llmserve-rotated", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	raw, err := user.KubeConfig()
	require.NoError(t, err)
	kc, err := clientcmd.Load(raw)
	require.NoError(t, err)
	old := kc.Contexts[kc.CurrentContext]
	require.NotNil(t, old)
	cl := kc.Clusters[old.Cluster]
	require.NotNil(t, cl)
	caFile := filepath.Join(env.dir, "ca.crt")
	require.NoError(t, os.WriteFile(caFile, cl.CertificateAuthorityData, 0o600))
	cl.CertificateAuthority, cl.CertificateAuthorityData = caFile, nil
	delete(kc.Clusters, old.Cluster)
	kc.Clusters["renamed-cluster"] = cl
	old.Cluster = "renamed-cluster"
	delete(kc.Contexts, kc.CurrentContext)
	kc.Contexts["renamed-context"] = old
	kc.CurrentContext = "renamed-context"
	rotated, err := clientcmd.Write(*kc)
	require.NoError(t, err)
	require.NotEqual(t, string(apiServer.kubeconfig), string(rotated))

	settings.Cluster.Kubeconfig = string(rotated)
	st = env.open(t, ctx, target, settings)
	pre, err := st.Preview(ctx)
	require.NoError(t, err)
	t.Logf("preview with the new kubeconfig: %s", summaryString(pre))
	assert.Zero(t, pre.Summary["replace"]+pre.Summary["create-replacement"]+pre.Summary["delete-replaced"],
		"the provider or its objects would be replaced: %s", summaryString(pre))
	assert.Zero(t, pre.Summary["create"]+pre.Summary["delete"], "preview: %s", summaryString(pre))
	assert.Equal(t, 1, pre.Changes(), "only the provider's kubeconfig is updated: %s", summaryString(pre))

	res, err := st.Up(ctx)
	require.NoError(t, err)
	t.Logf("up with the new kubeconfig: %s", summaryString(res))
	assert.Equal(t, 1, res.Summary["update"], "up: %s", summaryString(res))
	assert.Equal(t, 1, res.Changes(), "up: %s", summaryString(res))
	assert.Equal(t, before, engUIDs(t, ctx, st), "objects were recreated")

	pre, err = st.Preview(ctx)
	require.NoError(t, err)
	assert.Zero(t, pre.Changes(), "preview after: %s", summaryString(pre))
}
