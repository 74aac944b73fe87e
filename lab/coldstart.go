package lab

import (
	"fmt"
	"time"

	"github.com/llmserve/llmserve/catalog"
)

// ColdStart is how long a replica scheduled on a ready node takes to serve: its image pull,
// its weights read through GCS FUSE, the engine's start and the XLA compilation, which is
// warm once a replica has published the XLA cache (llmserve's shared XLA cache, see
// catalog.XLACacheShared) and cold otherwise. Every term is a flag of the lab command.
type ColdStart struct {
	ImageGB, PullGBps   float64 // image size and registry pull throughput
	WeightsGB, FUSEGBps float64 // weights size and GCS FUSE read throughput
	EngineStart         time.Duration
	XLACold, XLAWarm    time.Duration
}

// Cold-start defaults, each with its source.
const (
	// DefaultImageGB: the vllm/vllm-tpu image is 19.5 GB unpacked since
	// vllm-project/tpu-inference#1245 (December 2025: "the raw image size (uncompressed)
	// reduce from 25.9GB to 19.5GB"). Earlier versions of this lab took 3 GB, a January 2025
	// remark about the compressed image (marin-community/marin#704).
	DefaultImageGB = 19.5
	// DefaultPullGBps: 0.134 GB/s, GKE pulling vLLM's GPU image without image streaming in
	// ~214 s (llm-d/llm-d#1902, Llama 3.1 8B on an L4 node: "Standard Cold Start ... Image
	// Pull Time ~214s") over that image's 28.6 GB (vllm-project/vllm#22377,
	// vllm-openai:latest). An assumption that the TPU image pulls at the same rate: 146 s for
	// it. GKE image streaming (~4 s in the same measurement) needs the image in Artifact
	// Registry; set -pull-gbps to model it.
	DefaultPullGBps = 0.134
	// DefaultFUSEGBps: 0.57 GB/s, GKE's Cloud Storage FUSE inference profile loading
	// Qwen3-235B-A22B (480 GB) on TPUs in 14 minutes (Google Cloud blog, "Optimize AI/ML
	// workloads with GKE Cloud Storage FUSE profiles").
	DefaultFUSEGBps = 0.57
	// DefaultEngineStart: 20 s from container start to the engine's config (vllm-project/vllm
	// #44881 measures ~16 s "Container init -> engine config").
	DefaultEngineStart = 20 * time.Second
	// DefaultXLACold and DefaultXLAWarm: 340 s cold and 135 s warm XLA compilation in
	// vllm-project/tpu-inference#1707; marin-community/marin#2318 measures the same shape for
	// Llama 3.1 8B on TPU (357 s first start, 154 s with a local compilation cache).
	DefaultXLACold = 340 * time.Second
	DefaultXLAWarm = 135 * time.Second
)

// DefaultColdStart returns the default cold start of a profile whose weights are weightsGB
// (stacks.Size).
func DefaultColdStart(weightsGB float64) ColdStart {
	return ColdStart{ImageGB: DefaultImageGB, PullGBps: DefaultPullGBps,
		WeightsGB: weightsGB, FUSEGBps: DefaultFUSEGBps,
		EngineStart: DefaultEngineStart, XLACold: DefaultXLACold, XLAWarm: DefaultXLAWarm}
}

// Duration is the time from scheduling to serving, with a warm XLA cache or a cold one, on
// a node that has to pull the image.
func (c ColdStart) Duration(warm bool) time.Duration {
	return c.On(warm, c.Pull())
}

// Pull is the image pull on a node that does not hold the image.
func (c ColdStart) Pull() time.Duration {
	if c.PullGBps <= 0 {
		return 0
	}
	return seconds(c.ImageGB / c.PullGBps)
}

// On is the time from scheduling to serving on a node where the image is pulled in
// pullWait (ImageCache.Pull: 0 when the node holds it already).
func (c ColdStart) On(warm bool, pullWait time.Duration) time.Duration {
	d := c.EngineStart + c.XLACold
	if warm {
		d = c.EngineStart + c.XLAWarm
	}
	d += pullWait
	if c.FUSEGBps > 0 {
		d += seconds(c.WeightsGB / c.FUSEGBps)
	}
	return d
}

func (c ColdStart) String() string {
	return fmt.Sprintf("image %.1f GB at %.2f GB/s + weights %.1f GB at %.2f GB/s + engine %s + XLA %s cold / %s warm = %s cold, %s warm",
		c.ImageGB, c.PullGBps, c.WeightsGB, c.FUSEGBps, c.EngineStart, c.XLACold, c.XLAWarm,
		c.Duration(false).Round(time.Second), c.Duration(true).Round(time.Second))
}

// XLACache follows the published state of the shared XLA cache: with the shared mode the
// first replica to serve publishes its cache PublishDelay later (the profile's
// storage.xlaCachePublishDelay), and replicas that start after that compile warm. The
// per-pod and off modes never share, so every replica compiles cold.
type XLACache struct {
	Mode         string
	PublishDelay time.Duration
	publishedAt  time.Duration
	published    bool
}

// Served records that a replica began serving at t.
func (x *XLACache) Served(t time.Duration) {
	if x.Mode == catalog.XLACacheShared && !x.published {
		x.published, x.publishedAt = true, t+x.PublishDelay
	}
}

// Warm says whether a replica starting at t finds a published cache.
func (x *XLACache) Warm(t time.Duration) bool {
	return x.Mode == catalog.XLACacheShared && x.published && t >= x.publishedAt
}

// ImageCache follows the images each node holds. The kubelet pulls an image a container
// needs only if the node does not have it yet: imagePullPolicy IfNotPresent ("the image is
// pulled only if it is not already present locally"), and with Always the registry is
// asked for the digest and the cached layers are used (kubernetes.io/docs/concepts/
// containers/images, "Image pull policy"). So a replica skips the pull on a node where any
// pod has pulled the server image before: an earlier replica on a node the
// cluster-autoscaler kept, or a placeholder pod that runs the server image to hold the node
// warm (issue 19; GKE documents the same effect for images preloaded on a secondary boot
// disk: cloud.google.com/kubernetes-engine/docs/how-to/data-container-image-preloading).
// Nodes start empty: the lab's nodes have no image until a pod pulls it, and a node
// removed and re-created under the same name starts empty again (Forget).
type ImageCache struct {
	ready map[string]map[string]time.Duration // node -> image -> world time it is present
}

// Pull records that a container of image starts on node at now, and returns how long it
// waits for the image: the whole pull on a node that never had it, what is left of an
// earlier pod's pull still in progress (the kubelet pulls an image once), 0 once present.
func (c *ImageCache) Pull(node, image string, now, pull time.Duration) time.Duration {
	if c.ready == nil {
		c.ready = map[string]map[string]time.Duration{}
	}
	imgs := c.ready[node]
	if imgs == nil {
		imgs = map[string]time.Duration{}
		c.ready[node] = imgs
	}
	if at, ok := imgs[image]; ok {
		return max(0, at-now)
	}
	imgs[image] = now + pull
	return pull
}

// Has says whether node holds image at now.
func (c *ImageCache) Has(node, image string, now time.Duration) bool {
	at, ok := c.ready[node][image]
	return ok && at <= now
}

// Forget drops every node not in nodes: removed nodes take their images with them.
func (c *ImageCache) Forget(nodes map[string]bool) {
	for n := range c.ready {
		if !nodes[n] {
			delete(c.ready, n)
		}
	}
}
