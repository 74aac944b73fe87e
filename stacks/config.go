package stacks

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"gopkg.in/yaml.v3"
)

// Namespace is the Pulumi config namespace of every llmserve key.
const Namespace = "llmserve"

// Config is the whole, typed, validated configuration of one stack. It is built once by
// Load and never read from Pulumi config again: components get typed arguments.
type Config struct {
	Project string // gcp:project
	Region  string // gcp:region
	// ProjectNumber, when set, saves the project lookup that the Workload Identity
	// principals need (llmserve:projectNumber).
	ProjectNumber string
	// GCPResources false creates no GCP resource at all: cluster mode must be existing and
	// the bucket must already exist. The local lab and the real-engine tests use it.
	GCPResources bool

	Cluster    ClusterConfig    // llmserve:cluster
	Pool       PoolConfig       // llmserve:pool
	ModelStore ModelStoreConfig // llmserve:modelStore
	Serving    ServingConfig    // llmserve:serving
	Metrics    MetricsConfig    // llmserve:metrics

	ModelName string  // llmserve:model: the profile name
	Profile   Profile // the profile merged under llmserve:overrides

	HFToken    pulumi.StringOutput // llmserve:hfToken, always a secret
	HasHFToken bool

	// SkipAwait marks every Kubernetes object pulumi.com/skipAwait, for clusters with no
	// kubelet (envtest, the local lab) where nothing ever becomes ready.
	SkipAwait bool
	// RenderDir writes manifests instead of applying them (llmserve:renderDir).
	RenderDir string
}

// ClusterConfig is llmserve:cluster.
type ClusterConfig struct {
	Mode               string   `yaml:"mode"` // standard | autopilot | existing
	Name               string   `yaml:"name"`
	Location           string   `yaml:"location"` // region or zone of the control plane; default gcp:region
	Zones              []string `yaml:"zones"`    // node locations
	ReleaseChannel     string   `yaml:"releaseChannel"`
	Version            string   `yaml:"version"` // minimum master version
	DeletionProtection *bool    `yaml:"deletionProtection"`
	Network            string   `yaml:"network"`
	Subnetwork         string   `yaml:"subnetwork"`
	// Kubeconfig (existing mode) comes from llmserve:kubeconfig, a path or the file's
	// contents, so that it can be set with --secret; it is kept secret in state.
	Kubeconfig string `yaml:"-"`
	Context    string `yaml:"context"`
	SystemPool struct {
		MachineType string `yaml:"machineType"`
		MinNodes    int    `yaml:"minNodes"`
		MaxNodes    int    `yaml:"maxNodes"`
	} `yaml:"systemPool"`
}

// PoolConfig is llmserve:pool, the accelerator node pool. Its shape (TPU topology) comes
// from the model profile; this sets its size and purchase options.
type PoolConfig struct {
	Create         *bool  `yaml:"create"` // default: true in standard mode
	MinNodes       *int   `yaml:"minNodes"`
	MaxNodes       *int   `yaml:"maxNodes"`
	Spot           bool   `yaml:"spot"`
	Reservation    string `yaml:"reservation"`
	LocationPolicy string `yaml:"locationPolicy"` // ANY | BALANCED
	DiskSizeGB     int    `yaml:"diskSizeGb"`
	// DriverVersion is the GKE-managed NVIDIA driver for GPU pools: LATEST or DEFAULT.
	DriverVersion string `yaml:"driverVersion"`
}

// ModelStoreConfig is llmserve:modelStore, the bucket that caches weights and XLA output.
type ModelStoreConfig struct {
	Bucket       string `yaml:"bucket"`
	Location     string `yaml:"location"`
	StorageClass string `yaml:"storageClass"`
	ForceDestroy bool   `yaml:"forceDestroy"`
}

// ServingConfig is llmserve:serving: where and how the server runs in the cluster.
type ServingConfig struct {
	Namespace       string `yaml:"namespace"`
	CreateNamespace *bool  `yaml:"createNamespace"`
	ServiceAccount  string `yaml:"serviceAccount"`
	// Exposure: cluster (ClusterIP, default) | internal (GKE internal LB) | public.
	Exposure    string `yaml:"exposure"`
	AllowPublic bool   `yaml:"allowPublic"`
}

// MetricsConfig is llmserve:metrics: how server metrics reach the HPA.
type MetricsConfig struct {
	// Backend stores the metrics: managed-prometheus (GKE's, with PodMonitoring) or
	// prometheus-operator (kube-prometheus-stack in the cluster, with ServiceMonitor).
	Backend string `yaml:"backend"`
	// Adapter serves them to the HPA: stackdriver | prometheus-adapter | none. Only one
	// adapter can serve custom.metrics.k8s.io in a cluster.
	Adapter        string `yaml:"adapter"`
	InstallAdapter *bool  `yaml:"installAdapter"`
	AdapterImage   string `yaml:"adapterImage"`
	// FrontendImage is Managed Prometheus's query frontend, for prometheus-adapter on
	// managed-prometheus.
	FrontendImage  string `yaml:"frontendImage"`
	ScrapeInterval string `yaml:"scrapeInterval"`
	// SystemScrapeInterval is for the TPU device plugin's metrics (15s at the fastest).
	SystemScrapeInterval string `yaml:"systemScrapeInterval"`
	// InstallPrometheus installs kube-prometheus-stack with backend prometheus-operator.
	InstallPrometheus *bool        `yaml:"installPrometheus"`
	Charts            ChartsConfig `yaml:"charts"`
}

// ChartsConfig pins the Helm chart versions llmserve installs.
type ChartsConfig struct {
	KubePrometheusStack string `yaml:"kubePrometheusStack"`
	PrometheusAdapter   string `yaml:"prometheusAdapter"`
	DCGMExporter        string `yaml:"dcgmExporter"`
}

// configKeys are every key Load reads under llmserve:. SettingsFromConfig (the llmserve
// command, env files) rejects any other; `pulumi up` cannot, as the Go SDK does not list a
// stack's keys to the program.
var configKeys = []string{"projectNumber", "gcpResources", "cluster", "pool", "modelStore",
	"serving", "metrics", "model", "overrides", "hfToken", "skipAwait", "renderDir", "kubeconfig"}

// Load reads the stack's configuration, applies defaults and validates it, returning every
// problem at once. Only the getters that return errors are used: Require* would panic.
func Load(ctx *pulumi.Context) (*Config, error) {
	cfg := config.New(ctx, Namespace)
	c := &Config{
		Project:       config.Get(ctx, "gcp:project"),
		Region:        config.Get(ctx, "gcp:region"),
		ProjectNumber: cfg.Get("projectNumber"),
		ModelName:     cfg.Get("model"),
		RenderDir:     cfg.Get("renderDir"),
	}
	var problems []error
	add := func(err error) {
		if err != nil {
			problems = append(problems, err)
		}
	}
	add(parseBool(cfg, "gcpResources", true, &c.GCPResources))
	add(parseBool(cfg, "skipAwait", false, &c.SkipAwait))
	add(parseObject(cfg, "cluster", &c.Cluster))
	add(parseObject(cfg, "pool", &c.Pool))
	add(parseObject(cfg, "modelStore", &c.ModelStore))
	add(parseObject(cfg, "serving", &c.Serving))
	add(parseObject(cfg, "metrics", &c.Metrics))
	c.Cluster.Kubeconfig = cfg.Get("kubeconfig")

	if tok, err := cfg.TrySecret("hfToken"); err == nil {
		c.HFToken, c.HasHFToken = tok, true
	}

	if c.ModelName == "" {
		c.ModelName = DefaultModel
	}
	if err := loadProfile(c, cfg.Get("overrides")); err != nil {
		add(err)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	c.applyDefaults(ctx.Stack())
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// DefaultModel is the profile used when llmserve:model is not set.
const DefaultModel = "llama-3.1-8b"

func loadProfile(c *Config, overrides string) error {
	base, err := profileDoc(c.ModelName)
	if err != nil {
		return err
	}
	over := map[string]any{}
	if strings.TrimSpace(overrides) != "" {
		if err := yaml.Unmarshal([]byte(overrides), &over); err != nil {
			return fmt.Errorf("llmserve:overrides: not a YAML/JSON object: %v", err)
		}
	}
	if err := decodeStrict(mergeDocs(base, over), &c.Profile); err != nil {
		return fmt.Errorf("llmserve:overrides over profile %q: %v (fields are those of stacks/models/*.yaml)", c.ModelName, cleanYAMLError(err))
	}
	return nil
}

// parseObject decodes llmserve:<key> (JSON or YAML object) strictly into v.
func parseObject(cfg *config.Config, key string, v any) error {
	raw := cfg.Get(key)
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var doc any
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		return fmt.Errorf("llmserve:%s: not a YAML/JSON object: %v", key, err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return fmt.Errorf("llmserve:%s: want an object, got %q", key, raw)
	}
	if err := decodeStrict(doc, v); err != nil {
		return fmt.Errorf("llmserve:%s: %v", key, cleanYAMLError(err))
	}
	return nil
}

func parseBool(cfg *config.Config, key string, def bool, out *bool) error {
	raw := strings.TrimSpace(cfg.Get(key))
	switch raw {
	case "":
		*out = def
	case "true":
		*out = true
	case "false":
		*out = false
	default:
		return fmt.Errorf("llmserve:%s: %q is not a boolean; want true or false", key, raw)
	}
	return nil
}

// cleanYAMLError turns yaml.v3's "yaml: unmarshal errors:\n  line 3: field x not found in
// type stacks.Foo" into "line 3: field x not found" for readable messages.
func cleanYAMLError(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, " in type "); i >= 0 {
			l = l[:i]
		}
		// Line numbers point into the merged document, not the user's file: drop them.
		if strings.HasPrefix(l, "line ") {
			if i := strings.Index(l, ": "); i >= 0 {
				l = l[i+2:]
			}
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

func boolPtr(b bool) *bool { return &b }
func intPtr(i int) *int    { return &i }
