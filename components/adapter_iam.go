package components

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/projects"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The Custom Metrics Stackdriver Adapter's identity, as its upstream manifest creates it.
const (
	AdapterNamespace      = "custom-metrics"
	AdapterServiceAccount = "custom-metrics-stackdriver-adapter"
	RoleMonitoringViewer  = "roles/monitoring.viewer"
)

// AdapterIAMArgs configures AdapterIAM.
type AdapterIAMArgs struct {
	Project       string
	ProjectNumber pulumi.StringInput
	// Namespace and ServiceAccount default to the adapter's own.
	Namespace, ServiceAccount string
}

// AdapterIAM grants the metrics adapter's Kubernetes service account read access to Cloud
// Monitoring. It is a projects.IAMMember: monitoring.viewer has no narrower scope than the
// project, and a member never removes anyone else's grant of the same role, unlike the
// authoritative binding or policy resources (which the public Terraform module for this uses).
type AdapterIAM struct {
	pulumi.ResourceState
	Member    *projects.IAMMember
	Principal pulumi.StringOutput
}

func (a *AdapterIAMArgs) validate() error {
	if a == nil || a.Project == "" || a.ProjectNumber == nil {
		return errors.New("Project and ProjectNumber are required")
	}
	return nil
}

// NewAdapterIAM creates the grant.
func NewAdapterIAM(ctx *pulumi.Context, name string, args *AdapterIAMArgs, opts ...pulumi.ResourceOption) (*AdapterIAM, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("adapter iam %q: %w", name, err)
	}
	ns, sa := args.Namespace, args.ServiceAccount
	if ns == "" {
		ns = AdapterNamespace
	}
	if sa == "" {
		sa = AdapterServiceAccount
	}
	a := &AdapterIAM{}
	if err := ctx.RegisterComponentResource(TypeAdapterIAM, name, a, opts...); err != nil {
		return nil, err
	}
	a.Principal = WorkloadIdentityPrincipal(args.ProjectNumber, pulumi.String(args.Project), ns, sa)
	m, err := projects.NewIAMMember(ctx, name+"-monitoring-viewer", &projects.IAMMemberArgs{
		Project: pulumi.String(args.Project),
		Role:    pulumi.String(RoleMonitoringViewer),
		Member:  a.Principal,
	}, pulumi.Parent(a))
	if err != nil {
		return nil, fmt.Errorf("adapter iam %q: iam member: %w", name, err)
	}
	a.Member = m
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{"principal": a.Principal})
}
