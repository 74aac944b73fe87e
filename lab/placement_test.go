package lab

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// world is a cluster whose state moves on once, right after the first read: the race of
// the flaky lab test, where a node became Ready and the scheduler bound a replica to it
// between two reads.
type world struct {
	before, after struct {
		pods  []corev1.Pod
		nodes []corev1.Node
	}
	reads int
}

func (w *world) pods() ([]corev1.Pod, error) {
	w.reads++
	if w.reads == 1 {
		return w.before.pods, nil
	}
	return w.after.pods, nil
}

func (w *world) nodes() ([]corev1.Node, error) {
	w.reads++
	if w.reads == 1 {
		return w.before.nodes, nil
	}
	return w.after.nodes, nil
}

func testNode(name string, ready bool) corev1.Node {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}}}
}

func testPod(name, node string) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node}}
}

// TestBoundToUnreadyNodesIgnoresTheReadRace: a node provisioning, a replica Pending; then
// the node is Ready and the replica bound to it. Whatever moment the world moves at
// between the reads, no replica was ever bound to a node that was not Ready. Reading the
// nodes first reported "replica -> node" here.
func TestBoundToUnreadyNodesIgnoresTheReadRace(t *testing.T) {
	w := &world{}
	w.before.pods = []corev1.Pod{testPod("old", "n0"), testPod("new", "")}
	w.before.nodes = []corev1.Node{testNode("n0", true), testNode("n1", false)}
	w.after.pods = []corev1.Pod{testPod("old", "n0"), testPod("new", "n1")}
	w.after.nodes = []corev1.Node{testNode("n0", true), testNode("n1", true)}
	bad, err := boundToUnreadyNodes(w.pods, w.nodes)
	require.NoError(t, err)
	require.Empty(t, bad)
	require.Equal(t, 2, w.reads)
}

// TestBoundToUnreadyNodesFindsARealEarlyBind: a replica bound to a node that is still
// provisioning at both reads is reported; one whose node was removed since is not.
func TestBoundToUnreadyNodesFindsARealEarlyBind(t *testing.T) {
	w := &world{}
	w.before.pods = []corev1.Pod{testPod("early", "n1"), testPod("gone", "n2")}
	w.before.nodes = []corev1.Node{testNode("n1", false)}
	w.after = w.before
	bad, err := boundToUnreadyNodes(w.pods, w.nodes)
	require.NoError(t, err)
	require.Equal(t, []string{"early -> n1"}, bad)
}
