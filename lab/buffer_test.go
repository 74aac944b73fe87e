package lab

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSpareCounts: a placeholder holds a spare node only Running on a Ready node; unbound,
// bound to a node still provisioning, or bound and not started, it waits; preempted (being
// deleted) it is neither, its replacement is what counts.
func TestSpareCounts(t *testing.T) {
	now := metav1.Now()
	pod := func(node string, phase corev1.PodPhase, deleting bool) corev1.Pod {
		p := corev1.Pod{Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
		if deleting {
			p.DeletionTimestamp = &now
		}
		return p
	}
	ready := map[string]bool{"a": true, "b": true}
	for _, tc := range []struct {
		name           string
		pods           []corev1.Pod
		spare, pending int
	}{
		{"none", nil, 0, 0},
		{"holding a node", []corev1.Pod{pod("a", corev1.PodRunning, false)}, 1, 0},
		{"unbound", []corev1.Pod{pod("", corev1.PodPending, false)}, 0, 1},
		{"node provisioning", []corev1.Pod{pod("c", corev1.PodRunning, false)}, 0, 1},
		{"bound, not started", []corev1.Pod{pod("b", corev1.PodPending, false)}, 0, 1},
		{"preempted and replaced", []corev1.Pod{pod("a", corev1.PodRunning, true), pod("", corev1.PodPending, false)}, 0, 1},
		{"two spare", []corev1.Pod{pod("a", corev1.PodRunning, false), pod("b", corev1.PodRunning, false)}, 2, 0},
	} {
		spare, pending := spareCounts(tc.pods, ready)
		require.Equal(t, tc.spare, spare, tc.name)
		require.Equal(t, tc.pending, pending, tc.name)
	}
}

// TestStartNodes: the start creates a node for each of minReplicas and each spare node,
// never fewer than minNodes nor more than maxNodes; it waits for as many placeholders as
// those nodes hold beside the replicas.
func TestStartNodes(t *testing.T) {
	for _, tc := range []struct {
		name                                 string
		minNodes, maxNodes, minReplicas, buf int
		nodes, spare                         int
	}{
		{"no buffer", 1, 3, 1, 0, 1, 0},
		{"one spare", 1, 3, 1, 1, 2, 1},
		{"minNodes above", 4, 6, 1, 1, 4, 1},
		{"two replicas, two spare", 2, 6, 2, 2, 4, 2},
		{"maxNodes caps", 1, 2, 1, 3, 2, 1},
		{"negative buffer is none", 1, 3, 1, -1, 1, 0},
	} {
		n := startNodes(tc.minNodes, tc.maxNodes, tc.minReplicas, tc.buf)
		require.Equal(t, tc.nodes, n, tc.name)
		require.Equal(t, tc.spare, startSpare(n, tc.minReplicas, tc.buf), tc.name)
	}
	require.Equal(t, 0, startSpare(1, 2, 1), "a fixed pool below minReplicas holds no spare node")
}

// TestSpareShown: the live line says spare=N/M and how many wait, only for a stack with a
// buffer; the CSV has spare and spare_pending columns.
func TestSpareShown(t *testing.T) {
	require.NotContains(t, PlainLine(Row{}), "spare", "no buffer, no spare field")
	require.Contains(t, PlainLine(Row{Spare: 1, SpareWant: 1}), " spare=1/1 ")
	require.Contains(t, PlainLine(Row{SparePending: 1, SpareWant: 1}), " spare=0/1 (1 pending) ")

	path := filepath.Join(t.TempDir(), "t.csv")
	require.NoError(t, WriteCSV(path, []Row{{Spare: 2, SparePending: 1, SpareWant: 3}}))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	col := map[string]string{}
	for i, h := range recs[0] {
		col[h] = recs[1][i]
	}
	require.Equal(t, "2", col["spare"], strings.Join(recs[0], ","))
	require.Equal(t, "1", col["spare_pending"])
}
