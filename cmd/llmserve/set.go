package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/llmserve/llmserve/stacks"
	"go.yaml.in/yaml/v3"
)

// applySet applies one --set path=value to config values. The first segment names the
// key (cluster, pool, overrides, model, ...; gcp.project and gcp.region for the provider),
// the rest a field inside it. The value is read as YAML: 3 is a number, true a boolean,
// [a, b] a list.
func applySet(values map[string]string, assignment string) error {
	path, raw, ok := strings.Cut(assignment, "=")
	if !ok || path == "" {
		return fmt.Errorf("--set %q: want key=value, such as cluster.mode=existing", assignment)
	}
	var value any
	if err := yaml.Unmarshal([]byte(raw), &value); err != nil {
		return fmt.Errorf("--set %q: value: %v", assignment, err)
	}
	parts := strings.Split(path, ".")
	if parts[0] == "gcp" {
		if len(parts) != 2 {
			return fmt.Errorf("--set %q: want gcp.project or gcp.region", assignment)
		}
		values["gcp:"+parts[1]] = raw
		return nil
	}
	key := stacks.Namespace + ":" + parts[0]
	if len(parts) == 1 {
		values[key] = raw
		return nil
	}
	doc := map[string]any{}
	if cur := values[key]; cur != "" {
		if err := yaml.Unmarshal([]byte(cur), &doc); err != nil {
			return fmt.Errorf("--set %q: %s is not an object: %v", assignment, key, err)
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
		return fmt.Errorf("--set %q: %w", assignment, err)
	}
	values[key] = string(b)
	return nil
}
