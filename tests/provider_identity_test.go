package tests

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProviderClusterIdentifier (issue 21, point 5a): the Kubernetes provider names its
// cluster, so that a kubeconfig change (a new context name, rotated credentials) updates the
// provider instead of replacing it and every object under it. A created GKE cluster is named
// by its GKE resource name, an existing one by llmserve:cluster.name; a replaced GKE cluster
// still replaces the provider (replaceWith), since the objects must be created again in it.
func TestProviderClusterIdentifier(t *testing.T) {
	cases := map[string]struct {
		identifier  string
		replaceWith bool // the provider is replaced with the GKE cluster
	}{
		"standard":        {"projects/my-project/locations/us-central1/clusters/llm-dev", true},
		"autopilot":       {"projects/my-project/locations/us-central1/clusters/llm-auto", true},
		"existing":        {"existing/mine", false},
		"existing-no-gcp": {"existing/mine", false},
	}
	for name, cfg := range modeConfigs(t) {
		want, ok := cases[name]
		require.True(t, ok, "mode %s has no case", name)
		t.Run(name, func(t *testing.T) {
			rec := mustRun(t, "dev", cfg)
			p := rec.one(t, tK8sProvider)
			assert.Equal(t, want.identifier, in(p)["clusterIdentifier"])
			var with []string
			for _, u := range p.RegisterRPC.GetReplaceWith() {
				with = append(with, string(resource.URN(u).Type())+"::"+resource.URN(u).Name())
			}
			if want.replaceWith {
				assert.Equal(t, []string{tCluster + "::cluster-gke"}, with)
			} else {
				assert.Empty(t, with, "no GKE cluster to be replaced with")
			}
		})
	}
}

// TestProviderIdentifierIgnoresKubeconfig: two kubeconfigs for one existing cluster (another
// context name, other credentials) give the provider the same identifier.
func TestProviderIdentifierIgnoresKubeconfig(t *testing.T) {
	base := modeConfigs(t)["existing"]
	other := base.with("llmserve:kubeconfig", "apiVersion: v1\nkind: Config\ncurrent-context: renamed\n")
	a := in(mustRun(t, "dev", base).one(t, tK8sProvider))
	b := in(mustRun(t, "dev", other).one(t, tK8sProvider))
	assert.Equal(t, a["clusterIdentifier"], b["clusterIdentifier"])
	assert.NotEmpty(t, a["clusterIdentifier"])
}
