//go:build integration

package tests

import (
	"context"
	"testing"
	"time"

	"github.com/llmserve/llmserve/lab"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestLabStartsAtStartingNeed: a lab started for a scenario whose starting load is above
// minReplicas' capacity starts with the replicas that load needs, and the policy settles at
// its own state, not at maxReplicas. Running target 48 (of 64 slots) at 4.1 replicas' worth
// asks for about 6; the lab starts with 5. Before, it started from minReplicas (3), the
// queue of the 10 minutes a new replica takes drove the HPA to maxReplicas, and the run
// began there (issue 19: every policy paid 16 nodes from the first minute of bursts at
// -peak 12), and releasing the raised floor as the load began still let the HPA cut to
// minReplicas on its idle recommendations.
func TestLabStartsAtStartingNeed(t *testing.T) {
	cfg := labConfig(t)
	cfg.Speed = 10
	cfg.Overrides = map[string]any{"autoscaling": map[string]any{"maxReplicas": 8, "metrics": []any{
		map[string]any{"metric": "vllm:num_requests_waiting", "target": 10},
		map[string]any{"metric": "vllm:num_requests_running", "target": 48},
	}}}
	const load = 4.1
	sc := lab.Scenario{Name: "start-test", Phases: []lab.Phase{{Name: "base", Duration: 2 * time.Minute, Load: load}}}
	cfg.StartScenario = &sc
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	l := startLab(ctx, t, cfg)
	as := l.Stack.Profile.Autoscaling
	require.Equal(t, 3, as.MinReplicas)
	require.Equal(t, 8, as.MaxReplicas)
	start := lab.StartReplicas(load, as.MinReplicas, as.MaxReplicas)
	require.Equal(t, 5, start)
	var first *lab.Row
	lowest := as.MaxReplicas
	s, err := l.Settle(ctx, sc, func(r lab.Row) {
		if first == nil {
			first = &r
		}
		lowest = min(lowest, r.Spec)
		if int(r.T/time.Second)%30 == 0 {
			t.Log(lab.PlainLine(r))
		}
	})
	require.NoError(t, err)
	require.NotNil(t, first)
	require.GreaterOrEqual(t, first.Ready, start, "the first settling row: %s", lab.PlainLine(*first))
	// The policy wants about 6 here: it never scales below the start. Released at once, the
	// floor let the HPA act on its idle recommendations and cut to minReplicas (3).
	require.GreaterOrEqual(t, lowest, start, "the HPA scaled below the start while settling")
	require.True(t, s.OK, "not at rest after %s: %+v", s.After, s)
	require.GreaterOrEqual(t, s.Replicas, start)
	require.Less(t, s.Replicas, as.MaxReplicas, "settled at maxReplicas: the start was below the need")
	rows, err := l.Run(ctx, sc, nil)
	require.NoError(t, err)
	keepTimeline(t, cfg, rows)
	require.NotEmpty(t, rows)
	last := rows[len(rows)-1]
	require.Less(t, last.Waiting, float64(last.Ready), "a standing queue: %s", lab.PlainLine(last))
	// The HPA has its own floor back.
	hpa, err := l.Kube.AutoscalingV2().HorizontalPodAutoscalers(l.Namespace).Get(ctx, l.Name, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(as.MinReplicas), *hpa.Spec.MinReplicas)
}
