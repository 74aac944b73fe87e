package stacks

import (
	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// GatewayConfig is llmserve:serving.gateway: what routing gateway needs from the network.
type GatewayConfig struct {
	// ProxySubnet names the region's existing proxy-only subnet (one per region and VPC
	// network, shared by every regional load balancer there): llmserve then creates none.
	ProxySubnet string `yaml:"proxySubnet,omitempty"`
	// ProxySubnetRange is the primary range of the proxy-only subnet llmserve creates when
	// none is named; default catalog.DefaultProxySubnetRange.
	ProxySubnetRange string `yaml:"proxySubnetRange,omitempty"`
}

// usesGateway says whether the stack routes through GKE Inference Gateway.
func (c *Config) usesGateway() bool { return c.Serving.Routing == catalog.RoutingGateway }

// serverExposure is the exposure of the server's own Service: with a gateway in front,
// the Gateway is the endpoint and the Service stays inside the cluster, so there is never a
// second load balancer.
func (c *Config) serverExposure() string {
	if c.usesGateway() {
		return catalog.ExposureCluster
	}
	return c.Serving.Exposure
}

// gatewayClass is the GKE GatewayClass for the exposure: internal unless the user consented
// to a public endpoint (serving.exposure public with serving.allowPublic, which Validate
// requires together).
func (c *Config) gatewayClass() string {
	if c.Serving.Exposure == catalog.ExposurePublic && c.Serving.AllowPublic {
		return catalog.GatewayClassExternal
	}
	return catalog.GatewayClassInternal
}

// createsProxySubnet says whether llmserve creates the region's proxy-only subnet: for a
// cluster it creates, on GCP, when the user named no existing subnet.
func (c *Config) createsProxySubnet() bool {
	return c.usesGateway() && c.GCPResources && !rendering(c) && c.createsGKE() && c.Serving.Gateway.ProxySubnet == ""
}

// deployProxySubnet creates the proxy-only subnet when the stack needs one; nil otherwise.
func deployProxySubnet(ctx *pulumi.Context, cfg *Config) (pulumi.Resource, error) {
	if !cfg.createsProxySubnet() {
		return nil, nil
	}
	network := cfg.Cluster.Network
	if network == "" {
		network = "default" // where GKE puts a cluster created without one
	}
	return components.NewProxySubnet(ctx, "proxy-subnet", &components.ProxySubnetArgs{
		Project: cfg.Project, Region: cfg.clusterRegion(), Network: network, Range: cfg.Serving.Gateway.ProxySubnetRange,
	})
}

// deployGateway puts GKE Inference Gateway in front of server (serving.routing gateway).
func deployGateway(ctx *pulumi.Context, cfg *Config, kube components.Kube, server *components.ModelServer, after []pulumi.Resource) error {
	if !cfg.usesGateway() {
		return nil
	}
	name := cfg.ObjectName()
	// Not after the server: the gateway needs its namespace (server.Namespace resolves once
	// it exists) and the proxy-only subnet, not ready replicas.
	var opts []pulumi.ResourceOption
	if len(after) > 0 {
		opts = append(opts, pulumi.DependsOn(after))
	}
	_, err := components.NewInferenceGateway(ctx, name+"-routing", &components.InferenceGatewayArgs{
		Kube: kube, Namespace: server.Namespace, Name: name,
		Selector: server.Selector, Port: server.Port, HealthPath: server.HealthPath,
		GatewayClass: cfg.gatewayClass(), Image: catalog.EPPImage,
		CPU: catalog.EPPCPU, Memory: catalog.EPPMemory,
		BackendTimeoutSec: catalog.GatewayBackendTimeoutSec,
	}, opts...)
	return err
}
