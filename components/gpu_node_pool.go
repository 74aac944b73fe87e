package components

import (
	"errors"
	"fmt"
	"strings"

	"github.com/llmserve/llmserve/catalog"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/container"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// GPUNodePoolArgs configures a GPUNodePool.
type GPUNodePoolArgs struct {
	PoolArgs
	Accelerator string // nvidia-l4 | nvidia-tesla-a100 | nvidia-a100-80gb | nvidia-h100-80gb
	Count       int    // GPUs per node
	// DriverVersion is GKE's managed driver install: LATEST or DEFAULT.
	DriverVersion string
}

func (a *GPUNodePoolArgs) validate() (catalog.GPUType, string, error) {
	if a == nil {
		return catalog.GPUType{}, "", errors.New("args are required")
	}
	g, ok := catalog.LookupGPU(a.Accelerator)
	if !ok {
		return catalog.GPUType{}, "", fmt.Errorf("accelerator %q: want one of %s", a.Accelerator, catalog.GPUTypeNames())
	}
	machine, ok := g.Machines[a.Count]
	if !ok {
		return catalog.GPUType{}, "", fmt.Errorf("%d x %s: want a count of %v", a.Count, a.Accelerator, g.Counts())
	}
	return g, machine, a.PoolArgs.validate()
}

// GPUNodePool is a GKE node pool of NVIDIA GPU nodes with GKE-managed drivers that
// autoscales between MinNodes and MaxNodes. Like TPUNodePool it exports its Capacity.
type GPUNodePool struct {
	pulumi.ResourceState
	NodePool    *container.NodePool // nil when Create is false
	MachineType string
	capacity    PoolCapacity
}

// Capacity describes the pool to the server.
func (p *GPUNodePool) Capacity() PoolCapacity { return p.capacity }

// NewGPUNodePool creates the pool (when args.Create) and describes its capacity.
func NewGPUNodePool(ctx *pulumi.Context, name string, args *GPUNodePoolArgs, opts ...pulumi.ResourceOption) (*GPUNodePool, error) {
	g, machine, err := args.validate()
	if err != nil {
		return nil, fmt.Errorf("gpu node pool %q: %w", name, err)
	}
	p := &GPUNodePool{MachineType: machine, capacity: PoolCapacity{
		// GKE labels GPU nodes with their accelerator type.
		Selector: map[string]string{catalog.LabelGKEAccelerator: g.Name},
		Resource: catalog.ResourceGPU, PerNode: args.Count, MaxNodes: args.MaxNodes,
	}}
	if err := ctx.RegisterComponentResource(TypeGPUNodePool, name, p, opts...); err != nil {
		return nil, err
	}
	outputs := pulumi.Map{"machineType": pulumi.String(machine), "gpusPerNode": pulumi.Int(args.Count)}
	if args.Create {
		driver := args.DriverVersion
		if driver == "" {
			driver = "LATEST"
		}
		gpus := func(nc *container.NodePoolNodeConfigArgs) {
			nc.GuestAccelerators = container.NodePoolNodeConfigGuestAcceleratorArray{container.NodePoolNodeConfigGuestAcceleratorArgs{
				Type:  pulumi.String(g.Name),
				Count: pulumi.Int(args.Count),
				// GKE installs and upgrades the NVIDIA driver: no driver DaemonSet to manage.
				GpuDriverInstallationConfig: &container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs{
					GpuDriverVersion: pulumi.String(strings.ToUpper(driver)),
				},
			}}
		}
		np, err := container.NewNodePool(ctx, name+"-pool", args.nodePoolArgs(machine, gpus), pulumi.Parent(p))
		if err != nil {
			return nil, fmt.Errorf("gpu node pool %q: %w", name, err)
		}
		p.NodePool = np
		outputs["name"] = np.Name
	}
	return p, ctx.RegisterResourceOutputs(p, outputs)
}
