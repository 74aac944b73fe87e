package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/llmserve/llmserve/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"go.yaml.in/yaml/v3"
)

// Settings is the whole configuration of one stack, as typed values: Open makes the stack's
// config exactly this (keys it does not set are removed). The sections use the types Load
// decodes them into, so a key name here can never drift from the one Load reads; unset
// (zero) fields are left out and take Load's defaults.
type Settings struct {
	Project       string // gcp:project
	Region        string // gcp:region
	ProjectNumber string // llmserve:projectNumber (saves the project lookup)
	// GCPResources false creates no GCP resource at all (llmserve:gcpResources); nil is
	// Load's default, true.
	GCPResources *bool

	// Cluster is llmserve:cluster. Cluster.Kubeconfig (a path or the file's contents)
	// becomes llmserve:kubeconfig, set as a secret.
	Cluster    stacks.ClusterConfig
	Pool       stacks.PoolConfig       // llmserve:pool
	ModelStore stacks.ModelStoreConfig // llmserve:modelStore
	Serving    stacks.ServingConfig    // llmserve:serving
	Metrics    stacks.MetricsConfig    // llmserve:metrics
	// Overrides is llmserve:overrides: any profile field (stacks/models/*.yaml), merged over
	// the target model's profile. It is a document, not a Profile, because only the fields
	// it names are merged: {"autoscaling": {"minReplicas": 1, "maxReplicas": 2}}.
	Overrides map[string]any

	HFToken   string // llmserve:hfToken, set as a secret
	SkipAwait bool   // llmserve:skipAwait: for clusters with no kubelet
	RenderDir string // llmserve:renderDir: write manifests there instead of applying them
}

// StackConfig is the stack config Open sets for the settings and target: strings as they
// are, objects as JSON (which Load reads as YAML), the token and the kubeconfig as secrets.
func (s Settings) StackConfig(t Target) (auto.ConfigMap, error) {
	m := auto.ConfigMap{}
	str := func(key, v string, secret bool) {
		if v != "" {
			m[key] = auto.ConfigValue{Value: v, Secret: secret}
		}
	}
	str("gcp:project", s.Project, false)
	str("gcp:region", s.Region, false)
	key := func(k string) string { return stacks.Namespace + ":" + k }
	str(key("model"), t.Model, false)
	str(key("projectNumber"), s.ProjectNumber, false)
	str(key("hfToken"), s.HFToken, true)
	str(key("kubeconfig"), s.Cluster.Kubeconfig, true)
	str(key("renderDir"), s.RenderDir, false)
	if s.GCPResources != nil {
		str(key("gcpResources"), strconv.FormatBool(*s.GCPResources), false)
	}
	if s.SkipAwait {
		str(key("skipAwait"), "true", false)
	}
	sections := []struct {
		key string
		v   any
	}{
		{"cluster", s.Cluster}, {"pool", s.Pool}, {"modelStore", s.ModelStore},
		{"serving", s.Serving}, {"metrics", s.Metrics},
	}
	for _, sec := range sections {
		doc, err := sectionDoc(sec.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key(sec.key), err)
		}
		if len(doc) == 0 {
			continue
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key(sec.key), err)
		}
		m[key(sec.key)] = auto.ConfigValue{Value: string(b)}
	}
	if len(s.Overrides) > 0 {
		// A document to merge, kept whole: an explicit 0 or false in it means something.
		b, err := json.Marshal(s.Overrides)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key("overrides"), err)
		}
		m[key("overrides")] = auto.ConfigValue{Value: string(b)}
	}
	return m, nil
}

// sectionDoc is a config section as the document Load decodes, named by its yaml tags. The
// tags' omitempty leaves unset fields out (for Load, absent and zero both take the default);
// a non-nil pointer to a zero is kept (deletionProtection: false).
func sectionDoc(v any) (map[string]any, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	doc := map[string]any{}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// Check validates settings for a target exactly as the program would, with no engine and
// no cloud call, and returns the loaded Config.
func Check(t Target, s Settings) (*stacks.Config, error) {
	if err := t.validate(); err != nil {
		return nil, err // the stack name <env>-<model> is checked here, not only by Open
	}
	cm, err := s.StackConfig(t)
	if err != nil {
		return nil, err
	}
	return loadConfigMap(t.StackName(), cm)
}

// loadConfigMap runs stacks.Load on config values exactly as the program would receive them.
func loadConfigMap(stack string, cm auto.ConfigMap) (*stacks.Config, error) {
	values := map[string]string{}
	var secrets []string
	for k, v := range cm {
		values[k] = v.Value
		if v.Secret {
			secrets = append(secrets, k)
		}
	}
	slices.Sort(secrets)
	return stacks.LoadValues(stack, values, secrets)
}
