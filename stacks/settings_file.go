package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
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
	sort.Strings(encrypted)
	return values, encrypted, nil
}

// configString renders a config value as Pulumi passes it: strings as they are, anything
// else as JSON (which Load reads as YAML).
func configString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", err
	}
	j, err := json.Marshal(doc)
	return string(j), err
}

// SettingsFromConfig turns config values (keys like llmserve:cluster, gcp:project) into
// typed Settings and the model they name. Unknown keys and fields are errors, as in Load.
func SettingsFromConfig(values map[string]string) (Settings, string, error) {
	var s Settings
	var errs []error
	objects := map[string]any{
		"cluster": &s.Cluster, "pool": &s.Pool, "modelStore": &s.ModelStore,
		"serving": &s.Serving, "metrics": &s.Metrics, "overrides": &s.Overrides,
	}
	model := ""
	for key, v := range values {
		ns, name, _ := strings.Cut(key, ":")
		switch {
		case key == "gcp:project":
			s.Project = v
		case key == "gcp:region":
			s.Region = v
		case ns == "gcp" || ns == "pulumi" || ns == "kubernetes":
			// provider settings llmserve does not read
		case ns != Namespace:
			errs = append(errs, fmt.Errorf("%s: not an llmserve key", key))
		case objects[name] != nil:
			var doc any
			if err := yaml.Unmarshal([]byte(v), &doc); err != nil {
				errs = append(errs, fmt.Errorf("%s: %v", key, err))
				continue
			}
			if err := decodeStrict(doc, objects[name]); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s", key, cleanYAMLError(err)))
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
			s.SkipAwait = v == "true"
		case name == "gcpResources":
			b := v == "true"
			s.GCPResources = &b
		default:
			errs = append(errs, fmt.Errorf("%s: unknown key; llmserve reads %s", key, strings.Join(configKeys, ", ")))
		}
	}
	if model == "" {
		model = DefaultModel
	}
	return s, model, errors.Join(errs...)
}

// Check validates settings for a target exactly as the program would, with no engine and
// no cloud call, and returns the loaded Config.
func Check(t Target, s Settings) (*Config, error) {
	cm, err := s.StackConfig(t)
	if err != nil {
		return nil, err
	}
	return loadConfigMap(t.StackName(), cm)
}

// loadConfigMap runs Load on config values exactly as the program would receive them,
// under mocks that register nothing.
func loadConfigMap(stack string, cm auto.ConfigMap) (*Config, error) {
	values := map[string]string{}
	var secrets []string
	for k, v := range cm {
		values[k] = v.Value
		if v.Secret {
			secrets = append(secrets, k)
		}
	}
	sort.Strings(secrets)
	var cfg *Config
	var loadErr error
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		cfg, loadErr = Load(ctx)
		return nil
	}, pulumi.WithMocks(ProjectName, stack, noMocks{}), func(ri *pulumi.RunInfo) {
		ri.Config, ri.ConfigSecretKeys = values, secrets
	})
	if loadErr != nil {
		return nil, loadErr
	}
	return cfg, err
}
