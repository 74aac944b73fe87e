package stacks

import (
	"slices"

	"github.com/llmserve/llmserve/catalog"
)

// clusterNodeLocations is what the cluster's nodeLocations get from llmserve:cluster.zones:
// every zone, except that a zonal cluster's own zone is left out. pulumi-gcp
// container.Cluster.nodeLocations: "If this is specified for a zonal cluster, omit the
// cluster's zone" (https://www.pulumi.com/registry/packages/gcp/api-docs/container/cluster/);
// the Terraform provider under it fails the create otherwise ("when using a multi-zonal
// cluster, node_locations should not contain the original 'zone'", and adds the zone back
// itself: hashicorp/terraform-provider-google
// google/services/container/resource_container_cluster.go @887701b5). So a zonal cluster
// whose only zone is its own passes none.
func clusterNodeLocations(cl ClusterConfig) []string {
	if !catalog.IsZone(cl.Location) {
		return cl.Zones
	}
	out := slices.DeleteFunc(slices.Clone(cl.Zones), func(z string) bool { return z == cl.Location })
	if len(out) == 0 {
		return nil
	}
	return out
}

// poolNodeLocations is what an accelerator node pool's nodeLocations get: every zone its
// nodes are in, the cluster's own included. pulumi-gcp container.NodePool.nodeLocations has no
// rule to omit it ("The list of zones in which the node pool's nodes should be located ... If
// unspecified, the cluster-level nodeLocations will be used",
// https://www.pulumi.com/registry/packages/gcp/api-docs/container/nodepool/).
func poolNodeLocations(cl ClusterConfig) []string { return cl.Zones }
