package lab

import (
	"context"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// NodePoolName is the GKE node pool label the fake TPU nodes carry.
const NodePoolName = "lab-tpu"

// machineSize is the host of each v6e machine type: vCPUs and memory (GiB)
// (cloud.google.com/tpu/docs/v6e: ct6e-standard-1t 44 vCPU / 448 GB, -4t 180 / 720,
// -8t 180 / 1440). Pods ask only for TPUs and small sidecars, so this rarely binds, but
// the scheduler sees a node that looks like the real one.
var machineSize = map[string]struct{ cpu, memGi int }{
	"ct6e-standard-1t": {44, 448}, "ct6e-standard-4t": {180, 720}, "ct6e-standard-8t": {180, 1440},
}

// TPUNodes returns the fake nodes of a TPU v6e pool of the given topology and size: GKE's
// TPU labels and taint, google.com/tpu capacity equal to the slice's chips, and kwok's
// annotation so that kwok keeps them Ready and runs their pods.
func TPUNodes(topology string, n int) ([]*corev1.Node, error) {
	slice, ok := catalog.LookupTPUSlice(topology)
	if !ok {
		return nil, fmt.Errorf("lab nodes: topology %q: want one of %s", topology, catalog.TPUTopologies())
	}
	size := machineSize[slice.MachineType]
	var nodes []*corev1.Node
	for i := range n {
		name := fmt.Sprintf("gke-lab-tpu-%s-%d", slice.MachineType, i)
		capacity := corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewQuantity(int64(size.cpu), resource.DecimalSI),
			corev1.ResourceMemory: resource.MustParse(fmt.Sprintf("%dGi", size.memGi)),
			corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
			catalog.ResourceTPU:   *resource.NewQuantity(int64(slice.Chips), resource.DecimalSI),
		}
		nodes = append(nodes, &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Labels: map[string]string{
					catalog.LabelTPUAccelerator:        catalog.TPUv6eNodeLabelValue,
					catalog.LabelTPUTopology:           slice.Topology,
					"node.kubernetes.io/instance-type": slice.MachineType,
					"cloud.google.com/gke-nodepool":    NodePoolName,
					"kubernetes.io/hostname":           name,
					"kubernetes.io/os":                 "linux",
					"type":                             "kwok",
				},
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			},
			Spec: corev1.NodeSpec{
				// GKE taints TPU nodes so that only pods asking for TPUs land there.
				Taints: []corev1.Taint{{Key: catalog.ResourceTPU, Value: "present", Effect: corev1.TaintEffectNoSchedule}},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		})
	}
	return nodes, nil
}

// CreateNodes creates the nodes (replacing any of the same name).
func CreateNodes(ctx context.Context, cs kubernetes.Interface, nodes []*corev1.Node) error {
	for _, n := range nodes {
		err := cs.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("lab nodes: %s: %w", n.Name, err)
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("lab nodes: %s: %w", n.Name, err)
		}
	}
	return nil
}
