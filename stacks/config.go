package stacks

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"go.yaml.in/yaml/v3"
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

	// stack is the Pulumi stack the config is for; user holds the sections as the user wrote
	// them, before defaults, so checks can tell a setting from a default.
	stack string
	user  userSettings
	// written records, per section (cluster, pool, ...; "overrides" for the merged profile),
	// the fields the config wrote; emptyTop the top-level keys written with no value.
	written  map[string]*written
	emptyTop []string
	// hfTokenPlain: llmserve:hfToken was set without --secret.
	hfTokenPlain bool
	// routingNote says which routing the defaults chose and why (Notes); empty when the
	// user wrote serving.routing.
	routingNote string
}

// userSettings are the config sections before defaults.
type userSettings struct {
	Cluster    ClusterConfig
	Pool       PoolConfig
	ModelStore ModelStoreConfig
	Serving    ServingConfig
}

// ClusterConfig is llmserve:cluster.
type ClusterConfig struct {
	Mode               string   `yaml:"mode,omitempty"` // standard | autopilot | existing
	Name               string   `yaml:"name,omitempty"`
	Location           string   `yaml:"location,omitempty"` // region or zone of the control plane; default gcp:region
	Zones              []string `yaml:"zones,omitempty"`    // node locations
	ReleaseChannel     string   `yaml:"releaseChannel,omitempty"`
	Version            string   `yaml:"version,omitempty"` // minimum master version
	DeletionProtection *bool    `yaml:"deletionProtection,omitempty"`
	Network            string   `yaml:"network,omitempty"`
	Subnetwork         string   `yaml:"subnetwork,omitempty"`
	// Kubeconfig (existing mode) comes from llmserve:kubeconfig, a path or the file's
	// contents, so that it can be set with --secret; it is kept secret in state.
	Kubeconfig string `yaml:"-"`
	Context    string `yaml:"context,omitempty"`
	// SystemPool's node counts are pointers so that a written 0 survives the llmserve
	// command's typed Settings (omitempty drops a zero int, never a pointer to one) and is
	// validated rather than defaulted.
	SystemPool struct {
		MachineType string `yaml:"machineType,omitempty"`
		MinNodes    *int   `yaml:"minNodes,omitempty"`
		MaxNodes    *int   `yaml:"maxNodes,omitempty"`
	} `yaml:"systemPool,omitempty"`
}

// PoolConfig is llmserve:pool, the accelerator node pool. Its shape (TPU topology) comes
// from the model profile; this sets its size and purchase options.
type PoolConfig struct {
	Create         *bool  `yaml:"create,omitempty"` // default: true in standard mode
	MinNodes       *int   `yaml:"minNodes,omitempty"`
	MaxNodes       *int   `yaml:"maxNodes,omitempty"`
	Spot           bool   `yaml:"spot,omitempty"`
	Reservation    string `yaml:"reservation,omitempty"`
	LocationPolicy string `yaml:"locationPolicy,omitempty"` // ANY | BALANCED
	DiskSizeGB     *int   `yaml:"diskSizeGb,omitempty"`     // nil: GKE's default; a pointer so a written 0 is refused, not dropped
	// ImageCacheDisk: a Compute Engine image that holds the server's container image
	// (made with gke-disk-image-builder), attached to every node of the pool as a secondary
	// boot disk, so a new node starts the server without pulling its image
	// (catalog.SecondaryBootDiskImageCache). global/images/NAME or
	// projects/<gcp:project>/global/images/NAME.
	ImageCacheDisk string `yaml:"imageCacheDisk,omitempty"`
	// DriverVersion is the GKE-managed NVIDIA driver for GPU pools: LATEST or DEFAULT.
	DriverVersion string `yaml:"driverVersion,omitempty"`
}

// ModelStoreConfig is llmserve:modelStore, the bucket that caches weights and XLA output.
type ModelStoreConfig struct {
	Bucket       string `yaml:"bucket,omitempty"`
	Location     string `yaml:"location,omitempty"`
	StorageClass string `yaml:"storageClass,omitempty"`
	ForceDestroy bool   `yaml:"forceDestroy,omitempty"`
	// DomainVerified says the owner of the domain in a dotted bucket name (weights.example.com)
	// has verified it with Google, so GCS will create the bucket; without it dotted names are
	// refused (catalog.BucketNeedsDomainVerification).
	DomainVerified bool `yaml:"domainVerified,omitempty"`
}

// ServingConfig is llmserve:serving: where and how the server runs in the cluster.
type ServingConfig struct {
	Namespace       string `yaml:"namespace,omitempty"`
	CreateNamespace *bool  `yaml:"createNamespace,omitempty"`
	ServiceAccount  string `yaml:"serviceAccount,omitempty"`
	// Exposure: cluster (ClusterIP; the default without a gateway) | internal (GKE internal
	// LB; the default behind a gateway) | public (with AllowPublic).
	Exposure    string `yaml:"exposure,omitempty"`
	AllowPublic bool   `yaml:"allowPublic,omitempty"`
	// Routing: gateway (GKE Inference Gateway in front of an InferencePool; stacks/
	// routing.go) | service (a Kubernetes Service). Left out, defaultRouting picks.
	Routing string        `yaml:"routing,omitempty"`
	Gateway GatewayConfig `yaml:"gateway,omitempty"`
}

// MetricsConfig is llmserve:metrics: how server metrics reach the HPA.
type MetricsConfig struct {
	// Backend stores the metrics: managed-prometheus (GKE's, with PodMonitoring) or
	// prometheus-operator (a Prometheus Operator already in the cluster, with ServiceMonitor).
	Backend string `yaml:"backend,omitempty"`
	// Adapter serves them to the HPA: stackdriver | prometheus-adapter | none. Only one
	// adapter can serve custom.metrics.k8s.io in a cluster.
	Adapter        string `yaml:"adapter,omitempty"`
	InstallAdapter *bool  `yaml:"installAdapter,omitempty"`
	AdapterImage   string `yaml:"adapterImage,omitempty"`
	// FrontendImage is Managed Prometheus's query frontend, for prometheus-adapter on
	// managed-prometheus.
	FrontendImage  string `yaml:"frontendImage,omitempty"`
	ScrapeInterval string `yaml:"scrapeInterval,omitempty"`
	// SystemScrapeInterval is for the TPU device plugin's metrics (15s at the fastest).
	SystemScrapeInterval string `yaml:"systemScrapeInterval,omitempty"`
	// PrometheusURL is the in-cluster HTTP address of the Prometheus that prometheus-adapter
	// queries on backend prometheus-operator, such as
	// http://prometheus-operated.monitoring.svc:9090. llmserve installs no Prometheus.
	PrometheusURL string `yaml:"prometheusURL,omitempty"`
	// MonitorLabels are added to every ServiceMonitor and PrometheusRule llmserve creates, to
	// match the cluster's Prometheus selectors (kube-prometheus-stack selects release: <its
	// release name> by default).
	MonitorLabels map[string]string `yaml:"monitorLabels,omitempty"`
	// InstallDCGMExporter installs NVIDIA's DCGM exporter (one per cluster) for DCGM metrics
	// on backend prometheus-operator in cluster mode existing; default true there. False when
	// another model or stack installed it in the cluster.
	InstallDCGMExporter *bool `yaml:"installDCGMExporter,omitempty"`
	// ScrapeGKEDCGM adds a ServiceMonitor for GKE's managed DCGM exporter instead (an
	// existing GKE cluster with DCGM enabled, where NVIDIA's exporter finds no driver:
	// NVIDIA/dcgm-exporter#484); default false, as llmserve cannot tell an existing cluster
	// is GKE. One stack per cluster sets it, like installDCGMExporter.
	ScrapeGKEDCGM *bool `yaml:"scrapeGKEDCGM,omitempty"`
}

// removedKeys are keys llmserve no longer reads, with what to do instead: a config that still
// sets one fails with this message rather than a bare "is not a field".
var removedKeys = map[string]string{
	Namespace + ":metrics.installPrometheus": "was removed: llmserve no longer installs kube-prometheus-stack; backend prometheus-operator expects a Prometheus Operator already in the cluster. " +
		"Remove installPrometheus, install kube-prometheus-stack yourself if the cluster has none (the helm command is in the README, \"Metrics pipelines\"), " +
		"and set llmserve:metrics.prometheusURL to its Prometheus, such as http://prometheus-operated.monitoring.svc:9090",
	Namespace + ":metrics.charts": "was removed: llmserve installs no Helm chart any more (prometheus-adapter and the DCGM exporter are built as typed objects; " +
		"kube-prometheus-stack is yours to install, with the helm command in the README, \"Metrics pipelines\"); remove charts",
}

// ConfigKeys are every key Load reads under llmserve:. SettingsFromConfig (the llmserve
// command, env files) rejects any other; `pulumi up` cannot, as the Go SDK does not list a
// stack's keys to the program.
var ConfigKeys = []string{"projectNumber", "gcpResources", "cluster", "pool", "modelStore",
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
	var err error
	c.GCPResources, err = ParseBool("gcpResources", cfg.Get("gcpResources"), true)
	add(err)
	c.SkipAwait, err = ParseBool("skipAwait", cfg.Get("skipAwait"), false)
	add(err)
	c.written = map[string]*written{}
	for _, s := range []struct {
		key  string
		into any
	}{{"cluster", &c.Cluster}, {"pool", &c.Pool}, {"modelStore", &c.ModelStore}, {"serving", &c.Serving}, {"metrics", &c.Metrics}} {
		c.written[s.key] = newWritten()
		add(decodeObject(s.key, cfg.Get(s.key), s.into, c.written[s.key]))
	}
	c.Cluster.Kubeconfig = cfg.Get("kubeconfig")
	// A key written with no value (`--set model=`) is not a key left out: it is refused
	// rather than given the default.
	for _, k := range ConfigKeys {
		if v, err := cfg.Try(k); err == nil && strings.TrimSpace(v) == "" && k != "hfToken" {
			c.emptyTop = append(c.emptyTop, k)
		}
	}

	if tok, err := cfg.TrySecret("hfToken"); err == nil {
		c.HFToken, c.HasHFToken = tok, true
		c.hfTokenPlain = !ctx.IsConfigSecret(Namespace + ":hfToken")
	}

	if c.ModelName == "" {
		c.ModelName = DefaultModel
	}
	c.written["overrides"] = newWritten()
	if err := loadProfile(c, cfg.Get("overrides"), c.written["overrides"]); err != nil {
		add(err)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	c.stack = ctx.Stack()
	c.user = userSettings{Cluster: c.Cluster, Pool: c.Pool, ModelStore: c.ModelStore, Serving: c.Serving}
	c.applyDefaults(ctx.Stack())
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// DefaultModel is the profile used when llmserve:model is not set.
const DefaultModel = "llama-3.1-8b"

func loadProfile(c *Config, overrides string, w *written) error {
	if !profileNameRe.MatchString(c.ModelName) {
		return fmt.Errorf("llmserve:model %q: want a profile name (one of %s), not a path", c.ModelName, strings.Join(ProfileNames(), ", "))
	}
	base, err := profileDoc(c.ModelName)
	if err != nil {
		return err
	}
	over := map[string]any{}
	if err := DecodeObject("overrides", overrides, &over); err != nil {
		return err
	}
	return decodeStrict(mergeDocs(base, over), &c.Profile, "llmserve:overrides", w)
}

// DecodeObject decodes the value of llmserve:<key> (a JSON or YAML object) strictly into v.
// Load and the env-file reader of package deploy both decode with it, so they agree; every
// problem is a *FieldError naming its full key (llmserve:pool.maxNodes).
func DecodeObject(key, raw string, v any) error { return decodeObject(key, raw, v, nil) }

// decodeObject is DecodeObject recording the fields written in w (when not nil).
func decodeObject(key, raw string, v any, w *written) error {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	// Decoding to a generic value first applies yaml.v3's guard against excessive aliasing
	// ("billion laughs"), which the node walk below would otherwise expand.
	var generic any
	if err := yaml.Unmarshal([]byte(raw), &generic); err != nil {
		return fmt.Errorf("llmserve:%s: not a YAML/JSON object: %v", key, cleanYAMLError(err))
	}
	n, err := parseDoc([]byte(raw))
	if err != nil {
		return fmt.Errorf("llmserve:%s: not a YAML/JSON object: %v", key, cleanYAMLError(err))
	}
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("llmserve:%s: want an object, got %q", key, raw)
	}
	return decodeValue(n, v, Namespace+":"+key, w)
}

// ParseBool reads the value of a boolean key llmserve:<key>: "" is def, and only true and
// false are booleans (so yes, on and 1 are errors in every reader, not true in one).
func ParseBool(key, raw string, def bool) (bool, error) {
	switch raw = strings.TrimSpace(raw); raw {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return def, fmt.Errorf("llmserve:%s: %q is not a boolean; want true or false", key, raw)
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
		// Line numbers point into one value (one line when Pulumi passes it as JSON), not
		// the user's file: drop them.
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
