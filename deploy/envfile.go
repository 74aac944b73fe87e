package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/llmserve/llmserve/stacks"
	"go.yaml.in/yaml/v3"
)

// EnvFile is the config block of a Pulumi.<env>.yaml, read as Pulumi hands it to the program.
type EnvFile struct {
	Path string
	// Values are the plain values: strings as they are, objects as JSON (which Load reads as
	// YAML), as Pulumi passes them.
	Values map[string]string
	// Encrypted are the keys whose values are {secure: ...}: only the Pulumi CLI holding the
	// stack's secrets provider can read them.
	Encrypted []string
	// Lines maps every key path in the file (llmserve:pool, llmserve:pool.maxNodes,
	// llmserve:cluster.zones[1]) to its line, so messages can point into the file.
	Lines map[string]int
}

// ReadStackFile reads the config block of a Pulumi.<env>.yaml into config values, as Pulumi
// hands them to the program (objects as JSON). Encrypted values ({secure: ...}) can only be
// read by the Pulumi CLI that holds the stack's secrets provider: they are left out and
// their keys returned, so the caller can supply them (llmserve reads $HF_TOKEN).
func ReadStackFile(path string) (values map[string]string, encrypted []string, err error) {
	f, err := ReadEnvFile(path)
	if err != nil {
		return nil, nil, err
	}
	return f.Values, f.Encrypted, nil
}

// ReadEnvFile reads and parses a Pulumi.<env>.yaml.
func ReadEnvFile(path string) (*EnvFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseEnvFile(path, raw)
}

// ParseEnvFile parses the contents of a Pulumi.<env>.yaml named path. Every problem names
// the file, the line and the key. A plain-text llmserve:hfToken is refused: env files are
// committed, and the token would be with them.
func ParseEnvFile(path string, raw []byte) (*EnvFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: not YAML: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	f := &EnvFile{Path: path, Values: map[string]string{}, Lines: map[string]int{}}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil // an empty file: no config
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping with a config: block", path, root.Line)
	}
	var cfg *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "config" {
			cfg = root.Content[i+1]
		}
	}
	if cfg == nil || (cfg.Kind == yaml.ScalarNode && cfg.Tag == "!!null") {
		return f, nil
	}
	if cfg.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: config: want a mapping of keys such as llmserve:model", path, cfg.Line)
	}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	}
	for i := 0; i+1 < len(cfg.Content); i += 2 {
		k, v := cfg.Content[i], cfg.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode || key == "" {
			fail(k.Line, "config keys must be names such as llmserve:model")
			continue
		}
		if _, dup := f.Lines[key]; dup {
			fail(k.Line, "%s is set twice (also line %d); keep one", key, f.Lines[key])
			continue
		}
		f.Lines[key] = k.Line
		indexLines(v, key, f.Lines)
		if dup, line := duplicateKey(v, key); dup != "" {
			fail(line, "%s", dup)
			continue
		}
		if v.Kind == yaml.MappingNode && len(v.Content) == 2 && v.Content[0].Value == "secure" {
			f.Encrypted = append(f.Encrypted, key)
			continue
		}
		if key == stacks.Namespace+":hfToken" {
			fail(k.Line, "%s: a plain-text token in an env file is committed with it; delete the line, revoke the token, and set it encrypted with `pulumi config set --secret %s <token>` (the llmserve command reads $HF_TOKEN)", key, key)
			continue
		}
		var x any
		if err := v.Decode(&x); err != nil {
			fail(v.Line, "%s: %v", key, strings.TrimPrefix(err.Error(), "yaml: "))
			continue
		}
		if bad, line := nonFinite(x, v, key); bad != "" {
			fail(line, "%s: want a finite number", bad)
			continue
		}
		s, err := configString(x)
		if err != nil {
			fail(v.Line, "%s: %v (object keys must be names)", key, err)
			continue
		}
		f.Values[key] = s
	}
	slices.Sort(f.Encrypted)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// duplicateKey finds a key set twice in one mapping under n (yaml.v3 refuses it only when
// decoding, with a message that names no config key).
func duplicateKey(n *yaml.Node, key string) (string, int) {
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			sub := key + "." + k.Value
			if first, ok := seen[k.Value]; ok {
				return fmt.Sprintf("%s is set twice (also line %d); keep one", sub, first), k.Line
			}
			seen[k.Value] = k.Line
			if d, line := duplicateKey(n.Content[i+1], sub); d != "" {
				return d, line
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if d, line := duplicateKey(item, fmt.Sprintf("%s[%d]", key, i)); d != "" {
				return d, line
			}
		}
	}
	return "", 0
}

// indexLines records the line of every key path under n.
func indexLines(n *yaml.Node, key string, lines map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			sub := key + "." + n.Content[i].Value
			if _, ok := lines[sub]; !ok {
				lines[sub] = n.Content[i].Line
			}
			indexLines(n.Content[i+1], sub, lines)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			sub := fmt.Sprintf("%s[%d]", key, i)
			lines[sub] = item.Line
			indexLines(item, sub, lines)
		}
	}
}

// nonFinite finds a NaN or infinity (which JSON cannot carry) and its line.
func nonFinite(x any, n *yaml.Node, key string) (string, int) {
	switch t := x.(type) {
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Sprintf("%s %v", key, t), n.Line
		}
	case map[string]any:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if bad, line := nonFinite(t[n.Content[i].Value], n.Content[i+1], key+"."+n.Content[i].Value); bad != "" {
					return bad, line
				}
			}
		}
	case []any:
		if n.Kind == yaml.SequenceNode {
			for i, item := range t {
				if i < len(n.Content) {
					if bad, line := nonFinite(item, n.Content[i], fmt.Sprintf("%s[%d]", key, i)); bad != "" {
						return bad, line
					}
				}
			}
		}
	}
	return "", 0
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

// Annotate prefixes each line of a message that names a key set in the file with
// "<file>:<line>: ", so the user can jump to it. Keys named by skip (set on the command line
// instead) are left alone. Profile fields (autoscaling.maxReplicas) are found under
// llmserve:overrides.
func (f *EnvFile) Annotate(msg string, skip []string) string {
	if f == nil || len(f.Lines) == 0 {
		return msg
	}
	keys := make([]string, 0, len(f.Lines))
	for k := range f.Lines {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) }) // longest first
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		full := l
		if !strings.Contains(strings.SplitN(l, " ", 2)[0], ":") {
			full = stacks.Namespace + ":overrides." + l
		}
		if skipped(full, skip) {
			continue
		}
		for _, k := range keys {
			// The key itself or a section of it, but never the whole overrides block for a
			// profile field it does not set: that value came from the profile.
			if k == overridesKey && !strings.HasPrefix(full, k+" ") && !strings.HasPrefix(full, k+":") {
				continue
			}
			if strings.HasPrefix(full, k) && (len(full) == len(k) || strings.ContainsRune(" :.[", rune(full[len(k)]))) {
				lines[i] = fmt.Sprintf("%s:%d: %s", f.Path, f.Lines[k], l)
				break
			}
		}
	}
	return strings.Join(lines, "\n")
}

const overridesKey = stacks.Namespace + ":overrides"

func skipped(msg string, skip []string) bool {
	for _, s := range skip {
		if strings.HasPrefix(msg, s) && (len(msg) == len(s) || strings.ContainsRune(" :.[", rune(msg[len(s)]))) {
			return true
		}
	}
	return false
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
		ns, name, namespaced := strings.Cut(key, ":")
		switch {
		case !namespaced:
			errs = append(errs, fmt.Errorf("%s: config keys are namespaced; write %s:%s", key, stacks.Namespace, key))
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
			hint := ""
			for _, k := range stacks.ConfigKeys {
				if strings.EqualFold(k, name) {
					hint = fmt.Sprintf("did you mean %s:%s? ", stacks.Namespace, k)
				}
			}
			errs = append(errs, fmt.Errorf("%s: unknown key; %sllmserve reads %s", key, hint, strings.Join(stacks.ConfigKeys, ", ")))
		}
	}
	if model == "" {
		model = stacks.DefaultModel
	}
	return s, model, errors.Join(errs...)
}
