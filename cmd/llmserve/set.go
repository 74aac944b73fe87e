package main

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/llmserve/llmserve/stacks"
	"go.yaml.in/yaml/v3"
)

// setSegmentRe is one segment of a --set path: a key or field name (env var names included).
var setSegmentRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// applySet applies one --set path=value to config values. The first segment names the
// key (cluster, pool, overrides, model, ...; gcp.project and gcp.region for the provider),
// the rest a field inside it. The value is read as YAML: 3 is a number, true a boolean,
// [a, b] a list. A malformed --set is a usage error (exit 2); a well-formed one that names
// a value llmserve cannot hold is invalid configuration (exit 1).
func applySet(values map[string]string, assignment string) error {
	path, raw, ok := strings.Cut(assignment, "=")
	if !ok || path == "" {
		return usage(fmt.Errorf("--set %q: want key=value, such as cluster.mode=existing", assignment))
	}
	parts := strings.Split(path, ".")
	for _, p := range parts {
		if !setSegmentRe.MatchString(p) {
			return usage(fmt.Errorf("--set %q: %q is not a key path; want names joined by dots, such as overrides.autoscaling.maxReplicas", assignment, path))
		}
	}
	var value any
	if err := yaml.Unmarshal([]byte(raw), &value); err != nil {
		return usage(fmt.Errorf("--set %q: the value is not YAML: %v", assignment, strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if parts[0] == "gcp" {
		if len(parts) != 2 || (parts[1] != "project" && parts[1] != "region") {
			return usage(fmt.Errorf("--set %q: want gcp.project or gcp.region", assignment))
		}
		values["gcp:"+parts[1]] = raw
		return nil
	}
	key := stacks.Namespace + ":" + parts[0]
	if bad := nonFinite(value, key+strings.TrimPrefix(path, parts[0])); bad != "" {
		return invalid(fmt.Errorf("--set %q: %s: want a finite number", assignment, bad))
	}
	if len(parts) == 1 {
		values[key] = raw
		return nil
	}
	doc := map[string]any{}
	if cur := values[key]; strings.TrimSpace(cur) != "" {
		if err := yaml.Unmarshal([]byte(cur), &doc); err != nil {
			return invalid(fmt.Errorf("--set %q: %s is not an object, so it has no field %s", assignment, key, parts[1]))
		}
	}
	node := doc
	for _, p := range parts[1 : len(parts)-1] {
		next, ok := node[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			node[p] = next
		}
		node = next
	}
	node[parts[len(parts)-1]] = value
	b, err := json.Marshal(doc)
	if err != nil {
		return invalid(fmt.Errorf("--set %q: %s: %v (object keys must be names)", assignment, key, err))
	}
	values[key] = string(b)
	return nil
}

// nonFinite names the first NaN or infinity in a --set value, or returns "".
func nonFinite(v any, key string) string {
	switch t := v.(type) {
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Sprintf("%s %v", key, t)
		}
	case map[string]any:
		for k, x := range t {
			if s := nonFinite(x, key+"."+k); s != "" {
				return s
			}
		}
	case map[any]any:
		for k, x := range t {
			if s := nonFinite(x, fmt.Sprintf("%s.%v", key, k)); s != "" {
				return s
			}
		}
	case []any:
		for i, x := range t {
			if s := nonFinite(x, fmt.Sprintf("%s[%d]", key, i)); s != "" {
				return s
			}
		}
	}
	return ""
}
