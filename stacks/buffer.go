package stacks

import (
	"fmt"
	"strings"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BufferSpec is autoscaling.buffer: spare accelerator nodes kept warm, ahead of need, by
// placeholder pods that any new server replica preempts (components.CapacityBuffer). Off
// (0) in every profile; turn it on per env with
//
//	llmserve:overrides: {autoscaling: {buffer: {replicas: 1}}}
//
// Replicas is a fixed count of spare nodes (slices), one per placeholder. A share of the
// current replicas is not offered: the placeholders are a plain Deployment, and nothing in
// the cluster would track the server's replica count for them (the cluster-proportional-
// autoscaler the cluster-autoscaler FAQ pairs with overprovisioning scales on the cluster's
// nodes or cores, not on a Deployment; GKE's CapacityBuffer has percentage of a scalableRef
// but simulates its placeholders inside the autoscaler, so no node would hold the server
// image: README, "Capacity ahead of need").
type BufferSpec struct {
	Replicas int `yaml:"replicas"`
}

// bufferPriorityClass names the placeholders' PriorityClass. PriorityClasses are cluster
// scoped, so the name holds the namespace and the model's object name: two stacks or models
// sharing a cluster never claim the same one.
func (c *Config) bufferPriorityClass() string {
	return c.Serving.Namespace + "-" + c.ObjectName() + "-buffer"
}

// deployBuffer creates the capacity buffer when autoscaling.buffer asks for spare nodes.
func deployBuffer(ctx *pulumi.Context, cfg *Config, kube components.Kube, pool components.PoolCapacity, server *components.ModelServer) error {
	n := cfg.Profile.Autoscaling.Buffer.Replicas
	if n == 0 {
		return nil
	}
	name := cfg.ObjectName()
	_, err := components.NewCapacityBuffer(ctx, name+"-buffer", &components.CapacityBufferArgs{
		Kube: kube, Namespace: server.Deployment.Metadata.Namespace().Elem(), Name: name,
		PriorityClassName: cfg.bufferPriorityClass(), Image: cfg.Profile.Image, Replicas: n, Pool: pool,
	})
	return err
}

// plural is word for n of them: "slice" for 1, "slices" otherwise.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// bufferCaveats say what the spare slices cost: they are paid for whether or not a replica
// ever takes one.
func (c *Config) bufferCaveats() []string {
	n := c.Profile.Autoscaling.Buffer.Replicas
	if n <= 0 {
		return nil
	}
	a := c.Profile.Accelerator
	what := fmt.Sprintf("%s %s %s", a.Type, a.Topology, plural(n, "slice"))
	if !catalog.IsTPU(a.Type) {
		what = fmt.Sprintf("%d x %s %s", a.Count, a.Type, plural(n, "node"))
	}
	chips := c.ChipsPerReplica()
	unit := c.acceleratorUnit()
	if n*chips == 1 {
		unit = strings.TrimSuffix(unit, "s")
	}
	out := []string{fmt.Sprintf("autoscaling.buffer holds %d spare %s: %d x %d = %d %s idle and paid for at all times, "+
		"so that a new replica starts on a ready node that holds its image", n, what, n, chips, n*chips, unit)}
	if c.Cluster.Mode == catalog.ModeExisting {
		out = append(out, fmt.Sprintf("autoscaling.buffer on an existing cluster: its placeholders (priority %d) get nodes only if the cluster's node autoscaler "+
			"scales up for them (cluster-autoscaler does down to --expendable-pods-priority-cutoff, default %d) and pool.maxNodes (%d) matches the pool's real maximum",
			catalog.BufferPriority, catalog.ExpendablePodsPriorityCutoff, *c.Pool.MaxNodes))
	}
	return out
}
