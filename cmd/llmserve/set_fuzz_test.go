package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmserve/llmserve/deploy"
	"go.yaml.in/yaml/v3"
)

// FuzzSet feeds arbitrary --set assignments through applySet, the settings conversion and
// the full validation. Nothing may panic; a malformed --set is a usage error; what applySet
// writes for an object key is JSON an object decoder reads.
func FuzzSet(f *testing.F) {
	for _, s := range []string{
		"pool.maxNodes=3", "pool.maxNodes=2.7", "pool.spot=yes", "overrides.kvCacheHeadroom=.nan",
		"overrides.autoscaling.metrics=[{metric: vllm:kv_cache_usage_perc, target: 80}]",
		"cluster={mode: existing}", "gcp.project=My_Project", "novalue", "=", "model.x=1",
		"overrides.server.env.HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz", "serving.namespace=kube-system",
	} {
		f.Add(s, "cluster.zones=[us-central1-b]")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		values := map[string]string{
			"gcp:project": "my-project", "gcp:region": "us-central1",
			"llmserve:cluster": `{"mode":"standard","name":"llm-dev","zones":["us-central1-b"]}`,
		}
		for _, s := range []string{a, b} {
			err := applySet(values, s)
			if !strings.Contains(s, "=") && !isUsage(err) {
				t.Fatalf("--set %q without = is not a usage error: %v", s, err)
			}
			if err != nil {
				return
			}
		}
		for k, v := range values {
			if strings.HasPrefix(k, "llmserve:") && strings.HasPrefix(v, "{") && json.Valid([]byte(v)) {
				var doc any
				if err := yaml.Unmarshal([]byte(v), &doc); err != nil {
					t.Fatalf("%s: applySet wrote %q, which YAML cannot read: %v", k, v, err)
				}
			}
		}
		settings, model, err := deploy.SettingsFromConfig(values)
		if err != nil {
			return
		}
		_, _ = deploy.Check(deploy.Target{Env: "f", Model: model}, settings)
	})
}
