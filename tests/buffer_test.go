package tests

import (
	"testing"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const tPriorityClass = "kubernetes:scheduling.k8s.io/v1:PriorityClass"

// bufferConfig is the dev stack with one spare slice (issue 19, point 3).
func bufferConfig(t testing.TB) stackConfig {
	return devConfig(t).with("llmserve:overrides", m{"autoscaling": m{"minReplicas": 1, "maxReplicas": 2, "buffer": m{"replicas": 1}}})
}

// gpuBufferConfig is the GPU profile (maxReplicas 5) with two spare nodes.
func gpuBufferConfig(t testing.TB) stackConfig {
	return gpuConfig(t.(*testing.T)).with("llmserve:overrides", m{"autoscaling": m{"buffer": m{"replicas": 2}}})
}

// TestBufferOffByDefault: no profile holds spare nodes until lab evidence chooses one, and
// a stack without a buffer registers neither the component nor a PriorityClass.
func TestBufferOffByDefault(t *testing.T) {
	for _, name := range stacks.ProfileNames() {
		p, err := stacks.LoadProfile(name)
		require.NoError(t, err)
		assert.Zero(t, p.Autoscaling.Buffer.Replicas, name)
	}
	rec := mustRun(t, "dev", devConfig(t))
	assert.Empty(t, rec.byType(components.TypeCapacityBuffer))
	assert.Empty(t, rec.byType(tPriorityClass))
}

// serverAndPlaceholders returns the model server's and the placeholders' pod specs.
func serverAndPlaceholders(t *testing.T, objs []*unstructured.Unstructured, server string) (srv, ph map[string]any, placeholders *unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		switch {
		case o.GetKind() == "Deployment" && o.GetName() == server:
			srv = podSpecOf(t, o)
		case o.GetKind() == "Deployment" && o.GetName() == server+"-buffer":
			ph, placeholders = podSpecOf(t, o), o
		}
	}
	require.NotNil(t, srv, "no server Deployment %s", server)
	require.NotNil(t, ph, "no placeholder Deployment %s-buffer", server)
	return srv, ph, placeholders
}

// TestBufferPlaceholders (issue 19, point 3): the placeholders are the server's pods as far
// as the scheduler and the autoscaler can tell (same node selector, tolerations and whole
// accelerator request, same image), at a PriorityClass below every workload that never
// preempts, and they only sleep.
func TestBufferPlaceholders(t *testing.T) {
	cases := []struct {
		name     string
		cfg      stackConfig
		server   string
		replicas float64
		resource string
		perNode  string
		pool     string
		maxNodes float64 // the pool's default: maxReplicas + the surge node + the buffer
	}{
		{"tpu", bufferConfig(t), "llama-3-1-8b-vllm", 1, catalog.ResourceTPU, "1", "tpu-pool", 2 + 1 + 1},
		{"gpu", gpuBufferConfig(t), "gemma-3-1b-it-vllm", 2, catalog.ResourceGPU, "1", "gpu-pool", 5 + 1 + 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := mustRun(t, "dev", tc.cfg)
			comp := rec.one(t, components.TypeCapacityBuffer)
			assert.Equal(t, tc.server+"-buffer", comp.Name)

			pc := rec.one(t, tPriorityClass)
			dep := rec.named(t, tDeployment, tc.server+"-buffer-deployment")
			for _, child := range []pulumi.MockResourceArgs{pc, dep} {
				assert.Equal(t, components.TypeCapacityBuffer, parentType(child), "%s parented by the component", child.Name)
				assert.NotEmpty(t, child.Provider, "%s: explicit Kubernetes provider", child.Name)
			}

			pcIn := in(pc)
			value := dig(t, pcIn, "value").(float64)
			assert.Equal(t, float64(catalog.BufferPriority), value)
			assert.Less(t, value, 0.0, "below every pod without a class (priority 0)")
			assert.GreaterOrEqual(t, value, float64(catalog.ExpendablePodsPriorityCutoff), "below the cutoff the autoscaler adds no node for them")
			assert.Equal(t, "Never", dig(t, pcIn, "preemptionPolicy"))
			assert.Equal(t, false, dig(t, pcIn, "globalDefault"))
			pcName := dig(t, pcIn, "metadata.name").(string)
			assert.Equal(t, "llm-"+tc.server+"-buffer", pcName, "cluster scoped: named after namespace and model")

			objs := kubeObjects(t, rec)
			srv, ph, placeholders := serverAndPlaceholders(t, objs, tc.server)
			assert.Equal(t, tc.replicas, dig(t, placeholders.Object, "spec.replicas"))
			assert.Equal(t, "true", placeholders.GetAnnotations()["pulumi.com/skipAwait"], "Pending placeholders must not fail up")
			assert.Equal(t, pcName, ph["priorityClassName"])
			assert.Equal(t, srv["nodeSelector"], ph["nodeSelector"], "the pool's selector, as the server has it")
			assert.NotEmpty(t, ph["nodeSelector"])
			assert.Equal(t, srv["tolerations"], ph["tolerations"])
			assert.Equal(t, false, ph["automountServiceAccountToken"])
			assert.Equal(t, 0.0, ph["terminationGracePeriodSeconds"])

			// Every other pod of the stack sets no class: it runs at 0, above the placeholders.
			for _, o := range objs {
				if spec := podSpecOf(t, o); spec != nil && o.GetName() != tc.server+"-buffer" {
					assert.Nil(t, spec["priorityClassName"], "%s would not outrank the placeholders for sure", kubeRef(o))
				}
			}

			// The placeholders never match the server's Service, PDB or HPA.
			svcSel := map[string]any{}
			for _, o := range objs {
				if o.GetKind() == "Service" && o.GetName() == tc.server {
					svcSel = dig(t, o.Object, "spec.selector").(map[string]any)
				}
			}
			require.NotEmpty(t, svcSel)
			phLabels := dig(t, placeholders.Object, "spec.template.metadata.labels").(map[string]any)
			matches := true
			for k, v := range svcSel {
				matches = matches && phLabels[k] == v
			}
			assert.False(t, matches, "the server's Service would route to placeholders")

			cs := containersOf(ph)
			require.Len(t, cs, 1)
			c := cs[0]
			var serverImage any
			for _, sc := range containersOf(srv) {
				if sc["name"] == "server" {
					serverImage = sc["image"]
				}
			}
			require.NotNil(t, serverImage)
			assert.Equal(t, serverImage, c["image"], "the server's image, so the node holds it")
			assert.Equal(t, []any{"sleep", "infinity"}, c["command"])
			assert.Nil(t, c["args"])
			assert.Equal(t, tc.perNode, dig(t, c, "resources.limits."+tc.resource), "the node's every accelerator")
			assert.Equal(t, tc.perNode, dig(t, c, "resources.requests."+tc.resource))
			assert.Equal(t, serverAccel(t, srv, tc.resource), tc.perNode, "the same whole node the server asks for")
			sc := c["securityContext"].(map[string]any)
			assert.Equal(t, true, sc["runAsNonRoot"])
			assert.Equal(t, true, sc["readOnlyRootFilesystem"])

			pool := in(rec.named(t, tNodePool, tc.pool))
			assert.Equal(t, tc.maxNodes, dig(t, pool, "autoscaling.totalMaxNodeCount"), "the pool grows by the buffer")
		})
	}
}

// serverAccel returns what the server's main container asks of resource.
func serverAccel(t *testing.T, srv map[string]any, resource string) any {
	for _, c := range containersOf(srv) {
		if lim, ok := c["resources"].(map[string]any)["limits"].(map[string]any); ok {
			if v, ok := lim[resource]; ok {
				return v
			}
		}
	}
	t.Fatalf("no server container asks for %s", resource)
	return nil
}

// TestBufferCaveats (issue 19, point 3): validate says what the spare slices cost.
func TestBufferCaveats(t *testing.T) {
	s := deploy.Settings{
		Project: "my-project", Region: "us-central1",
		Cluster:   stacks.ClusterConfig{Mode: "standard", Name: "llm-dev", Zones: []string{"us-central1-b"}},
		HFToken:   testToken,
		Overrides: map[string]any{"autoscaling": map[string]any{"minReplicas": 1, "maxReplicas": 4, "buffer": map[string]any{"replicas": 2}}},
	}
	cfg, err := deploy.Check(deploy.Target{Env: "dev", Model: "llama-3.1-70b"}, s)
	require.NoError(t, err)
	assert.Contains(t, cfg.Caveats(), "autoscaling.buffer holds 2 spare tpu-v6e 2x4 slices: 2 x 8 = 16 TPU chips idle and paid for at all times, "+
		"so that a new replica starts on a ready node that holds its image")

	// One spare 1x1 slice is one slice and one chip, not "1 ... slices" and "1 TPU chips".
	cfg, err = deploy.Check(deploy.Target{Env: "dev", Model: "llama-3.1-8b"}, s)
	require.NoError(t, err)
	assert.Contains(t, cfg.Caveats(), "autoscaling.buffer holds 2 spare tpu-v6e 1x1 slices: 2 x 1 = 2 TPU chips idle and paid for at all times, "+
		"so that a new replica starts on a ready node that holds its image")
	s.Overrides = map[string]any{"autoscaling": map[string]any{"minReplicas": 1, "maxReplicas": 4, "buffer": map[string]any{"replicas": 1}}}
	cfg, err = deploy.Check(deploy.Target{Env: "dev", Model: "llama-3.1-8b"}, s)
	require.NoError(t, err)
	assert.Contains(t, cfg.Caveats(), "autoscaling.buffer holds 1 spare tpu-v6e 1x1 slice: 1 x 1 = 1 TPU chip idle and paid for at all times, "+
		"so that a new replica starts on a ready node that holds its image")

	s.Overrides = nil
	cfg, err = deploy.Check(deploy.Target{Env: "dev", Model: "llama-3.1-70b"}, s)
	require.NoError(t, err)
	for _, c := range cfg.Caveats() {
		assert.NotContains(t, c, "buffer")
	}
}

// TestBufferInEveryMode: GKE documents placeholder pods for Autopilot as for Standard
// ("Provision extra compute capacity for rapid Pod scaling"), so every cluster mode gets the
// buffer; on an existing cluster validate says what it relies on.
func TestBufferInEveryMode(t *testing.T) {
	buffer := m{"autoscaling": m{"minReplicas": 1, "maxReplicas": 2, "buffer": m{"replicas": 1}}}
	for mode, cfg := range modeConfigs(t) {
		t.Run(mode, func(t *testing.T) {
			rec := mustRun(t, "dev", cfg.with("llmserve:overrides", buffer))
			rec.one(t, components.TypeCapacityBuffer)
			rec.one(t, tPriorityClass)
		})
	}
	noGCP := false
	cfg, err := deploy.Check(deploy.Target{Env: "lab", Model: "llama-3.1-8b"}, deploy.Settings{
		Project: "my-project", Region: "us-central1", GCPResources: &noGCP,
		Cluster:    stacks.ClusterConfig{Mode: "existing", Name: "mine"},
		ModelStore: stacks.ModelStoreConfig{Bucket: "my-weights"},
		HFToken:    testToken,
		Overrides:  buffer,
	})
	require.NoError(t, err)
	assert.Contains(t, cfg.Caveats(), "autoscaling.buffer on an existing cluster: its placeholders (priority -10) get nodes only if the cluster's node autoscaler "+
		"scales up for them (cluster-autoscaler does down to --expendable-pods-priority-cutoff, default -10) and pool.maxNodes (3) matches the pool's real maximum")
}
