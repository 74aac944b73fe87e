package stacks

import (
	"fmt"

	"github.com/llmserve/llmserve/catalog"
)

// bytesPerParam is the weight size of one parameter in each dtype.
var bytesPerParam = map[string]float64{"float32": 4, "bfloat16": 2, "float16": 2, "int8": 1, "fp8": 1}

// DefaultKVCacheHeadroom is the share of the weights' size kept free for the KV cache and
// activations. vLLM sizes its KV cache from what is left after the weights; with less than
// this a long context or a full batch cannot be served.
const DefaultKVCacheHeadroom = 0.2

// Sizing is the memory a profile needs and what its slice offers.
type Sizing struct {
	WeightsGB float64 // parameters x bytes per dtype
	NeedGB    float64 // weights plus KV-cache headroom
	HaveGB    float64 // HBM of the profile's slice
	Fits      bool
	// Smallest is the smallest single-host slice that fits, or "" if none does.
	Smallest string
}

// Size computes the memory check for a profile.
func Size(p Profile) Sizing {
	headroom := DefaultKVCacheHeadroom
	if p.KVCacheHeadroom != nil {
		headroom = *p.KVCacheHeadroom
	}
	s := Sizing{WeightsGB: p.ParamsBillions * bytesPerParam[p.DType]}
	s.NeedGB = s.WeightsGB * (1 + headroom)
	a := p.Accelerator
	if catalog.IsTPU(a.Type) {
		if slice, ok := catalog.LookupTPUSlice(a.Topology); ok {
			s.HaveGB = float64(slice.Chips * catalog.TPUv6eHBMGB)
		}
		for _, slice := range catalog.TPUSlices() {
			if s.NeedGB <= float64(slice.Chips*catalog.TPUv6eHBMGB) {
				s.Smallest = slice.Topology
				break
			}
		}
	} else if g, ok := catalog.LookupGPU(a.Type); ok {
		if _, ok := g.Machines[a.Count]; ok {
			s.HaveGB = float64(a.Count * g.MemoryGB)
		}
		for _, n := range g.Counts() {
			if s.NeedGB <= float64(n*g.MemoryGB) {
				s.Smallest = fmt.Sprintf("accelerator.count %d", n)
				break
			}
		}
	}
	s.Fits = s.HaveGB > 0 && s.NeedGB <= s.HaveGB
	return s
}

// shape names what a replica runs on, for messages: "a 2x4 slice", "1 x nvidia-l4".
func shape(a AcceleratorSpec) (key, value, what string) {
	if catalog.IsTPU(a.Type) {
		return "accelerator.topology", fmt.Sprintf("%q", a.Topology), "a " + a.Topology + " slice"
	}
	return "accelerator.count", fmt.Sprint(a.Count), fmt.Sprintf("%d x %s", a.Count, a.Type)
}

// validateSizing checks that the weights plus KV-cache headroom fit the accelerator memory.
func (c *Config) validateSizing(p *problems) {
	pr := c.Profile
	if pr.ParamsBillions <= 0 {
		p.addf("paramsBillions %v: required, the model's size in billions of parameters (sizes the memory check)", pr.ParamsBillions)
		return
	}
	if pr.KVCacheHeadroom != nil && (*pr.KVCacheHeadroom < 0 || *pr.KVCacheHeadroom > 4) {
		p.addf("kvCacheHeadroom %v: want a share of the weights' size between 0 and 4 (default %v)", *pr.KVCacheHeadroom, DefaultKVCacheHeadroom)
		return
	}
	if _, ok := bytesPerParam[pr.DType]; !ok {
		return // reported by the dtype check
	}
	s := Size(pr)
	if s.HaveGB == 0 || s.Fits {
		return
	}
	fix := "needs " + s.Smallest
	if s.Smallest == "" {
		fix = "no single node holds it; quantize (dtype int8/fp8) or pick a smaller model"
		if catalog.IsTPU(pr.Accelerator.Type) {
			fix = "no single-host v6e slice holds it; quantize (dtype int8/fp8) or pick a smaller model"
		}
	}
	key, value, what := shape(pr.Accelerator)
	p.addf("%s %s: %s needs %.0f GB (%.0f GB of %s weights + %.0f%% KV-cache headroom) but %s has %.0f GB of accelerator memory; %s",
		key, value, c.ModelName, s.NeedGB, s.WeightsGB, pr.DType, 100*(s.NeedGB/s.WeightsGB-1), what, s.HaveGB, fix)
}
