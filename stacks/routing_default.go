package stacks

import (
	"fmt"
	"slices"

	"github.com/llmserve/llmserve/catalog"
)

// defaultRouting picks serving.routing when the config leaves it out, with the reason
// `llmserve validate` prints (Notes). GKE Inference Gateway is the default wherever it can
// run: requests are routed one by one to the replica with the shortest queue, so a replica
// the HPA adds takes load at once, where a Service's kube-proxy pins each long-lived client
// connection to one replica (issue 20; the lab measures both, README "Routing"). The plain
// Service stays where the gateway cannot run or was not asked for:
//   - an engine the endpoint picker cannot read (catalog.EPPEngines: JetStream);
//   - an existing cluster: llmserve did not enable its Gateway API nor create its proxy-only
//     subnet, and it may not be GKE at all (the lab, kind);
//   - a written serving.exposure cluster: a Gateway is reachable from the whole VPC;
//   - a written cluster.version below catalog.GatewayMinGKEVersion.
//
// Only what the user wrote decides: a default never turns into a reason.
func (c *Config) defaultRouting() (routing, why string) {
	switch {
	case !slices.Contains(catalog.EPPEngines, c.Profile.Engine):
		return catalog.RoutingService, fmt.Sprintf("engine %s: the endpoint picker reads only vLLM's metrics", c.Profile.Engine)
	case !c.createsGKE():
		return catalog.RoutingService, "an existing cluster: llmserve neither enables its Gateway API nor creates its proxy-only subnet; set serving.routing gateway once the cluster has both"
	case c.wrote("serving", "exposure") && c.Serving.Exposure == catalog.ExposureCluster:
		return catalog.RoutingService, "serving.exposure cluster: a Gateway is a load balancer reachable from the whole VPC"
	}
	if v := c.Cluster.Version; c.wrote("cluster", "version") && belowGatewayVersion(v) {
		return catalog.RoutingService, fmt.Sprintf("cluster.version %s: GKE Inference Gateway needs GKE %s or later", v, catalog.GatewayMinGKEVersion)
	}
	return catalog.RoutingGateway, "vLLM on a GKE cluster llmserve creates: GKE Inference Gateway routes each request to the least-loaded replica"
}

// belowGatewayVersion says whether a GKE version (or alias) is older than the gateway needs;
// an empty or unparsable one is not (the release channel's, or refused elsewhere).
func belowGatewayVersion(v string) bool {
	ver, ok := catalog.ParseGKEVersion(v)
	m, _ := catalog.ParseGKEVersion(catalog.GatewayMinGKEVersion)
	return v != "" && ok && ver.Below(m)
}

// applyRoutingDefaults fills serving.routing and serving.exposure. Behind a gateway the
// exposure left out is internal (gke-l7-rilb, reachable inside the VPC only), never public;
// without one it is cluster (a ClusterIP Service).
func (c *Config) applyRoutingDefaults() {
	s := &c.Serving
	if s.Routing == "" {
		s.Routing, c.routingNote = c.defaultRouting()
		c.routingNote = fmt.Sprintf("serving.routing %s (the default here: %s)", s.Routing, c.routingNote)
	}
	if s.Routing == catalog.RoutingGateway {
		def(&s.Exposure, catalog.ExposureInternal)
		if s.Gateway.ProxySubnet == "" {
			def(&s.Gateway.ProxySubnetRange, catalog.DefaultProxySubnetRange)
		}
	}
	def(&s.Exposure, catalog.ExposureCluster)
}

// Notes say which defaults llmserve chose from the rest of the config, and why; `llmserve
// validate` prints them under the stack's ok line.
func (c *Config) Notes() []string {
	if c.routingNote == "" {
		return nil
	}
	return []string{c.routingNote}
}
