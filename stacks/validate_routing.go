package stacks

import (
	"net/netip"
	"slices"

	"github.com/llmserve/llmserve/catalog"
)

// validateRouting checks serving.routing and serving.gateway (issue 20).
func (c *Config) validateRouting(p *problems) {
	s, u := c.Serving, c.user.Serving.Gateway
	switch s.Routing {
	case catalog.RoutingService:
		if u != (GatewayConfig{}) {
			p.addf("llmserve:serving.gateway: only used with serving.routing gateway (routing is service); remove it or set serving.routing gateway")
		}
		return
	case catalog.RoutingGateway:
	default:
		p.addf("llmserve:serving.routing %q: want gateway (GKE Inference Gateway, the default where it can run) or service (a Kubernetes Service)", s.Routing)
		return
	}
	if !slices.Contains(catalog.EPPEngines, c.Profile.Engine) {
		// catalog.EPPEngines says why: the v1.5.0 picker has no engine config for
		// JetStream's metrics and scrapes the serving port, where JetStream serves none.
		p.addf("llmserve:serving.routing gateway: the endpoint picker (%s) reads vLLM's queue and KV-cache metrics on the serving port, and engine %s exports none there; keep serving.routing service for %s",
			catalog.EPPImage, c.Profile.Engine, c.ModelName)
	}
	if s.Exposure == catalog.ExposureCluster {
		p.addf("llmserve:serving.routing gateway: a GKE Gateway is a load balancer reachable from the whole VPC, wider than exposure cluster; set serving.exposure internal (%s), or public with serving.allowPublic (%s)",
			catalog.GatewayClassInternal, catalog.GatewayClassExternal)
	}
	if v := c.Cluster.Version; c.createsGKE() && belowGatewayVersion(v) {
		p.addf("llmserve:cluster.version %q: GKE Inference Gateway needs GKE %s or later; use %s or a later version, or leave it to the release channel",
			v, catalog.GatewayMinGKEVersion, catalog.GatewayMinGKEVersion)
	}
	switch {
	case u.ProxySubnet != "" && u.ProxySubnetRange != "":
		p.addf("llmserve:serving.gateway: proxySubnet %q names an existing subnet and proxySubnetRange %q asks for a new one; set one of them", u.ProxySubnet, u.ProxySubnetRange)
	case u.ProxySubnetRange != "" && !c.createsGKE():
		p.addf("llmserve:serving.gateway.proxySubnetRange: llmserve creates no proxy-only subnet for an existing cluster; remove it, and make sure the cluster's region and network have one (gcloud compute networks subnets create NAME --purpose=%s --role=%s --region=REGION --network=NETWORK --range=RANGE)",
			catalog.ProxySubnetPurpose, catalog.ProxySubnetRole)
	}
	if r := s.Gateway.ProxySubnetRange; r != "" {
		prefix, err := netip.ParsePrefix(r)
		switch {
		case err != nil || !prefix.Addr().Is4() || prefix.Masked() != prefix:
			p.addf("llmserve:serving.gateway.proxySubnetRange %q: want an IPv4 network in CIDR form such as %s", r, catalog.DefaultProxySubnetRange)
		case prefix.Bits() > 26:
			p.addf("llmserve:serving.gateway.proxySubnetRange %q: a proxy-only subnet needs at least 64 addresses (a /26); Google recommends a /23", r)
		}
	}
}
