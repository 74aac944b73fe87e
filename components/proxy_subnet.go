package components

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/compute"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ProxySubnetArgs configures a ProxySubnet.
type ProxySubnetArgs struct {
	Project string
	Region  string
	// Network is the cluster's VPC network (name or self link).
	Network string
	// Range is the subnet's primary range, at most a /26 (64 proxies' addresses).
	Range string
}

func (a *ProxySubnetArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if a.Project == "" || a.Region == "" || a.Network == "" || a.Range == "" {
		return errors.New("Project, Region, Network and Range are required")
	}
	return nil
}

// ProxySubnet is the proxy-only subnet of a region and VPC network: the addresses of the
// Envoy proxies behind GKE's regional Application Load Balancers (gke-l7-rilb,
// gke-l7-regional-external-managed), which GKE Inference Gateway requires ("Deploy GKE
// Inference Gateway": "You must enable a proxy-only subnet"). A network holds one active
// REGIONAL_MANAGED_PROXY subnet per region ("Proxy-only subnets for Envoy-based load
// balancers"), shared by every such load balancer there: a second stack in the region
// names this one (serving.gateway.proxySubnet) instead of creating its own.
type ProxySubnet struct {
	pulumi.ResourceState
	Subnetwork *compute.Subnetwork
}

// NewProxySubnet creates the proxy-only subnet.
func NewProxySubnet(ctx *pulumi.Context, name string, args *ProxySubnetArgs, opts ...pulumi.ResourceOption) (*ProxySubnet, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("proxy subnet %q: %w", name, err)
	}
	p := &ProxySubnet{}
	if err := ctx.RegisterComponentResource(TypeProxySubnet, name, p, opts...); err != nil {
		return nil, err
	}
	sn, err := compute.NewSubnetwork(ctx, name+"-subnet", &compute.SubnetworkArgs{
		Project:     pulumi.String(args.Project),
		Region:      pulumi.String(args.Region),
		Network:     pulumi.String(args.Network),
		IpCidrRange: pulumi.String(args.Range),
		Purpose:     pulumi.String(catalog.ProxySubnetPurpose),
		Role:        pulumi.String(catalog.ProxySubnetRole),
	}, pulumi.Parent(p))
	if err != nil {
		return nil, fmt.Errorf("proxy subnet %q: %w", name, err)
	}
	p.Subnetwork = sn
	return p, ctx.RegisterResourceOutputs(p, pulumi.Map{"name": sn.Name, "range": sn.IpCidrRange})
}
