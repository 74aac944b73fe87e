package components

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/container"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TPUNodePoolArgs configures a TPUNodePool.
type TPUNodePoolArgs struct {
	// Create false only describes the slice (Autopilot provisions TPU nodes from the pod's
	// node selector; an existing cluster brings its own pool).
	Create         bool
	Project        string
	Cluster        pulumi.StringInput
	Location       string
	NodeLocations  []string
	Topology       string // 1x1 | 2x2 | 2x4
	MinNodes       int
	MaxNodes       int
	Spot           bool
	Reservation    string
	LocationPolicy string // ANY | BALANCED
	DiskSizeGB     int
}

func (a *TPUNodePoolArgs) validate() (TPUSlice, error) {
	if a == nil {
		return TPUSlice{}, errors.New("args are required")
	}
	s, ok := LookupTPUSlice(a.Topology)
	if !ok {
		return TPUSlice{}, fmt.Errorf("topology %q: want one of %s", a.Topology, TPUTopologies())
	}
	if a.MinNodes < 0 || a.MaxNodes < 1 || a.MinNodes > a.MaxNodes {
		return TPUSlice{}, fmt.Errorf("min %d / max %d nodes: want 0 <= min <= max, max >= 1", a.MinNodes, a.MaxNodes)
	}
	if a.Create && (a.Cluster == nil || a.Project == "" || a.Location == "") {
		return TPUSlice{}, errors.New("Create needs Project, Cluster and Location")
	}
	return s, nil
}

// TPUNodePool is a GKE node pool of TPU v6e single-host slices that autoscales between
// MinNodes and MaxNodes. It exports what the server needs to land on it: the node selector,
// the chips per node and the pool's total chips, so they are never typed twice.
type TPUNodePool struct {
	pulumi.ResourceState
	NodePool *container.NodePool // nil when Create is false
	// Selector holds GKE's TPU node labels for this slice shape.
	Selector     map[string]string
	MachineType  string
	ChipsPerNode int
	MaxNodes     int
}

// Capacity describes the pool to the server.
func (p *TPUNodePool) Capacity() PoolCapacity {
	return PoolCapacity{Selector: p.Selector, Resource: ResourceTPU, PerNode: p.ChipsPerNode, MaxNodes: p.MaxNodes}
}

// NewTPUNodePool creates the pool (when args.Create) and describes its capacity.
func NewTPUNodePool(ctx *pulumi.Context, name string, args *TPUNodePoolArgs, opts ...pulumi.ResourceOption) (*TPUNodePool, error) {
	slice, err := args.validate()
	if err != nil {
		return nil, fmt.Errorf("tpu node pool %q: %w", name, err)
	}
	p := &TPUNodePool{
		// GKE sets these labels on every TPU node; we select on them, never set them.
		Selector: map[string]string{
			LabelTPUAccelerator: TPUv6eNodeLabelValue,
			LabelTPUTopology:    slice.Topology,
		},
		MachineType:  slice.MachineType,
		ChipsPerNode: slice.Chips,
		MaxNodes:     args.MaxNodes,
	}
	if err := ctx.RegisterComponentResource(TypeTPUNodePool, name, p, opts...); err != nil {
		return nil, err
	}
	outputs := pulumi.Map{
		"machineType":  pulumi.String(slice.MachineType),
		"chipsPerNode": pulumi.Int(slice.Chips),
		"selector":     pulumi.ToStringMap(p.Selector),
	}
	if args.Create {
		np, err := container.NewNodePool(ctx, name+"-pool", poolArgs(args, slice), pulumi.Parent(p))
		if err != nil {
			return nil, fmt.Errorf("tpu node pool %q: %w", name, err)
		}
		p.NodePool = np
		outputs["name"] = np.Name
	}
	return p, ctx.RegisterResourceOutputs(p, outputs)
}

func poolArgs(a *TPUNodePoolArgs, slice TPUSlice) *container.NodePoolArgs {
	nc := &container.NodePoolNodeConfigArgs{
		// The machine type alone picks a single-host slice; placement_policy.tpu_topology
		// is only for multi-host slices.
		MachineType: pulumi.String(slice.MachineType),
		Spot:        pulumi.Bool(a.Spot),
		OauthScopes: pulumi.StringArray{pulumi.String("https://www.googleapis.com/auth/cloud-platform")},
		// Pods on these nodes read the bucket through Workload Identity.
		WorkloadMetadataConfig: &container.NodePoolNodeConfigWorkloadMetadataConfigArgs{Mode: pulumi.String("GKE_METADATA")},
	}
	if a.DiskSizeGB > 0 {
		nc.DiskSizeGb = pulumi.Int(a.DiskSizeGB)
	}
	if a.Reservation != "" {
		nc.ReservationAffinity = reservation(a.Reservation)
	}
	np := &container.NodePoolArgs{
		Project:          pulumi.String(a.Project),
		Cluster:          a.Cluster,
		Location:         pulumi.String(a.Location),
		InitialNodeCount: pulumi.Int(a.MinNodes),
		// total_* bound the pool across all its zones (seed 003: --total-min-nodes=1
		// --total-max-nodes=2), unlike min/max_node_count which are per zone.
		Autoscaling: &container.NodePoolAutoscalingArgs{
			TotalMinNodeCount: pulumi.Int(a.MinNodes),
			TotalMaxNodeCount: pulumi.Int(a.MaxNodes),
			LocationPolicy:    pulumi.String(a.LocationPolicy),
		},
		Management: &container.NodePoolManagementArgs{AutoRepair: pulumi.Bool(true), AutoUpgrade: pulumi.Bool(true)},
		NodeConfig: nc,
	}
	if len(a.NodeLocations) > 0 {
		np.NodeLocations = pulumi.ToStringArray(a.NodeLocations)
	}
	return np
}
