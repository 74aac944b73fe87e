package lab

import (
	"context"
	"fmt"

	"github.com/llmserve/llmserve/components"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The values of components.LabelComponent on the pods the lab tells apart. components sets
// them as literals (components/model_server.go NewModelServer, components/capacity_buffer.go
// NewCapacityBuffer); the buffer integration test fails if they drift, since it finds no
// placeholder then.
const (
	// ComponentServer labels a server replica.
	ComponentServer = "model-server"
	// ComponentBuffer labels a placeholder pod of autoscaling.buffer: it holds a spare node
	// and runs the server image there, and any new replica preempts it.
	ComponentBuffer = "capacity-buffer"
)

// selector matches the lab stack's pods of one component.
func (l *Lab) selector(component string) labels.Selector {
	return labels.SelectorFromSet(map[string]string{components.LabelName: l.Name, components.LabelComponent: component})
}

// Placeholders returns the placeholder pods of the stack's capacity buffer, those being
// deleted (a preempted one) included.
func (l *Lab) Placeholders(ctx context.Context) ([]corev1.Pod, error) {
	ps, err := l.Kube.CoreV1().Pods(l.Namespace).List(ctx, metav1.ListOptions{LabelSelector: l.selector(ComponentBuffer).String()})
	if err != nil {
		return nil, fmt.Errorf("lab: placeholders: %w", err)
	}
	return ps.Items, nil
}

// HasImage says whether node holds the server image now: a replica or a placeholder has
// pulled it there (ImageCache).
func (l *Lab) HasImage(node string) bool {
	return l.images.Has(node, l.Stack.Profile.Image, l.Now())
}

// SpareWant is the number of spare nodes the stack's buffer holds (0 without a buffer).
func (l *Lab) SpareWant() int { return max(0, l.Stack.Profile.Autoscaling.Buffer.Replicas) }

// spareCounts counts the placeholders that hold a node (Running on a Ready node) and those
// waiting for one: not bound yet, or bound to a node not Ready. A placeholder being deleted
// (preempted) holds nothing any more and waits for nothing: its replacement is counted.
func spareCounts(placeholders []corev1.Pod, readyNode map[string]bool) (spare, pending int) {
	for i := range placeholders {
		p := &placeholders[i]
		switch {
		case p.DeletionTimestamp != nil:
		case p.Spec.NodeName == "" || !readyNode[p.Spec.NodeName]:
			pending++
		case p.Status.Phase == corev1.PodRunning:
			spare++
		default:
			pending++ // bound, its container not started yet
		}
	}
	return spare, pending
}

// startNodes is how many of the pool's nodes the lab creates at the start with the
// cluster-autoscaler: the pool's minNodes, or more when the stack has been serving
// minReplicas replicas and holding buffer spare nodes (one node each), within maxNodes.
func startNodes(minNodes, maxNodes, minReplicas, buffer int) int {
	return max(minNodes, min(minReplicas+max(buffer, 0), maxNodes))
}

// startSpare is how many placeholders the start waits to see running on nodes nodes:
// those the nodes left after minReplicas replicas can hold, at most buffer. A fixed pool
// smaller than minReplicas + buffer starts with the rest Pending, as a stockout would.
func startSpare(nodes, minReplicas, buffer int) int {
	return max(0, min(max(buffer, 0), nodes-minReplicas))
}
