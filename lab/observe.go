package lab

import (
	"context"
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// observe reads pods, nodes and the HPA, completes cold starts, steps the sim to now with
// the arrivals and returns the row. prewarmed skips the cold start of the replicas it finds
// (the ones serving before the scenario).
func (l *Lab) observe(ctx context.Context, arrivals []Request, ph Phase, origin time.Duration, prewarmed bool) (Row, error) {
	now := l.Now()
	sel, buf := l.selector(ComponentServer), l.selector(ComponentBuffer)
	// Every pod, not only the replicas: any pod that runs the server image on a node (a
	// placeholder holding a spare node, say) leaves the image there (ImageCache). Pods are
	// read before nodes (see BoundToUnreadyNodes).
	all, err := l.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return Row{}, fmt.Errorf("lab: pods: %w", err)
	}
	pods, others, placeholders := &corev1.PodList{}, []corev1.Pod{}, []corev1.Pod{}
	for _, p := range all.Items {
		switch {
		case p.Namespace == l.Namespace && sel.Matches(labels.Set(p.Labels)):
			pods.Items = append(pods.Items, p)
		case p.Namespace == l.Namespace && buf.Matches(labels.Set(p.Labels)):
			placeholders = append(placeholders, p)
			others = append(others, p)
		default:
			others = append(others, p)
		}
	}
	nodes, err := l.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return Row{}, fmt.Errorf("lab: nodes: %w", err)
	}
	nodesReady := 0
	readyNode, exists := map[string]bool{}, map[string]bool{}
	for i := range nodes.Items {
		exists[nodes.Items[i].Name] = true
		if nodeReady(&nodes.Items[i]) {
			nodesReady++
			readyNode[nodes.Items[i].Name] = true
		}
	}
	l.images.Forget(exists) // a removed node takes its images with it
	// Placeholders found at the start have held their nodes for as long as the replicas
	// have served: their images are there (prewarmed).
	l.recordPulls(others, readyNode, now, prewarmed)
	spare, sparePending := spareCounts(placeholders, readyNode)
	var ready []string
	pending, loading := 0, 0
	for i := range pods.Items {
		p := &pods.Items[i]
		life := l.pods[p.Name]
		if _, ok := l.seen[p.Name]; !ok {
			l.seen[p.Name] = now
		}
		switch {
		case p.DeletionTimestamp != nil:
		case podReady(p):
			ready = append(ready, p.Name)
			if life != nil && life.ReadyAt < 0 {
				life.ReadyAt = now
			}
			l.XLA.Served(now)
		case p.Spec.NodeName == "":
			pending++
		case p.Status.Phase == corev1.PodRunning && !readyNode[p.Spec.NodeName]:
			// Bound to a node not Ready (the pool's template keeps new nodes tainted
			// not-ready, so only a node that went NotReady later): it starts once Ready.
			pending++
		case p.Status.Phase == corev1.PodRunning:
			loading++
			if life == nil {
				warm := l.XLA.Warm(now)
				node, image := p.Spec.NodeName, serverImage(p)
				pull := l.ColdStart.Pull()
				if prewarmed {
					pull = 0 // served before the scenario: the image is there
				}
				wait := l.images.Pull(node, image, now, pull)
				life = &PodLife{Created: l.seen[p.Name], Started: now, ColdStart: l.ColdStart.On(warm, wait), Warm: warm, ReadyAt: -1,
					Node: node, ImageCached: pull > 0 && wait < pull}
				if prewarmed {
					life.ColdStart, life.Warm = 0, true
				}
				l.pods[p.Name] = life
			}
			if !life.Patched && now >= life.Started+life.ColdStart {
				patch := []byte(`{"metadata":{"annotations":{"` + AnnotationLoaded + `":"true"}}}`)
				if _, err := l.Kube.CoreV1().Pods(l.Namespace).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
					return Row{}, fmt.Errorf("lab: pod %s: %w", p.Name, err)
				}
				life.Patched = true
			}
		}
	}
	st := l.Sim.Step(now-l.simNow(), arrivals, ready)
	row := Row{T: now - origin, Phase: ph.Name, Waiting: st.Waiting, Running: st.Running, Ready: st.Ready,
		Pods: len(pods.Items), Unschedulable: pending, Loading: loading, Nodes: len(nodes.Items), NodesReady: nodesReady,
		Target: l.Targets[0], Spare: spare, SparePending: sparePending, SpareWant: l.SpareWant()}
	row.Metric, _ = l.Sim.Visible(l.HPAMetrics[0])
	hpa, err := l.Kube.AutoscalingV2().HorizontalPodAutoscalers(l.Namespace).Get(ctx, l.Name, metav1.GetOptions{})
	if err != nil {
		return Row{}, fmt.Errorf("lab: hpa: %w", err)
	}
	row.Desired = int(hpa.Status.DesiredReplicas)
	dep, err := l.Kube.AppsV1().Deployments(l.Namespace).Get(ctx, l.Name, metav1.GetOptions{})
	if err != nil {
		return Row{}, fmt.Errorf("lab: deployment: %w", err)
	}
	if dep.Spec.Replicas != nil {
		row.Spec = int(*dep.Spec.Replicas)
	}
	row.ScalingActive = hpaCondition(hpa, autoscalingv2.ScalingActive)
	if len(hpa.Status.CurrentMetrics) > 0 && hpa.Status.CurrentMetrics[0].Pods != nil {
		if v := hpa.Status.CurrentMetrics[0].Pods.Current.AverageValue; v != nil {
			row.HPAMetric = v.AsApproximateFloat64()
			row.HPAMetricSeen = true
		}
	}
	return row, nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hpaCondition(h *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) string {
	for _, c := range h.Status.Conditions {
		if c.Type == t {
			return string(c.Status) + "/" + c.Reason
		}
	}
	return ""
}

// ServerContainer is the name of the model server's container in a replica (components:
// the vLLM and JetStream containers are both "server"): its image is the one the cold
// start pulls.
const ServerContainer = "server"

// serverImage is the image of a replica's server container (its first container's if none
// is named ServerContainer).
func serverImage(p *corev1.Pod) string {
	for _, c := range p.Spec.Containers {
		if c.Name == ServerContainer {
			return c.Image
		}
	}
	if len(p.Spec.Containers) > 0 {
		return p.Spec.Containers[0].Image
	}
	return ""
}

// recordPulls records in the image cache the images of the pods other than the replicas
// (theirs are recorded when their cold start begins) running on a Ready node, such as a
// placeholder running the server image: it pulls them once it starts, as a replica would.
// prewarmed pods have been running before the scenario: their images are there already.
func (l *Lab) recordPulls(others []corev1.Pod, readyNode map[string]bool, now time.Duration, prewarmed bool) {
	pull := l.ColdStart.Pull()
	if prewarmed {
		pull = 0
	}
	for i := range others {
		p := &others[i]
		if p.Spec.NodeName == "" || !readyNode[p.Spec.NodeName] || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, c := range p.Spec.Containers {
			l.images.Pull(p.Spec.NodeName, c.Image, now, pull)
		}
	}
}
