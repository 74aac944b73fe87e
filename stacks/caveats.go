package stacks

import (
	"fmt"

	"github.com/llmserve/llmserve/catalog"
)

// Caveats are what a valid config may still get wrong on a real cluster: facts llmserve
// could not check against upstream. `llmserve validate` prints them under the stack's ok
// line and the program logs them as warnings, so they are seen before and during `up`.
func (c *Config) Caveats() []string {
	var out []string
	p := c.Profile
	if p.Engine == catalog.EngineJetStream {
		// Not shown upstream (issue 11): every public maxengine-server sample runs on TPU
		// v5e; on v6e Google shows only the multi-host Pathways image. And JetStream before
		// v0.3 exports jetstream_slots_available_percentage, not _used_ (JetStream releases).
		out = append(out, fmt.Sprintf("JetStream %s on %s is not shown to work by any upstream sample (only TPU v5e single-host); "+
			"its JetStream may predate jetstream_slots_used_percentage (v0.3); check /metrics on a cluster before relying on it", p.Image, p.Accelerator.Type))
	}
	out = append(out, c.imageCacheCaveats()...)
	return append(out, c.bufferCaveats()...)
}

// imageCacheCaveats say what pool.imageCacheDisk asks of the user: the disk image must
// hold the exact server image, and a new one replaces the node pool.
func (c *Config) imageCacheCaveats() []string {
	d := c.Pool.ImageCacheDisk
	if d == "" || !*c.Pool.Create {
		return nil
	}
	return []string{fmt.Sprintf("pool.imageCacheDisk %s must hold %s, the server image, or every new node still pulls it "+
		"(build it with gke-disk-image-builder --container-image=%s, https://cloud.google.com/kubernetes-engine/docs/how-to/data-container-image-preloading); "+
		"GKE cannot change the disk image of existing nodes, so a new disk image replaces the accelerator node pool", d, c.Profile.Image, c.Profile.Image)}
}
