//go:build integration

package tests

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/lab"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestLabAutoscaling runs the real HPA controller against the stack llmserve deploys, on a
// kwok cluster of its own (not the envtest apiserver of TestMain), with the lab's adapter
// and server model. The pool's maxNodes is 4 (= maxReplicas) but only 3 nodes exist, a TPU
// stockout: the 4th replica must stay Pending. The load is 3.5 replicas' worth, so the
// model predicts 4. Then the adapter stops answering for two sync periods: the HPA must
// keep its replicas. Then the load stops: the HPA must scale down, but not before its 30 s
// stabilization window has passed.
func TestLabAutoscaling(t *testing.T) {
	cfg, err := lab.ConfigFromEnv()
	require.NoError(t, err)
	cfg.WorkDir = t.TempDir()
	cfg.Nodes = 3
	cfg.ModelLoadDelay = 5 * time.Second
	const (
		syncPeriod  = lab.DefaultHPASyncPeriod
		window      = 30 * time.Second // the default scaleDown.stabilizationWindowSeconds
		stepLoad    = 3.5
		pause       = 2*syncPeriod + 5*time.Second
		maxReach    = 4 * syncPeriod // from the load step to desired = predicted
		maxScaleDn  = 150 * time.Second
		testTimeout = 6 * time.Minute
	)
	var log strings.Builder
	cfg.Log = &syncWriter{b: &log}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	l, err := lab.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("lab start: %v\n%s", err, tailString(log.String(), 4000))
	}
	defer func() { require.NoError(t, l.Close()) }()
	prof := l.Stack.Profile.Autoscaling
	require.Equal(t, 4, prof.MaxReplicas, "the default profile's maxReplicas")
	require.Equal(t, 4, *l.Stack.Pool.MaxNodes, "the pool mirrors maxReplicas")
	predicted := lab.PredictReplicas(l.Model, stepLoad*l.Model.Capacity(), prof.MinReplicas, prof.MaxReplicas)
	require.Equal(t, 4, predicted)

	sc := lab.Scenario{Name: "test", Phases: []lab.Phase{{Name: "step", Duration: 90 * time.Second, Load: stepLoad},
		{Name: "drop", Duration: maxScaleDn, Load: 0}}}
	dropAt, _ := sc.Start("drop")
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		reachedAt, pausedAt, resumedAt, downAt time.Duration = -1, -1, -1, -1
		sawInactive                            bool
		pendingWhy                             string
	)
	rows, err := l.Run(runCtx, sc, func(r lab.Row) {
		t.Log(lab.PlainLine(r))
		if r.Unschedulable > 0 && pendingWhy == "" {
			pendingWhy = unschedulableReason(ctx, t, l)
		}
		switch {
		case reachedAt < 0 && r.Desired >= predicted:
			reachedAt = r.T
			// The HPA has scaled on our metric: stop the adapter answering.
			l.Adapter.SetAnswering(false)
			pausedAt = r.T
		case pausedAt >= 0 && resumedAt < 0:
			if strings.HasPrefix(r.ScalingActive, "False") {
				sawInactive = true
			}
			if r.T-pausedAt >= pause {
				l.Adapter.SetAnswering(true)
				resumedAt = r.T
			}
		case r.T > dropAt && downAt < 0 && r.Spec < predicted:
			downAt = r.T
		case downAt >= 0 && r.Spec == prof.MinReplicas:
			stop() // scaled all the way down: done
		}
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("lab run: %v", err)
	}
	if t.Failed() || os.Getenv("LLMSERVE_LAB_KEEP") != "" {
		_ = lab.WriteCSV(filepath.Join(cfg.WorkDir, "timeline.csv"), rows)
	}

	// The HPA used our metric: ScalingActive=True with the adapter's value of our metric name.
	var active bool
	for _, r := range rows {
		active = active || strings.HasPrefix(r.ScalingActive, "True/ValidMetricFound")
	}
	require.True(t, active, "ScalingActive=True never seen")

	// Scale-up to the predicted count within maxReach of the step.
	require.GreaterOrEqual(t, reachedAt, time.Duration(0), "desired never reached %d", predicted)
	require.LessOrEqual(t, reachedAt, maxReach, "desired reached %d after %s; want within %s", predicted, reachedAt, maxReach)

	// Never above maxReplicas, never more ready than nodes; the 4th pod was Pending.
	sawUnschedulable := false
	for _, r := range rows {
		require.LessOrEqual(t, r.Spec, prof.MaxReplicas, "at %s", r.T)
		require.LessOrEqual(t, r.Ready, cfg.Nodes, "at %s", r.T)
		sawUnschedulable = sawUnschedulable || (r.Spec == 4 && r.Unschedulable == 1)
	}
	require.True(t, sawUnschedulable, "the 4th replica never showed as unschedulable")
	require.Contains(t, pendingWhy, "Insufficient "+catalog.ResourceTPU)

	// While the adapter was silent the HPA kept its replicas and said why.
	require.GreaterOrEqual(t, resumedAt, time.Duration(0), "the adapter was never resumed")
	require.True(t, sawInactive, "ScalingActive never went False while the adapter was silent")
	for _, r := range rows {
		if r.T >= pausedAt && r.T <= resumedAt {
			require.Equal(t, predicted, r.Spec, "replicas changed at %s while the adapter was silent", r.T)
		}
	}

	// Scale-down after the load stopped, not before the stabilization window.
	require.GreaterOrEqual(t, downAt, time.Duration(0), "never scaled down")
	require.GreaterOrEqual(t, downAt-dropAt, window-2*time.Second, "scaled down %s after the drop, inside the %s window", downAt-dropAt, window)
	last := rows[len(rows)-1]
	require.Equal(t, prof.MinReplicas, last.Spec, "not back at minReplicas by the end")

	// The condition on the HPA object itself names our metric.
	hpa, err := l.Kube.AutoscalingV2().HorizontalPodAutoscalers(l.Namespace).Get(ctx, l.Name, metav1.GetOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, hpa.Status.CurrentMetrics)
	require.Equal(t, l.HPAMetrics[0], hpa.Status.CurrentMetrics[0].Pods.Metric.Name)
	for _, c := range hpa.Status.Conditions {
		if c.Type == autoscalingv2.ScalingActive {
			require.Equal(t, corev1.ConditionTrue, c.Status, "ScalingActive: %s", c.Message)
		}
	}
}

// TestLabNodesMirrorPool checks the fake nodes carry what GKE puts on a TPU v6e node.
func TestLabNodesMirrorPool(t *testing.T) {
	nodes, err := lab.TPUNodes("2x4", 2)
	require.NoError(t, err)
	require.Len(t, nodes, 2)
	n := nodes[0]
	require.Equal(t, catalog.TPUv6eNodeLabelValue, n.Labels[catalog.LabelTPUAccelerator])
	require.Equal(t, "2x4", n.Labels[catalog.LabelTPUTopology])
	q := n.Status.Capacity[catalog.ResourceTPU]
	require.Equal(t, int64(8), q.Value())
	require.Equal(t, []corev1.Taint{{Key: catalog.ResourceTPU, Value: "present", Effect: corev1.TaintEffectNoSchedule}}, n.Spec.Taints)
}

// unschedulableReason returns the scheduler's message on a Pending replica.
func unschedulableReason(ctx context.Context, t *testing.T, l *lab.Lab) string {
	pods, err := l.Kube.CoreV1().Pods(l.Namespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				return c.Reason + ": " + c.Message
			}
		}
	}
	return ""
}

// syncWriter collects output written from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
