package catalog

import (
	"sort"
	"strings"
)

// TPU v6e (Trillium) single-host slices. GKE picks the slice by machine type: the topology
// fixes both the machine type and the chips on the node, so neither is configured twice.
// Source: https://cloud.google.com/tpu/docs/v6e (ct6e-standard-1t is 1x1 with 1 chip,
// -4t is 2x2 with 4, -8t is 2x4 with 8, all on one VM; 32 GB of HBM per chip).
const (
	// AcceleratorTPUv6e is the accelerator type of TPU v6e profiles.
	AcceleratorTPUv6e = "tpu-v6e"
	// TPUv6eNodeLabelValue is GKE's cloud.google.com/gke-tpu-accelerator label for v6e nodes.
	TPUv6eNodeLabelValue = "tpu-v6e-slice"
	// TPUv6eHBMGB is the high-bandwidth memory of one v6e chip, in GB.
	TPUv6eHBMGB = 32
)

// GKE node labels and the extended resource for TPUs.
const (
	LabelTPUAccelerator = "cloud.google.com/gke-tpu-accelerator"
	LabelTPUTopology    = "cloud.google.com/gke-tpu-topology"
	ResourceTPU         = "google.com/tpu"
)

// TPUSlice describes one single-host TPU slice shape.
type TPUSlice struct {
	Topology    string
	MachineType string
	Chips       int
}

var tpuV6eSlices = []TPUSlice{
	{Topology: "1x1", MachineType: "ct6e-standard-1t", Chips: 1},
	{Topology: "2x2", MachineType: "ct6e-standard-4t", Chips: 4},
	{Topology: "2x4", MachineType: "ct6e-standard-8t", Chips: 8},
}

// LookupTPUSlice returns the v6e single-host slice for a topology.
func LookupTPUSlice(topology string) (TPUSlice, bool) {
	for _, s := range tpuV6eSlices {
		if s.Topology == topology {
			return s, true
		}
	}
	return TPUSlice{}, false
}

// TPUSlices returns the supported v6e slices, smallest first.
func TPUSlices() []TPUSlice {
	out := append([]TPUSlice(nil), tpuV6eSlices...)
	sort.Slice(out, func(i, j int) bool { return out[i].Chips < out[j].Chips })
	return out
}

// TPUTopologies lists the supported topologies, for error messages.
func TPUTopologies() string {
	var t []string
	for _, s := range TPUSlices() {
		t = append(t, s.Topology)
	}
	return strings.Join(t, ", ")
}

// GPU accelerators GKE attaches to fixed machine shapes. The machine type follows from the
// accelerator and its count; the memory is per GPU. Sources: GCP "GPU machine types"
// (https://cloud.google.com/compute/docs/gpus): G2 (L4, 24 GB), A2 ultra (A100 80 GB),
// A2 high (A100 40 GB), A3 high (H100 80 GB).
const (
	// LabelGKEAccelerator is the GPU type label GKE sets on GPU nodes.
	LabelGKEAccelerator = "cloud.google.com/gke-accelerator"
	ResourceGPU         = "nvidia.com/gpu"
)

// GPUType is one GPU accelerator and the machine type for each count per node.
type GPUType struct {
	Name     string // GKE accelerator type, e.g. nvidia-l4
	MemoryGB int
	Machines map[int]string // GPUs per node -> machine type
}

var gpuTypes = []GPUType{
	{Name: "nvidia-l4", MemoryGB: 24, Machines: map[int]string{1: "g2-standard-8", 2: "g2-standard-24", 4: "g2-standard-48", 8: "g2-standard-96"}},
	{Name: "nvidia-tesla-a100", MemoryGB: 40, Machines: map[int]string{1: "a2-highgpu-1g", 2: "a2-highgpu-2g", 4: "a2-highgpu-4g", 8: "a2-highgpu-8g"}},
	{Name: "nvidia-a100-80gb", MemoryGB: 80, Machines: map[int]string{1: "a2-ultragpu-1g", 2: "a2-ultragpu-2g", 4: "a2-ultragpu-4g", 8: "a2-ultragpu-8g"}},
	{Name: "nvidia-h100-80gb", MemoryGB: 80, Machines: map[int]string{1: "a3-highgpu-1g", 2: "a3-highgpu-2g", 4: "a3-highgpu-4g", 8: "a3-highgpu-8g"}},
}

// LookupGPU returns a GPU type by its GKE name.
func LookupGPU(name string) (GPUType, bool) {
	for _, g := range gpuTypes {
		if g.Name == name {
			return g, true
		}
	}
	return GPUType{}, false
}

// GPUTypeNames lists the supported GPU types, for error messages.
func GPUTypeNames() string {
	var n []string
	for _, g := range gpuTypes {
		n = append(n, g.Name)
	}
	return strings.Join(n, ", ")
}

// Counts lists the GPUs per node a type comes in, ascending.
func (g GPUType) Counts() []int {
	var c []int
	for n := range g.Machines {
		c = append(c, n)
	}
	sort.Ints(c)
	return c
}

// IsTPU says whether an accelerator type is a TPU.
func IsTPU(accelerator string) bool { return accelerator == AcceleratorTPUv6e }
