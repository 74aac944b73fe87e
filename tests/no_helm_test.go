package tests

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/llmserve/llmserve/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
)

// helmReleases are the Helm releases (helm.sh/v3 Release, helm/v4 Chart, ...) a run registered.
func helmReleases(rec *recorder) []pulumi.MockResourceArgs {
	var out []pulumi.MockResourceArgs
	for _, a := range rec.res {
		if strings.HasPrefix(a.TypeToken, "kubernetes:helm.sh/") || strings.HasPrefix(a.TypeToken, "kubernetes:helm/") {
			out = append(out, a)
		}
	}
	return out
}

// shippedConfigs are every stack shape llmserve ships: each Pulumi.<env>.yaml at the root,
// each cluster mode, each model profile, the seed scenarios and seed 002 on an existing
// cluster (where llmserve installs the DCGM exporter).
func shippedConfigs(t *testing.T) []namedConfig {
	out := []namedConfig{
		{"env-dev", devConfig(t)},
		{"env-prod", loadStackFile(t, "Pulumi.prod.yaml").withSecret("llmserve:hfToken", testToken)},
		{"env-local", loadStackFile(t, "Pulumi.local.yaml").withSecret("llmserve:hfToken", testToken)},
		{"seed000-prometheus-adapter", seed000Config(t)},
		{"seed002-prometheus-operator", seed002Config(t)},
		{"seed002-no-gcp", seed002NoGCP(t)},
	}
	modes := modeConfigs(t)
	for _, mode := range slices.Sorted(maps.Keys(modes)) {
		out = append(out, namedConfig{"mode-" + mode, modes[mode]})
	}
	for _, p := range stacks.ProfileNames() {
		out = append(out, namedConfig{"profile-" + p, devConfig(t).with("llmserve:model", p).without("llmserve:overrides")})
	}
	return out
}

// TestNoHelmReleaseAnywhere (issue 11, point 2): no shipped stack installs a Helm chart. A
// release is fetched from the network during `up`, is opaque in preview, cannot be rendered
// and is skipped by the apiserver test layer; everything llmserve creates is typed objects.
func TestNoHelmReleaseAnywhere(t *testing.T) {
	for _, tc := range shippedConfigs(t) {
		t.Run(tc.name, func(t *testing.T) {
			rec := mustRun(t, "dev", tc.cfg)
			for _, r := range helmReleases(rec) {
				assert.Fail(t, "helm release registered", "%s %s (parent %s)", r.TypeToken, r.Name, parentType(r))
			}
			assert.NotContains(t, rec.types(), "llmserve:monitoring:PrometheusStack")
		})
	}
}
