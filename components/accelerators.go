package components

import (
	"sort"
	"strings"
)

// TPU v6e (Trillium) single-host slices. GKE picks the slice by machine type: the topology
// fixes both the machine type and the chips on the node, so neither is configured twice.
// Source: https://cloud.google.com/tpu/docs/v6e (ct6e-standard-1t is 1x1 with 1 chip,
// -4t is 2x2 with 4, -8t is 2x4 with 8, all on one VM; 32 GB of HBM per chip).
const (
	AcceleratorTPUv6e = "tpu-v6e"
	// TPUv6eNodeLabelValue is GKE's cloud.google.com/gke-tpu-accelerator label for v6e nodes.
	TPUv6eNodeLabelValue = "tpu-v6e-slice"
	// TPUv6eHBMGiB is the high-bandwidth memory of one v6e chip, in GB.
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
