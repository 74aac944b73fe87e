//go:build integration

package tests

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/llmserve/llmserve/components"
	"github.com/llmserve/llmserve/lab"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// TestLabBufferPlaceholderPreempted (issue 19, point 6): autoscaling.buffer in the lab, with
// the real kube-scheduler preempting and the real cluster-autoscaler adding the node, at 10x
// speed. One replica and one placeholder start on two nodes (the placeholder's node holds
// the server image: it has been there as long as the replica). When the load makes the HPA
// add the second replica, the scheduler preempts the placeholder for it: the replica starts
// at once on the placeholder's node, with no image pull, and is ready sooner than a replica
// on a new node would be by at least the node's provisioning and the image pull (less 30 s
// of observation and API latency). The placeholder comes back Pending, the autoscaler adds a
// node for it, and it pulls the server image there, ready for the next scale-up.
func TestLabBufferPlaceholderPreempted(t *testing.T) {
	cfg := labConfig(t)
	cfg.Speed = 10
	cfg.Overrides = map[string]any{"autoscaling": map[string]any{"minReplicas": 1, "maxReplicas": 2, "buffer": map[string]any{"replicas": 1}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	l := startLab(ctx, t, cfg)
	require.Equal(t, 1, l.SpareWant())
	require.GreaterOrEqual(t, l.MaxNodes, 3, "the pool has room for 2 replicas and the spare node")

	// The start: the replica on one node, the placeholder holding the other, its image there.
	replicas := labPods(ctx, t, l, lab.ComponentServer)
	require.Len(t, replicas, 1)
	first, nodeA := replicas[0].Name, replicas[0].Spec.NodeName
	phs := placeholders(ctx, t, l)
	require.Len(t, phs, 1, "one placeholder (label %s=%s)", components.LabelComponent, lab.ComponentBuffer)
	p1, nodeB := phs[0].Name, phs[0].Spec.NodeName
	require.Equal(t, corev1.PodRunning, phs[0].Status.Phase)
	require.NotEmpty(t, nodeB)
	require.NotEqual(t, nodeA, nodeB)
	require.True(t, l.HasImage(nodeB), "the placeholder's node holds the server image at the start")
	startNodes := map[string]bool{}
	nodes, err := l.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, n := range nodes.Items {
		startNodes[n.Name] = true
	}
	require.Len(t, startNodes, 2, "a node for the replica and one for the placeholder")

	// The quiet phase keeps one replica: 0.1 replicas' worth runs ~6 of 64 slots, below the
	// running target's 16 (0.3 ran 22 in a first version of this test, and the HPA added the
	// second replica before the load).
	sc := lab.Scenario{Name: "buffer-test", Phases: []lab.Phase{{Name: "quiet", Duration: 2 * time.Minute, Load: 0.1},
		{Name: "load", Duration: 14 * time.Minute, Load: 1.6}}}
	loadAt, _ := sc.Start("load")
	// The load phase outlasts the HPA's reaction, the replacement placeholder's node and its
	// image pull.
	require.Less(t, l.NodeProvisioning+l.ColdStart.Pull()+3*time.Minute, sc.Phases[1].Duration)
	var (
		p2                                  string
		p2Node                              string
		p2PendingAt, p2RunningAt, p2ImageAt time.Duration = -1, -1, -1
		p2ImageAtStart                      bool
		sawSparePending                     bool
	)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	rows, err := l.Run(runCtx, sc, func(r lab.Row) {
		if int(r.T/time.Second)%30 == 0 {
			t.Log(lab.PlainLine(r))
		}
		sawSparePending = sawSparePending || r.SparePending > 0
		for _, p := range placeholders(ctx, t, l) {
			if p.Name == p1 {
				continue
			}
			if p2 == "" {
				p2 = p.Name
			}
			switch {
			case p2PendingAt < 0 && p.Spec.NodeName == "":
				p2PendingAt = r.T
			case p2RunningAt < 0 && p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning && r.SparePending == 0:
				p2RunningAt, p2Node = r.T, p.Spec.NodeName
				p2ImageAtStart = l.HasImage(p2Node)
			}
		}
		if p2RunningAt >= 0 && p2ImageAt < 0 && l.HasImage(p2Node) {
			p2ImageAt = r.T
		}
		if p2ImageAt >= 0 && secondReady(l, first) {
			stop() // all seen: done
		}
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("lab run: %v", err)
	}
	keepTimeline(t, cfg, rows)

	for _, r := range rows {
		if r.T < loadAt {
			require.Equal(t, 1, r.Spec, "the HPA added a replica before the load: %s", lab.PlainLine(r))
			require.Equal(t, 1, r.Spare, "the placeholder holds its node until the load: %s", lab.PlainLine(r))
		}
	}

	// (a) The scheduler preempted the placeholder for the second replica, and the
	// placeholders' Deployment re-created it Pending.
	events, err := l.Kube.CoreV1().Events(l.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", p1).String()})
	require.NoError(t, err)
	preempted := ""
	for _, e := range events.Items {
		if e.Reason == "Preempted" {
			preempted = e.Message
		}
	}
	require.NotEmpty(t, preempted, "no Preempted event on placeholder %s (%d events)", p1, len(events.Items))
	t.Logf("%s: %s", p1, preempted)
	for _, p := range placeholders(ctx, t, l) {
		require.NotEqual(t, p1, p.Name, "the preempted placeholder is still there")
	}
	require.NotEmpty(t, p2, "no placeholder replaced %s", p1)
	require.GreaterOrEqual(t, p2PendingAt, loadAt, "the replacement placeholder %s was never Pending after the load began", p2)
	require.True(t, sawSparePending, "no row counted a pending placeholder")

	// (b) The second replica ran on the placeholder's node, the image already there, and was
	// ready sooner than on a new node by at least the provisioning and the image pull.
	var second *lab.PodLife
	for name, p := range l.Pods() {
		t.Logf("%s: node %s, seen %s, started %s, cold start %s, warm %v, image cached %v, ready at %s",
			name, p.Node, p.Created, p.Started, p.ColdStart, p.Warm, p.ImageCached, p.ReadyAt)
		if name != first {
			second = &p
		}
	}
	require.NotNil(t, second, "the HPA's second replica was never seen starting")
	require.Equal(t, nodeB, second.Node, "the second replica is on the preempted placeholder's node")
	require.True(t, second.ImageCached, "the placeholder had pulled the image on %s", nodeB)
	require.Equal(t, l.ColdStart.On(second.Warm, 0), second.ColdStart, "no image pull in its cold start")
	require.GreaterOrEqual(t, second.ReadyAt, time.Duration(0), "the second replica never became ready")
	took := second.ReadyAt - second.Created
	// On a new node it would have waited for the node, then pulled the image.
	newNode := l.NodeProvisioning + l.ColdStart.Duration(second.Warm)
	require.LessOrEqual(t, took, newNode-(l.NodeProvisioning+l.ColdStart.Pull()-30*time.Second),
		"ready %s after it was created; a replica on a new node takes %s", took, newNode)

	// (c) The cluster-autoscaler added a node for the replacement placeholder, which pulled
	// the image there once it ran.
	require.GreaterOrEqual(t, p2RunningAt, time.Duration(0), "the replacement placeholder %s never ran (log %s)", p2, l.CALog())
	require.False(t, startNodes[p2Node], "the replacement placeholder runs on %s, a node of the start, not a new one", p2Node)
	require.NotEqual(t, nodeB, p2Node)
	// Rows come every world second, plus API latency: as the CA test, allow 20 s.
	require.GreaterOrEqual(t, p2RunningAt-p2PendingAt, l.NodeProvisioning-20*time.Second, "the placeholder ran before a new node could be provisioned")
	require.False(t, p2ImageAtStart, "the new node %s held the image before any pod pulled it", p2Node)
	require.GreaterOrEqual(t, p2ImageAt, time.Duration(0), "the placeholder never pulled the image on %s", p2Node)
	tolerance := 15 * time.Second // a world second per observation, plus kwok's reaction at 10x
	require.InDelta(t, l.ColdStart.Pull().Seconds(), (p2ImageAt - p2RunningAt).Seconds(), tolerance.Seconds())
	last := rows[len(rows)-1]
	require.Equal(t, 1, last.Spare, "the buffer holds its spare node again: %s", lab.PlainLine(last))
	require.Equal(t, 3, last.Nodes)
	t.Logf("second replica ready %s after it was created (new node: %s); placeholder pending at %s, running on %s at %s, image there at %s",
		took, newNode, p2PendingAt, p2Node, p2RunningAt, p2ImageAt)
}

// labPods returns the lab stack's pods of one component that are not being deleted.
func labPods(ctx context.Context, t *testing.T, l *lab.Lab, component string) []corev1.Pod {
	t.Helper()
	sel := labels.SelectorFromSet(map[string]string{components.LabelName: l.Name, components.LabelComponent: component})
	ps, err := l.Kube.CoreV1().Pods(l.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	require.NoError(t, err)
	return notDeleting(ps.Items)
}

// placeholders returns the lab's placeholders (Lab.Placeholders) not being deleted.
func placeholders(ctx context.Context, t *testing.T, l *lab.Lab) []corev1.Pod {
	t.Helper()
	ps, err := l.Placeholders(ctx)
	require.NoError(t, err)
	return notDeleting(ps)
}

func notDeleting(pods []corev1.Pod) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// secondReady says whether a replica other than first has become ready.
func secondReady(l *lab.Lab, first string) bool {
	for name, p := range l.Pods() {
		if name != first && p.ReadyAt >= 0 {
			return true
		}
	}
	return false
}
