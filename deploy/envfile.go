package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/llmserve/llmserve/stacks"
	"go.yaml.in/yaml/v3"
)

// ReadStackFile reads the config block of a Pulumi.<env>.yaml into config values, as Pulumi
// hands them to the program (objects as JSON). Encrypted values ({secure: ...}) can only be
// read by the Pulumi CLI that holds the stack's secrets provider: they are left out and
// their keys returned, so the caller can supply them (llmserve reads $HF_TOKEN).
func ReadStackFile(path string) (values map[string]string, encrypted []string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	values = map[string]string{}
	for k, v := range doc.Config {
		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			encrypted = append(encrypted, k)
			continue
		}
		s, err := configString(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", path, k, err)
		}
		values[k] = s
	}
	slices.Sort(encrypted)
	return values, encrypted, nil
}

// configString renders a config value as Pulumi passes it: strings as they are, anything
// else as JSON (which Load reads as YAML).
func configString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	j, err := json.Marshal(v)
	return string(j), err
}

// SettingsFromConfig turns config values (keys like llmserve:cluster, gcp:project) into
// typed Settings and the model they name, decoding each value as Load does. Unknown keys
// and fields are errors, as in Load.
func SettingsFromConfig(values map[string]string) (Settings, string, error) {
	var s Settings
	var errs []error
	objects := map[string]any{
		"cluster": &s.Cluster, "pool": &s.Pool, "modelStore": &s.ModelStore,
		"serving": &s.Serving, "metrics": &s.Metrics, "overrides": &s.Overrides,
	}
	model := ""
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys) // errors in a stable order
	for _, key := range keys {
		v := values[key]
		ns, name, _ := strings.Cut(key, ":")
		switch {
		case key == "gcp:project":
			s.Project = v
		case key == "gcp:region":
			s.Region = v
		case ns == "gcp" || ns == "pulumi" || ns == "kubernetes":
			// provider settings llmserve does not read
		case ns != stacks.Namespace:
			errs = append(errs, fmt.Errorf("%s: not an llmserve key", key))
		case objects[name] != nil:
			if err := stacks.DecodeObject(name, v, objects[name]); err != nil {
				errs = append(errs, err)
			}
		case name == "model":
			model = v
		case name == "projectNumber":
			s.ProjectNumber = v
		case name == "hfToken":
			s.HFToken = v
		case name == "kubeconfig":
			s.Cluster.Kubeconfig = v
		case name == "renderDir":
			s.RenderDir = v
		case name == "skipAwait":
			b, err := stacks.ParseBool(name, v, false)
			errs = append(errs, err)
			s.SkipAwait = b
		case name == "gcpResources":
			b, err := stacks.ParseBool(name, v, true)
			errs = append(errs, err)
			s.GCPResources = &b
		default:
			errs = append(errs, fmt.Errorf("%s: unknown key; llmserve reads %s", key, strings.Join(stacks.ConfigKeys, ", ")))
		}
	}
	if model == "" {
		model = stacks.DefaultModel
	}
	return s, model, errors.Join(errs...)
}
