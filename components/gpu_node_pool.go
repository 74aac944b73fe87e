package components

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/container"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// GPUNodePoolArgs configures a GPUNodePool.
type GPUNodePoolArgs struct {
	// Create false only describes the pool (Autopilot, or an existing cluster's own pool).
	Create         bool
	Project        string
	Cluster        pulumi.StringInput
	Location       string
	NodeLocations  []string
	Accelerator    string // nvidia-l4 | nvidia-tesla-a100 | nvidia-a100-80gb | nvidia-h100-80gb
	Count          int    // GPUs per node
	MinNodes       int
	MaxNodes       int
	Spot           bool
	Reservation    string
	LocationPolicy string
	DiskSizeGB     int
	// DriverVersion is GKE's managed driver install: LATEST or DEFAULT.
	DriverVersion string
}

func (a *GPUNodePoolArgs) validate() (GPUType, string, error) {
	if a == nil {
		return GPUType{}, "", errors.New("args are required")
	}
	g, ok := LookupGPU(a.Accelerator)
	if !ok {
		return GPUType{}, "", fmt.Errorf("accelerator %q: want one of %s", a.Accelerator, GPUTypeNames())
	}
	machine, ok := g.Machines[a.Count]
	if !ok {
		return GPUType{}, "", fmt.Errorf("%d x %s: want a count of %v", a.Count, a.Accelerator, g.Counts())
	}
	if a.MinNodes < 0 || a.MaxNodes < 1 || a.MinNodes > a.MaxNodes {
		return GPUType{}, "", fmt.Errorf("min %d / max %d nodes: want 0 <= min <= max, max >= 1", a.MinNodes, a.MaxNodes)
	}
	if a.Create && (a.Cluster == nil || a.Project == "" || a.Location == "") {
		return GPUType{}, "", errors.New("Create needs Project, Cluster and Location")
	}
	return g, machine, nil
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
		Selector: map[string]string{LabelGKEAccelerator: g.Name},
		Resource: ResourceGPU, PerNode: args.Count, MaxNodes: args.MaxNodes,
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
		nc := &container.NodePoolNodeConfigArgs{
			MachineType: pulumi.String(machine),
			Spot:        pulumi.Bool(args.Spot),
			OauthScopes: pulumi.StringArray{pulumi.String("https://www.googleapis.com/auth/cloud-platform")},
			GuestAccelerators: container.NodePoolNodeConfigGuestAcceleratorArray{container.NodePoolNodeConfigGuestAcceleratorArgs{
				Type:  pulumi.String(g.Name),
				Count: pulumi.Int(args.Count),
				// GKE installs and upgrades the NVIDIA driver: no driver DaemonSet to manage.
				GpuDriverInstallationConfig: &container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs{
					GpuDriverVersion: pulumi.String(strings.ToUpper(driver)),
				},
			}},
			WorkloadMetadataConfig: &container.NodePoolNodeConfigWorkloadMetadataConfigArgs{Mode: pulumi.String("GKE_METADATA")},
		}
		if args.DiskSizeGB > 0 {
			nc.DiskSizeGb = pulumi.Int(args.DiskSizeGB)
		}
		if args.Reservation != "" {
			nc.ReservationAffinity = reservation(args.Reservation)
		}
		npArgs := &container.NodePoolArgs{
			Project: pulumi.String(args.Project), Cluster: args.Cluster, Location: pulumi.String(args.Location),
			InitialNodeCount: pulumi.Int(args.MinNodes),
			Autoscaling: &container.NodePoolAutoscalingArgs{
				TotalMinNodeCount: pulumi.Int(args.MinNodes), TotalMaxNodeCount: pulumi.Int(args.MaxNodes),
				LocationPolicy: pulumi.String(args.LocationPolicy),
			},
			Management: &container.NodePoolManagementArgs{AutoRepair: pulumi.Bool(true), AutoUpgrade: pulumi.Bool(true)},
			NodeConfig: nc,
		}
		if len(args.NodeLocations) > 0 {
			npArgs.NodeLocations = pulumi.ToStringArray(args.NodeLocations)
		}
		np, err := container.NewNodePool(ctx, name+"-pool", npArgs, pulumi.Parent(p))
		if err != nil {
			return nil, fmt.Errorf("gpu node pool %q: %w", name, err)
		}
		p.NodePool = np
		outputs["name"] = np.Name
	}
	return p, ctx.RegisterResourceOutputs(p, outputs)
}

// reservation consumes one specific reservation by name.
func reservation(name string) *container.NodePoolNodeConfigReservationAffinityArgs {
	return &container.NodePoolNodeConfigReservationAffinityArgs{
		ConsumeReservationType: pulumi.String("SPECIFIC_RESERVATION"),
		Key:                    pulumi.String("compute.googleapis.com/reservation-name"),
		Values:                 pulumi.StringArray{pulumi.String(name)},
	}
}
