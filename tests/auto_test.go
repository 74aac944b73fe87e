package tests

import (
	"context"
	"encoding/json"
	"sort"
	"testing"

	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The embedding API's own checks, without the engine: stack names, the config it sets, and
// bad settings failing in Open before any CLI runs.

func TestTargetStackName(t *testing.T) {
	for _, c := range []struct {
		target deploy.Target
		want   string
	}{
		{deploy.Target{Env: "dev", Model: "llama-3.1-8b"}, "dev-llama-3.1-8b"},
		{deploy.Target{Env: "dev", Model: "qwen2.5-32b"}, "dev-qwen2.5-32b"},
		{deploy.Target{Env: "Prod EU", Model: "Llama-3.1-70B"}, "prod-eu-llama-3.1-70b"},
		{deploy.Target{Env: "team/a", Model: "gemma-7b"}, "team-a-gemma-7b"},
	} {
		assert.Equal(t, c.want, c.target.StackName(), "%+v", c.target)
	}
}

// noGCPSettings is modeConfigs' existing-no-gcp stack (Pulumi.dev.yaml on a cluster with no
// GCP at all) as typed settings.
func noGCPSettings() deploy.Settings {
	noGCP := false
	return deploy.Settings{
		Project: "my-project", Region: "us-central1",
		GCPResources: &noGCP,
		Cluster:      stacks.ClusterConfig{Mode: "existing", Name: "mine"},
		ModelStore:   stacks.ModelStoreConfig{Bucket: "my-weights"},
		Overrides:    map[string]any{"autoscaling": map[string]any{"minReplicas": 1, "maxReplicas": 2}},
		HFToken:      testToken,
	}
}

func TestSettingsStackConfig(t *testing.T) {
	s := noGCPSettings()
	s.Cluster.Kubeconfig = "/tmp/kubeconfig"
	s.Serving.CreateNamespace = new(bool) // an explicit false is kept
	s.SkipAwait = true
	cm, err := s.StackConfig(deploy.Target{Env: "dev", Model: "llama-3.1-8b"})
	require.NoError(t, err)
	got := map[string]string{}
	var secrets []string
	for k, v := range cm {
		got[k] = v.Value
		if v.Secret {
			secrets = append(secrets, k)
		}
	}
	sort.Strings(secrets)
	assert.Equal(t, map[string]string{
		"gcp:project":           "my-project",
		"gcp:region":            "us-central1",
		"llmserve:model":        "llama-3.1-8b",
		"llmserve:gcpResources": "false",
		"llmserve:skipAwait":    "true",
		"llmserve:cluster":      `{"mode":"existing","name":"mine"}`,
		"llmserve:modelStore":   `{"bucket":"my-weights"}`,
		"llmserve:serving":      `{"createNamespace":false}`,
		"llmserve:overrides":    `{"autoscaling":{"maxReplicas":2,"minReplicas":1}}`,
		"llmserve:hfToken":      testToken,
		"llmserve:kubeconfig":   "/tmp/kubeconfig",
	}, got)
	assert.Equal(t, []string{"llmserve:hfToken", "llmserve:kubeconfig"}, secrets)
}

// TestSettingsDeployLikeTheStackFile: typed settings and the stack file they mirror make
// the same program: every resource, with the same inputs.
func TestSettingsDeployLikeTheStackFile(t *testing.T) {
	cm, err := noGCPSettings().StackConfig(deploy.Target{Env: "dev", Model: "llama-3.1-8b"})
	require.NoError(t, err)
	fromSettings := stackConfig{values: map[string]string{}}
	for k, v := range cm {
		fromSettings.values[k] = v.Value
		if v.Secret {
			fromSettings.secrets = append(fromSettings.secrets, k)
		}
	}
	resources := func(rec *recorder) map[string]string {
		out := map[string]string{}
		for _, a := range rec.res {
			b, err := json.Marshal(plainMap(a.Inputs, true))
			require.NoError(t, err)
			out[a.TypeToken+"::"+a.Name] = string(b)
		}
		return out
	}
	want := resources(mustRun(t, "dev", modeConfigs(t)["existing-no-gcp"]))
	got := resources(mustRun(t, "dev", fromSettings))
	require.NotEmpty(t, want)
	assert.Equal(t, want, got)
}

// TestOpenRejectsBadSettingsBeforeTheEngine: Open runs Load on the settings first, so bad
// settings fail with every problem named, before the CLI (here: a directory with none) runs.
func TestOpenRejectsBadSettingsBeforeTheEngine(t *testing.T) {
	noCLI := deploy.Options{PulumiBin: t.TempDir(), Backend: "file://" + t.TempDir(), Passphrase: "x", WorkDir: t.TempDir()}
	for _, c := range []struct {
		name     string
		target   deploy.Target
		settings deploy.Settings
		want     []string
	}{
		{"no token, no bucket", deploy.Target{Env: "dev", Model: "llama-3.1-8b"},
			func() deploy.Settings { s := noGCPSettings(); s.HFToken = ""; s.ModelStore.Bucket = ""; return s }(),
			[]string{
				"llmserve dev-llama-3.1-8b: config: invalid configuration:\n",
				"llmserve:modelStore.bucket: required when llmserve:gcpResources is false",
				"llmserve:hfToken: required to download meta-llama/Llama-3.1-8B-Instruct",
			}},
		{"unknown model", deploy.Target{Env: "dev", Model: "llama-9"}, noGCPSettings(),
			[]string{"llmserve dev-llama-9: config: invalid configuration:\n" + `llmserve:model "llama-9": no such profile`}},
		{"bad override", deploy.Target{Env: "dev", Model: "llama-3.1-8b"},
			func() deploy.Settings {
				s := noGCPSettings()
				s.Overrides = map[string]any{"autoscaling": map[string]any{"maxReplica": 2}}
				return s
			}(),
			[]string{"llmserve:overrides.autoscaling.maxReplica is not a field; did you mean maxReplicas?"}},
		{"no env", deploy.Target{Model: "llama-3.1-8b"}, noGCPSettings(),
			[]string{`target env "": want a name such as dev or prod`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := noCLI
			o.Settings = c.settings
			_, err := deploy.Open(context.Background(), c.target, o)
			require.Error(t, err)
			assert.ErrorIs(t, err, deploy.ErrInvalidConfig)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "pulumi CLI", "failed before looking for the CLI")
		})
	}

	// Good settings get as far as the CLI.
	o := noCLI
	o.Settings = noGCPSettings()
	_, err := deploy.Open(context.Background(), deploy.Target{Env: "dev", Model: "llama-3.1-8b"}, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "llmserve dev-llama-3.1-8b: pulumi CLI: no pulumi binary in ")
}
