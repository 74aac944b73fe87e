package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The cluster-autoscaler's timing. Upstream defaults (kubernetes/autoscaler
// cluster-autoscaler/FAQ.md, "What are the parameters to CA?"), which GKE's "balanced"
// autoscaling profile keeps; each is a flag of the lab command and is divided by the speed.
const (
	DefaultCAScanInterval           = 10 * time.Second
	DefaultCAScaleDownUnneededTime  = 10 * time.Minute
	DefaultCAScaleDownDelayAfterAdd = 10 * time.Minute
	DefaultCAMaxNodeProvisionTime   = 15 * time.Minute
	// DefaultCAUnremovableRecheck is --unremovable-node-recheck-timeout: a node found
	// unremovable (its replica's PodDisruptionBudget) is not looked at again for 5 min.
	DefaultCAUnremovableRecheck = 5 * time.Minute
)

// DefaultNodeProvisioning is how long a new TPU v6e node takes from the cluster-autoscaler's
// request to Ready. No public figure for v6e on GKE was found: 5 minutes is the middle of
// the 4-7 minutes a managed-Kubernetes cluster-autoscaler documents for a new node
// (vk-cs/docs-public, "the autoscaler creates a new node ... This takes 4–7 minutes"),
// which a TPU VM, created on demand, does not beat; vLLM's pod-snapshot RFC puts "Spinning
// up a VM with a GPU and installing drivers" at 2-5 minutes (vllm-project/vllm#41893). A
// flag: set your own measurement.
const DefaultNodeProvisioning = 5 * time.Minute

// CA is the timing of the lab's cluster-autoscaler, in world time.
type CA struct {
	ScanInterval, ScaleDownUnneededTime, ScaleDownDelayAfterAdd, MaxNodeProvisionTime time.Duration
	UnremovableRecheck                                                                time.Duration
}

// DefaultCA is the upstream timing.
var DefaultCA = CA{ScanInterval: DefaultCAScanInterval, ScaleDownUnneededTime: DefaultCAScaleDownUnneededTime,
	ScaleDownDelayAfterAdd: DefaultCAScaleDownDelayAfterAdd, MaxNodeProvisionTime: DefaultCAMaxNodeProvisionTime,
	UnremovableRecheck: DefaultCAUnremovableRecheck}

// Annotations the lab's nodes and pods carry.
const (
	// AnnotationPreprovisioned marks the nodes the lab creates at the start (the pool's
	// minNodes): kwok makes them Ready at once; nodes the cluster-autoscaler adds wait the
	// node provisioning delay.
	AnnotationPreprovisioned = "lab.llmserve.dev/preprovisioned"
	// AnnotationLoaded is set by the lab on a replica once its cold start has passed; kwok
	// then makes it Ready.
	AnnotationLoaded = "lab.llmserve.dev/loaded"
	// kwok provider annotations (cluster-autoscaler cloudprovider/kwok/kwok_constants.go).
	caNGName  = "cluster-autoscaler.kwok.nodegroup/name"
	caNGMin   = "cluster-autoscaler.kwok.nodegroup/min-count"
	caNGMax   = "cluster-autoscaler.kwok.nodegroup/max-count"
	caNGSize  = "cluster-autoscaler.kwok.nodegroup/desired-count"
	caNS      = "kube-system"
	caConfig  = "kwok-provider-config"
	caTemplCM = "kwok-provider-templates"
)

// PoolNodes returns the pool's template node for the cluster-autoscaler's node group and its
// first minNodes nodes, as GKE would have created them: the TPU labels, taint and capacity
// of TPUNodes, the node pool label the node group is keyed on, and the kwok provider's
// annotations so that the autoscaler counts them in the group and may remove them.
func PoolNodes(topology string, minNodes, maxNodes int) (template *corev1.Node, nodes []*corev1.Node, err error) {
	all, err := TPUNodes(topology, max(minNodes, 1))
	if err != nil {
		return nil, nil, err
	}
	template = all[0].DeepCopy()
	template.Name = "template-" + NodePoolName
	template.Labels["kubernetes.io/hostname"] = template.Name
	template.Annotations[caNGMin] = strconv.Itoa(minNodes)
	template.Annotations[caNGMax] = strconv.Itoa(maxNodes)
	template.Annotations[caNGSize] = strconv.Itoa(minNodes)
	// A node the autoscaler adds registers NotReady and tainted node.kubernetes.io/not-ready:
	// NoSchedule until its kubelet reports Ready (kube-controller-manager then lifts the
	// taint), so the scheduler binds nothing to it while it provisions. kwok's nodes would
	// register with neither, and the scheduler bound Pending replicas to nodes still
	// provisioning; the autoscaler, which swaps a registered not-yet-started node for an
	// empty template node in its simulation (clusterstate.GetUpcomingNodes,
	// static_autoscaler.go), then counted that node free for the next Pending replica and
	// added no node for it. The kwok provider creates nodes from this template as it is
	// (Node status may be set on create); the autoscaler drops condition taints from it for
	// its own simulation (utils/taints.SanitizeTaints); node-initialize sets Ready after the
	// provisioning delay.
	template.Spec.Taints = append(template.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule})
	template.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse,
		Reason: "KubeletNotReady", Message: "node provisioning (llmserve lab)"}}
	for _, n := range all[:minNodes] {
		n.Annotations[caNGName] = NodePoolName
		n.Annotations[AnnotationPreprovisioned] = "true"
		n.Spec.ProviderID = "kwok:" + n.Name
		nodes = append(nodes, n)
	}
	return template, nodes, nil
}

// caProcess is a running cluster-autoscaler.
type caProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// startCA writes the kwok provider's ConfigMaps (one node group: the pool) and starts the
// cluster-autoscaler from bin against the lab cluster, its timing divided by speed. Its log
// goes to dir/cluster-autoscaler.log.
func startCA(ctx context.Context, kube kubernetes.Interface, bin, kubeconfig, dir string, template *corev1.Node, t CA, speed float64) (*caProcess, error) {
	// The kwok provider reads its node templates as a list of Nodes in YAML.
	tb, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{nodeObject(template)}})
	if err != nil {
		return nil, fmt.Errorf("lab autoscaler: %w", err)
	}
	conf, err := yaml.Marshal(map[string]any{
		"apiVersion": "v1alpha1", "readNodesFrom": "configmap",
		"nodegroups": map[string]any{"fromNodeLabelKey": "cloud.google.com/gke-nodepool"},
		// The pool's nodes carry GKE's TPU taint already; no kwok-provider taint on top.
		"nodes":     map[string]any{"skipTaint": true},
		"configmap": map[string]any{"name": caTemplCM},
	})
	if err != nil {
		return nil, fmt.Errorf("lab autoscaler: %w", err)
	}
	for name, data := range map[string]map[string]string{caConfig: {"config": string(conf)}, caTemplCM: {"templates": string(tb)}} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: caNS}, Data: data}
		if _, err := kube.CoreV1().ConfigMaps(caNS).Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("lab autoscaler: configmap %s: %w", name, err)
		}
	}
	scaled := func(d time.Duration) string { return wall(d, speed).String() }
	logPath := filepath.Join(dir, "cluster-autoscaler.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("lab autoscaler: %w", err)
	}
	cmd := exec.Command(filepath.Join(bin, "cluster-autoscaler"),
		"--cloud-provider=kwok", "--kubeconfig="+kubeconfig, "--namespace="+caNS, "--leader-elect=false",
		"--scan-interval="+scaled(t.ScanInterval),
		"--scale-down-unneeded-time="+scaled(t.ScaleDownUnneededTime),
		"--scale-down-delay-after-add="+scaled(t.ScaleDownDelayAfterAdd),
		"--scale-down-delay-after-delete="+scaled(t.ScanInterval),
		"--max-node-provision-time="+scaled(t.MaxNodeProvisionTime),
		"--unremovable-node-recheck-timeout="+scaled(t.UnremovableRecheck),
		// GKE sets this false: an emptyDir (the XLA cache volume) does not pin a node.
		"--skip-nodes-with-local-storage=false",
		"--address=127.0.0.1:0", "--logtostderr=true", "--v=2")
	cmd.Env = append(os.Environ(), "KWOK_PROVIDER_MODE=local", "KUBECONFIG="+kubeconfig, "POD_NAMESPACE="+caNS)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("lab autoscaler: %s not built (run `make tools`): %w", bin, err)
	}
	p := &caProcess{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(p.done) }()
	select {
	case <-p.done:
		return nil, fmt.Errorf("lab autoscaler exited at start (log %s)", logPath)
	case <-time.After(2 * time.Second):
	}
	return p, nil
}

// stop ends the autoscaler: SIGTERM, then SIGKILL after 5 s.
func (p *caProcess) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// nodeObject is a Node as plain YAML data (the typed object's JSON field names).
func nodeObject(n *corev1.Node) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{"name": n.Name, "labels": n.Labels, "annotations": n.Annotations},
		"spec":     map[string]any{"taints": taints(n.Spec.Taints)},
		"status":   nodeStatus(n.Status),
	}
}

func nodeStatus(st corev1.NodeStatus) map[string]any {
	out := map[string]any{"capacity": quantities(st.Capacity), "allocatable": quantities(st.Allocatable)}
	var conds []any
	for _, c := range st.Conditions {
		conds = append(conds, map[string]any{"type": string(c.Type), "status": string(c.Status), "reason": c.Reason, "message": c.Message})
	}
	if conds != nil {
		out["conditions"] = conds
	}
	return out
}

func taints(ts []corev1.Taint) []any {
	var out []any
	for _, t := range ts {
		out = append(out, map[string]any{"key": t.Key, "value": t.Value, "effect": string(t.Effect)})
	}
	return out
}

func quantities(rl corev1.ResourceList) map[string]string {
	out := map[string]string{}
	for k, v := range rl {
		out[string(k)] = v.String()
	}
	return out
}

// wall is the wall-clock duration of a world duration at the given speed.
func wall(d time.Duration, speed float64) time.Duration {
	if speed <= 0 {
		speed = 1
	}
	return time.Duration(float64(d) / speed)
}
