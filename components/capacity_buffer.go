package components

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	schedulingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/scheduling/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// CapacityBufferArgs configures a CapacityBuffer.
type CapacityBufferArgs struct {
	Kube      Kube
	Namespace pulumi.StringInput
	// Name is the server's name (the model's objects' name); the placeholders are Name-buffer.
	Name string
	// PriorityClassName names the placeholders' PriorityClass. PriorityClasses are cluster
	// scoped: it must differ between every stack and model sharing a cluster.
	PriorityClassName string
	// Image is the server's image, which the placeholders run so that their nodes hold it.
	Image string
	// Replicas is the number of spare nodes (one placeholder each).
	Replicas int
	// Pool is the server's pool: the placeholders take its selector and a whole node's
	// accelerators from it, never retyped.
	Pool PoolCapacity
}

func (a *CapacityBufferArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if err := a.Kube.validate(); err != nil {
		return err
	}
	var errs []error
	if a.Namespace == nil || a.Name == "" || a.PriorityClassName == "" || a.Image == "" {
		errs = append(errs, errors.New("Namespace, Name, PriorityClassName and Image are required"))
	}
	if a.Replicas < 1 {
		errs = append(errs, fmt.Errorf("replicas %d: want at least 1 (no buffer is no component)", a.Replicas))
	}
	if a.Pool.Resource == "" || a.Pool.PerNode < 1 || len(a.Pool.Selector) == 0 {
		errs = append(errs, errors.New("Pool is required: the placeholders take its node selector and accelerators from it"))
	}
	return errors.Join(errs...)
}

// CapacityBuffer keeps Replicas spare accelerator nodes warm: a Deployment of placeholder
// pods, one per node (each asks for the node's every accelerator), at a PriorityClass below
// every workload. It is the cluster-autoscaler's overprovisioning pattern (FAQ, "How can I
// configure overprovisioning with Cluster Autoscaler?"; Kubernetes "Overprovision Node
// Capacity For A Cluster"), which GKE documents for Standard and Autopilot ("Provision extra
// compute capacity for rapid Pod scaling": a low-priority PriorityClass and placeholder
// pods that GKE evicts when a higher-priority pod needs the room). A new server replica
// preempts a placeholder and starts at once on a ready node that already holds the server
// image; the evicted placeholder goes Pending and the cluster-autoscaler adds a node for it.
type CapacityBuffer struct {
	pulumi.ResourceState
	PriorityClass *schedulingv1.PriorityClass
	Deployment    *appsv1.Deployment
	// Selector matches the placeholder pods, and never the server's.
	Selector map[string]string
}

// NewCapacityBuffer creates the PriorityClass and the placeholder Deployment.
func NewCapacityBuffer(ctx *pulumi.Context, name string, args *CapacityBufferArgs, opts ...pulumi.ResourceOption) (*CapacityBuffer, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("capacity buffer %q: %w", name, err)
	}
	b := &CapacityBuffer{Selector: map[string]string{LabelName: args.Name, LabelComponent: "capacity-buffer"}}
	if err := ctx.RegisterComponentResource(TypeCapacityBuffer, name, b, opts...); err != nil {
		return nil, err
	}
	k := args.Kube
	pc, err := schedulingv1.NewPriorityClass(ctx, name+"-priority", &schedulingv1.PriorityClassArgs{
		Metadata:         k.meta(args.PriorityClassName, nil, b.Selector, nil),
		Value:            pulumi.Int(catalog.BufferPriority),
		PreemptionPolicy: pulumi.String(catalog.BufferPreemptionPolicy),
		GlobalDefault:    pulumi.Bool(false),
		Description:      pulumi.String(fmt.Sprintf("llmserve: placeholder pods holding spare nodes for %s; every server replica preempts them", args.Name)),
	}, k.opts(b)...)
	if err != nil {
		return nil, fmt.Errorf("capacity buffer %q: priority class: %w", name, err)
	}
	b.PriorityClass = pc

	accel := pulumi.String(fmt.Sprint(args.Pool.PerNode))
	dep, err := appsv1.NewDeployment(ctx, name+"-deployment", &appsv1.DeploymentArgs{
		// Never awaited: placeholders wait Pending for minutes while the autoscaler adds
		// their nodes, and at the pool's ceiling (a surge during a rollout at maxReplicas)
		// for as long as it lasts; `up` must not fail on that (pulumi-kubernetes awaits a
		// Deployment's readiness unless pulumi.com/skipAwait is set; the same trap held a
		// GitOps stack with balloon pods red for 30 h, devantler-tech/platform#2087).
		Metadata: k.meta(args.Name+"-buffer", args.Namespace, b.Selector, map[string]string{"pulumi.com/skipAwait": "true"}),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(args.Replicas),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(b.Selector)},
			// A surge placeholder would ask the autoscaler for one more node only to be
			// removed again: replace them one at a time instead (a new server image).
			Strategy: &appsv1.DeploymentStrategyArgs{
				Type: pulumi.String("RollingUpdate"),
				RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{
					MaxSurge: pulumi.Int(0), MaxUnavailable: pulumi.Int(1),
				},
			},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(b.Selector)},
				Spec: &corev1.PodSpecArgs{
					PriorityClassName: pc.Metadata.Name().Elem(),
					NodeSelector:      pulumi.ToStringMap(args.Pool.Selector),
					// The same toleration as the server: GKE taints accelerator nodes with
					// the resource name.
					Tolerations: corev1.TolerationArray{corev1.TolerationArgs{
						Key: pulumi.String(args.Pool.Resource), Operator: pulumi.String("Exists"), Effect: pulumi.String("NoSchedule"),
					}},
					// A placeholder talks to nothing.
					AutomountServiceAccountToken: pulumi.Bool(false),
					EnableServiceLinks:           pulumi.Bool(false),
					SecurityContext:              podSecurity(runAs(catalog.BufferUser)),
					// Preemption frees the node at once (the FAQ's placeholders use 0 too).
					TerminationGracePeriodSeconds: pulumi.Int(0),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String("placeholder"),
						Image:           pulumi.String(args.Image),
						ImagePullPolicy: pulumi.String("IfNotPresent"),
						Command:         pulumi.ToStringArray(catalog.BufferCommand),
						// The node's every accelerator, so that one placeholder holds one
						// whole node; extended resources need limits equal to requests.
						Resources: &corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{args.Pool.Resource: accel, "cpu": pulumi.String("10m"), "memory": pulumi.String("16Mi")},
							Limits:   pulumi.StringMap{args.Pool.Resource: accel, "memory": pulumi.String("16Mi")},
						},
						SecurityContext: placeholderSecurity(),
					}},
				},
			},
		},
	}, k.opts(b)...)
	if err != nil {
		return nil, fmt.Errorf("capacity buffer %q: deployment: %w", name, err)
	}
	b.Deployment = dep
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{
		"deployment":    dep.Metadata.Name().Elem(),
		"priorityClass": pc.Metadata.Name().Elem(),
		"replicas":      pulumi.Int(args.Replicas),
	})
}

// placeholderSecurity is containerSecurity as a non-root user, with a read-only root: sleep
// writes nothing.
func placeholderSecurity() *corev1.SecurityContextArgs {
	sc := containerSecurity(runAs(catalog.BufferUser))
	sc.ReadOnlyRootFilesystem = pulumi.Bool(true)
	return sc
}
