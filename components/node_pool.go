package components

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/container"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PoolArgs are what every accelerator node pool shares: where it is, how far it scales and
// how its nodes are bought.
type PoolArgs struct {
	// Create false only describes the pool (Autopilot provisions accelerator nodes from the
	// pod's node selector; an existing cluster brings its own pool).
	Create         bool
	Project        string
	Cluster        pulumi.StringInput
	Location       string
	NodeLocations  []string
	MinNodes       int
	MaxNodes       int
	Spot           bool
	Reservation    string
	LocationPolicy string // ANY | BALANCED
	DiskSizeGB     int
	// ImageCacheDisk is a Compute Engine image holding the server's container image
	// (global/images/NAME or projects/P/global/images/NAME), attached to every node as a
	// secondary boot disk that containerd reads the image from: a new node skips the pull.
	ImageCacheDisk string
}

func (a PoolArgs) validate() error {
	if a.MinNodes < 0 || a.MaxNodes < 1 || a.MinNodes > a.MaxNodes {
		return fmt.Errorf("min %d / max %d nodes: want 0 <= min <= max, max >= 1", a.MinNodes, a.MaxNodes)
	}
	if a.Create && (a.Cluster == nil || a.Project == "" || a.Location == "") {
		return errors.New("Create needs Project, Cluster and Location")
	}
	if a.ImageCacheDisk != "" {
		if _, _, why := catalog.ParseDiskImage(a.ImageCacheDisk); why != "" {
			return fmt.Errorf("image cache disk %q: %s", a.ImageCacheDisk, why)
		}
	}
	return nil
}

// nodePoolArgs builds the GKE node pool for machineType; accelerator adds what is special
// to the pool's kind (GPUs, drivers) to the node config.
func (a PoolArgs) nodePoolArgs(machineType string, accelerator func(*container.NodePoolNodeConfigArgs)) *container.NodePoolArgs {
	nc := &container.NodePoolNodeConfigArgs{
		MachineType: pulumi.String(machineType),
		Spot:        pulumi.Bool(a.Spot),
		OauthScopes: pulumi.StringArray{pulumi.String("https://www.googleapis.com/auth/cloud-platform")},
		// Pods on these nodes read the bucket through Workload Identity.
		WorkloadMetadataConfig: &container.NodePoolNodeConfigWorkloadMetadataConfigArgs{Mode: pulumi.String("GKE_METADATA")},
	}
	if a.DiskSizeGB > 0 {
		nc.DiskSizeGb = pulumi.Int(a.DiskSizeGB)
	}
	if a.ImageCacheDisk != "" {
		// The cache needs COS with containerd and image streaming on the pool
		// (catalog.SecondaryBootDiskImageCache); both are set here, not left to defaults.
		nc.ImageType = pulumi.String(catalog.ImageTypeCOSContainerd)
		nc.GcfsConfig = &container.NodePoolNodeConfigGcfsConfigArgs{Enabled: pulumi.Bool(true)}
		nc.SecondaryBootDisks = container.NodePoolNodeConfigSecondaryBootDiskArray{
			&container.NodePoolNodeConfigSecondaryBootDiskArgs{
				DiskImage: pulumi.String(a.ImageCacheDisk),
				Mode:      pulumi.String(catalog.SecondaryBootDiskImageCache),
			},
		}
	}
	if a.Reservation != "" {
		nc.ReservationAffinity = &container.NodePoolNodeConfigReservationAffinityArgs{
			ConsumeReservationType: pulumi.String("SPECIFIC_RESERVATION"),
			Key:                    pulumi.String("compute.googleapis.com/reservation-name"),
			Values:                 pulumi.StringArray{pulumi.String(a.Reservation)},
		}
	}
	if accelerator != nil {
		accelerator(nc)
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

// PoolCapacity is what the server needs to know of the pool it runs on: how to land on it
// and how much it holds. Both node pool components export one, so the server and the
// capacity checks never retype it.
type PoolCapacity struct {
	Selector map[string]string
	// Resource is the extended resource the server asks for, PerNode of it on each node.
	Resource string
	PerNode  int
	MaxNodes int
}

// MaxUnits is the most accelerators the pool holds when fully scaled out.
func (p PoolCapacity) MaxUnits() int { return p.PerNode * p.MaxNodes }
