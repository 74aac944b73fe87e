package lab

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// BoundToUnreadyNodes lists the pods of a namespace bound to a node that is not Ready, as
// "pod -> node". On a real cluster there are none: a node registers tainted
// node.kubernetes.io/not-ready:NoSchedule until its kubelet reports Ready, and
// kube-controller-manager lifts the taint only then (the lab's pool template carries that
// taint, see PoolNodes). One would mean the lab lets a replica begin its cold start on a
// node still provisioning, which flatters every cold start, and lets the
// cluster-autoscaler count that node as free.
//
// Pods are read before nodes. A node only goes from provisioning to Ready, so a pod bound
// to a Ready node is still on a Ready node when the nodes are read after it. Reading nodes
// first (as the lab test did) reported a node that became Ready, and a replica the
// scheduler bound to it at once, between the two reads as a bind to a provisioning node:
// the flaky TestLabClusterAutoscalerAddsAndRemovesNodes. kwok's Ready condition cannot
// settle it by time: its heartbeat stage sets lastTransitionTime to the node's creation.
func BoundToUnreadyNodes(ctx context.Context, kube kubernetes.Interface, namespace string) ([]string, error) {
	return boundToUnreadyNodes(
		func() ([]corev1.Pod, error) {
			l, err := kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, fmt.Errorf("lab placement: pods: %w", err)
			}
			return l.Items, nil
		},
		func() ([]corev1.Node, error) {
			l, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, fmt.Errorf("lab placement: nodes: %w", err)
			}
			return l.Items, nil
		})
}

// boundToUnreadyNodes is BoundToUnreadyNodes on two readers, called in that order: pods, then
// nodes.
func boundToUnreadyNodes(pods func() ([]corev1.Pod, error), nodes func() ([]corev1.Node, error)) ([]string, error) {
	ps, err := pods()
	if err != nil {
		return nil, err
	}
	ns, err := nodes()
	if err != nil {
		return nil, err
	}
	ready := map[string]bool{}
	exists := map[string]bool{}
	for i := range ns {
		exists[ns[i].Name] = true
		ready[ns[i].Name] = nodeReady(&ns[i])
	}
	var bad []string
	for i := range ps {
		node := ps[i].Spec.NodeName
		// Not bound, or its node has been removed since (the cluster-autoscaler's scale-down).
		if node == "" || !exists[node] {
			continue
		}
		if !ready[node] {
			bad = append(bad, ps[i].Name+" -> "+node)
		}
	}
	return bad, nil
}
