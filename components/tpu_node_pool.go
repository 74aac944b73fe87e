package components

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/container"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TPUNodePoolArgs configures a TPUNodePool.
type TPUNodePoolArgs struct {
	PoolArgs
	Topology string // 1x1 | 2x2 | 2x4
}

func (a *TPUNodePoolArgs) validate() (catalog.TPUSlice, error) {
	if a == nil {
		return catalog.TPUSlice{}, errors.New("args are required")
	}
	s, ok := catalog.LookupTPUSlice(a.Topology)
	if !ok {
		return catalog.TPUSlice{}, fmt.Errorf("topology %q: want one of %s", a.Topology, catalog.TPUTopologies())
	}
	return s, a.PoolArgs.validate()
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
	return PoolCapacity{Selector: p.Selector, Resource: catalog.ResourceTPU, PerNode: p.ChipsPerNode, MaxNodes: p.MaxNodes}
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
			catalog.LabelTPUAccelerator: catalog.TPUv6eNodeLabelValue,
			catalog.LabelTPUTopology:    slice.Topology,
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
		// The machine type alone picks a single-host slice; placement_policy.tpu_topology
		// is only for multi-host slices.
		np, err := container.NewNodePool(ctx, name+"-pool", args.nodePoolArgs(slice.MachineType, nil), pulumi.Parent(p))
		if err != nil {
			return nil, fmt.Errorf("tpu node pool %q: %w", name, err)
		}
		p.NodePool = np
		outputs["name"] = np.Name
	}
	return p, ctx.RegisterResourceOutputs(p, outputs)
}
