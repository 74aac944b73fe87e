package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRolloutRule (issue 11, point 6): a rolling update surges (maxSurge 1,
// maxUnavailable 0: the old pod serves until the new one is ready) whenever the pool can
// hold one more slice than the HPA's maximum, which by default it can where llmserve sizes
// the capacity; it replaces in place (maxSurge 0, maxUnavailable 1) only when the pool is
// exactly as large as maxReplicas, where a surge pod could wait forever for a node.
func TestRolloutRule(t *testing.T) {
	surge := map[string]any{"maxSurge": 1.0, "maxUnavailable": 0.0}
	replace := map[string]any{"maxSurge": 0.0, "maxUnavailable": 1.0}
	one := map[string]any{"autoscaling": map[string]any{"minReplicas": 1, "maxReplicas": 1}}
	existing := devConfig(t).with("llmserve:cluster", map[string]any{"mode": "existing"}).with("llmserve:gcpResources", "false").
		with("llmserve:modelStore", map[string]any{"bucket": "my-models"})
	cases := []struct {
		name      string
		cfg       stackConfig
		want      map[string]any
		poolNodes float64 // the created pool's max size; 0: no pool created
	}{
		{"one replica, default pool: surge, never take the only server down", devConfig(t).with("llmserve:overrides", one), surge, 2},
		{"default pool holds maxReplicas+1", devConfig(t), surge, 3},
		{"pool exactly maxReplicas: replace in place", devConfig(t).with("llmserve:pool", map[string]any{"maxNodes": 2}), replace, 2},
		{"one replica in a one-slice pool: replace (nowhere to surge)", devConfig(t).with("llmserve:overrides", one).with("llmserve:pool", map[string]any{"maxNodes": 1}), replace, 1},
		{"autopilot provisions the spare slice", devConfig(t).with("llmserve:cluster", map[string]any{"mode": "autopilot", "name": "llm-dev"}), surge, 0},
		{"existing cluster, pool size unknown: replace", existing, replace, 0},
		{"existing cluster whose pool has room", existing.with("llmserve:pool", map[string]any{"maxNodes": 3}), surge, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := mustRun(t, "dev", c.cfg)
			assert.Equal(t, c.want, dig(t, server(t, rec), "spec.strategy.rollingUpdate"))
			if c.poolNodes > 0 {
				assert.Equal(t, c.poolNodes, dig(t, in(rec.named(t, tNodePool, "tpu-pool")), "autoscaling.totalMaxNodeCount"))
			}
		})
	}
}
