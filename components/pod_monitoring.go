package components

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PodMonitoringArgs configures a PodMonitoring (monitoring.googleapis.com/v1), the Managed
// Prometheus resource that tells GKE's collectors which pods to scrape.
type PodMonitoringArgs struct {
	Kube      Kube
	Namespace pulumi.StringInput
	Name      string
	Selector  map[string]string
	// Port is a container port name or number.
	Port     string
	Path     string
	Interval string
	Timeout  string // optional; must not exceed Interval
	// TargetLabels are pod metadata copied onto every series (pod, container, node).
	TargetLabels []string
}

func (a *PodMonitoringArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if err := a.Kube.validate(); err != nil {
		return err
	}
	var errs []error
	if a.Namespace == nil || a.Name == "" || len(a.Selector) == 0 || a.Port == "" {
		errs = append(errs, errors.New("Namespace, Name, Selector and Port are required"))
	}
	interval, err := model.ParseDuration(a.Interval)
	if err != nil {
		errs = append(errs, fmt.Errorf("interval: %w", err))
	}
	if a.Timeout != "" {
		if t, err := model.ParseDuration(a.Timeout); err != nil {
			errs = append(errs, fmt.Errorf("timeout: %w", err))
		} else if interval > 0 && t > interval {
			errs = append(errs, fmt.Errorf("timeout %s exceeds interval %s", a.Timeout, a.Interval))
		}
	}
	return errors.Join(errs...)
}

// PodMonitoring is a typed wrapper over the PodMonitoring custom resource.
type PodMonitoring struct {
	pulumi.ResourceState
	Resource *apiextensions.CustomResource
}

// NewPodMonitoring creates the PodMonitoring.
func NewPodMonitoring(ctx *pulumi.Context, name string, args *PodMonitoringArgs, opts ...pulumi.ResourceOption) (*PodMonitoring, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("pod monitoring %q: %w", name, err)
	}
	pm := &PodMonitoring{}
	if err := ctx.RegisterComponentResource(TypePodMonitoring, name, pm, opts...); err != nil {
		return nil, err
	}
	endpoint := pulumi.Map{"port": portValue(args.Port), "interval": pulumi.String(args.Interval)}
	if args.Path != "" { // the CRD defaults it to /metrics
		endpoint["path"] = pulumi.String(args.Path)
	}
	if args.Timeout != "" {
		endpoint["timeout"] = pulumi.String(args.Timeout)
	}
	spec := pulumi.Map{
		"selector":  pulumi.Map{"matchLabels": pulumi.ToStringMap(args.Selector)},
		"endpoints": pulumi.Array{endpoint},
	}
	if len(args.TargetLabels) > 0 {
		spec["targetLabels"] = pulumi.Map{"metadata": pulumi.ToStringArray(args.TargetLabels)}
	}
	cr, err := apiextensions.NewCustomResource(ctx, name+"-podmonitoring", &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String("monitoring.googleapis.com/v1"),
		Kind:        pulumi.String("PodMonitoring"),
		Metadata:    args.Kube.meta(args.Name, args.Namespace, nil, nil),
		OtherFields: kubernetes.UntypedArgs{"spec": spec},
	}, args.Kube.opts(pm)...)
	if err != nil {
		return nil, fmt.Errorf("pod monitoring %q: %w", name, err)
	}
	pm.Resource = cr
	return pm, ctx.RegisterResourceOutputs(pm, pulumi.Map{"name": pulumi.String(args.Name)})
}

// portValue keeps a numeric port numeric: the CRD's port is an int-or-string.
func portValue(p string) pulumi.Input {
	if n, err := strconv.Atoi(p); err == nil {
		return pulumi.Int(n)
	}
	return pulumi.String(p)
}
