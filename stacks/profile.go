package stacks

import (
	"embed"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/llmserve/llmserve/components"
	"go.yaml.in/yaml/v3"
)

// Profile is everything about one model's workload: engine, model, accelerator shape, server
// limits, storage, probes and autoscaling. Profiles are data (stacks/models/<name>.yaml); a
// stack picks one with llmserve:model and may override any field with llmserve:overrides.
type Profile struct {
	Engine string `yaml:"engine"` // vllm | jetstream
	Model  string `yaml:"model"`  // Hugging Face model id
	Image  string `yaml:"image"`  // server image
	// ParamsBillions and DType size the weights for the memory check.
	ParamsBillions float64 `yaml:"paramsBillions"`
	DType          string  `yaml:"dtype"`
	// KVCacheHeadroom is the share of the weights' size kept free for the KV cache.
	KVCacheHeadroom *float64        `yaml:"kvCacheHeadroom"`
	Accelerator     AcceleratorSpec `yaml:"accelerator"`
	Server          ServerSpec      `yaml:"server"`
	JetStream       JetStreamSpec   `yaml:"jetstream"`
	Storage         StorageSpec     `yaml:"storage"`
	Probes          ProbeSpec       `yaml:"probes"`
	Autoscaling     AutoscalingSpec `yaml:"autoscaling"`
}

// AcceleratorSpec is what one replica runs on: a TPU slice (type tpu-v6e and a topology)
// or a GPU node (a GKE GPU type and a count).
type AcceleratorSpec struct {
	Type     string `yaml:"type"`     // tpu-v6e | nvidia-l4 | nvidia-h100-80gb | ...
	Topology string `yaml:"topology"` // TPU: 1x1 | 2x2 | 2x4
	Count    int    `yaml:"count"`    // GPU: GPUs per replica (and node)
}

// ServerSpec holds the vLLM server's limits (vllm.entrypoints.openai.api_server flags).
type ServerSpec struct {
	Port                int               `yaml:"port"`
	TensorParallelSize  int               `yaml:"tensorParallelSize"`
	MaxModelLen         int               `yaml:"maxModelLen"`
	MaxNumSeqs          int               `yaml:"maxNumSeqs"`
	MaxNumBatchedTokens int               `yaml:"maxNumBatchedTokens"`
	ExtraArgs           []string          `yaml:"extraArgs"`
	Env                 map[string]string `yaml:"env"`
	CPU                 string            `yaml:"cpu"`
	Memory              string            `yaml:"memory"`
}

// JetStreamSpec holds the MaxText maxengine-server settings (seed 000).
type JetStreamSpec struct {
	HTTPImage               string   `yaml:"httpImage"`
	ModelName               string   `yaml:"modelName"`
	TokenizerPath           string   `yaml:"tokenizerPath"`
	CheckpointPath          string   `yaml:"checkpointPath"` // relative to the bucket
	PerDeviceBatchSize      int      `yaml:"perDeviceBatchSize"`
	MaxPrefillPredictLength int      `yaml:"maxPrefillPredictLength"`
	MaxTargetLength         int      `yaml:"maxTargetLength"`
	MetricsPort             int      `yaml:"metricsPort"`
	ExtraArgs               []string `yaml:"extraArgs"`
}

// StorageSpec tunes the GCS FUSE volume and the XLA compilation cache.
type StorageSpec struct {
	MountPath    string   `yaml:"mountPath"`
	MountOptions []string `yaml:"mountOptions"`
	// FileCacheMedium is the emptyDir medium of the gke-gcsfuse-cache volume: "Memory"
	// (TPU nodes have no local SSD) or "" for node disk.
	FileCacheMedium      string `yaml:"fileCacheMedium"`
	FileCacheSize        string `yaml:"fileCacheSize"`
	SidecarCPULimit      string `yaml:"sidecarCPULimit"`
	SidecarMemoryLimit   string `yaml:"sidecarMemoryLimit"`
	SidecarStorageLimit  string `yaml:"sidecarEphemeralStorageLimit"`
	SharedMemorySize     string `yaml:"sharedMemorySize"`
	XLACache             string `yaml:"xlaCache"` // shared | per-pod | off
	XLACacheLocalSize    string `yaml:"xlaCacheLocalSize"`
	XLACachePublishDelay *int   `yaml:"xlaCachePublishDelaySeconds"`
}

// ProbeSpec sizes the probes. A 70B model takes many minutes to download and compile,
// so the startup probe allows StartupTimeoutSeconds before the kubelet gives up.
type ProbeSpec struct {
	StartupTimeoutSeconds int `yaml:"startupTimeoutSeconds"`
	PeriodSeconds         int `yaml:"periodSeconds"`
}

// AutoscalingSpec is the HPA: bounds, metric targets and scaling behaviour.
type AutoscalingSpec struct {
	MinReplicas int                       `yaml:"minReplicas"`
	MaxReplicas int                       `yaml:"maxReplicas"`
	Metrics     []components.MetricTarget `yaml:"metrics"`
	Behavior    components.BehaviorSpec   `yaml:"behavior"`
	Buffer      BufferSpec                `yaml:"buffer"` // spare warm nodes (buffer.go)
}

// profileNameRe is what a profile name may be: a file name in stacks/models, never a path.
var profileNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

//go:embed models/*.yaml
var modelFiles embed.FS

// ProfileNames lists the embedded model profiles.
func ProfileNames() []string {
	entries, _ := modelFiles.ReadDir("models")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// profileDoc returns the raw YAML document of an embedded profile.
func profileDoc(name string) (map[string]any, error) {
	raw, err := modelFiles.ReadFile(path.Join("models", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("llmserve:model %q: no such profile; want one of %s", name, strings.Join(ProfileNames(), ", "))
	}
	doc := map[string]any{}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("profile %q: %w", name, err)
	}
	return doc, nil
}

// mergeDocs deep-merges override over base: maps merge key by key, anything else
// (scalars, lists) in override replaces the base value.
func mergeDocs(base, override map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = mergeDocs(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}

// decodeStrict decodes a generic document into a typed value with decodeValue's rules
// (unknown fields, non-whole integers, non-finite numbers and non-booleans are errors), so a
// typo in an override is an error rather than a silently ignored key. key prefixes every
// field's name in messages.
func decodeStrict(doc any, into any, key string, w *written) error {
	raw, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("%s: %v", key, err)
	}
	n, err := parseDoc(raw)
	if err != nil || n == nil { // an empty document is no error
		return err
	}
	return decodeValue(n, into, key, w)
}

// LoadProfile returns an embedded profile with its defaults applied, as a stack that picks
// it with no overrides would see it.
func LoadProfile(name string) (Profile, error) {
	doc, err := profileDoc(name)
	if err != nil {
		return Profile{}, err
	}
	c := &Config{ModelName: name, written: map[string]*written{"overrides": newWritten()}}
	if err := decodeStrict(doc, &c.Profile, "profile "+name, c.written["overrides"]); err != nil {
		return Profile{}, err
	}
	c.applyProfileDefaults()
	return c.Profile, nil
}
