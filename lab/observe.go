package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/llmserve/llmserve/components"
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
	sel := labels.SelectorFromSet(map[string]string{components.LabelName: l.Name, components.LabelComponent: "model-server"})
	pods, err := l.Kube.CoreV1().Pods(l.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return Row{}, fmt.Errorf("lab: pods: %w", err)
	}
	nodes, err := l.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return Row{}, fmt.Errorf("lab: nodes: %w", err)
	}
	nodesReady := 0
	readyNode := map[string]bool{}
	for i := range nodes.Items {
		if nodeReady(&nodes.Items[i]) {
			nodesReady++
			readyNode[nodes.Items[i].Name] = true
		}
	}
	var ready []string
	pending, loading := 0, 0
	for i := range pods.Items {
		p := &pods.Items[i]
		life := l.pods[p.Name]
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
				life = &PodLife{Started: now, ColdStart: l.ColdStart.Duration(warm), Warm: warm, ReadyAt: -1}
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
		Target: l.Targets[0]}
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
