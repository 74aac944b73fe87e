package lab

import (
	"fmt"
	"maps"

	"go.yaml.in/yaml/v3"
)

// ParseOverrides reads the lab's -overrides flag: a YAML mapping in the shape of
// llmserve:overrides (the profile's keys, e.g. `{autoscaling: {minReplicas: 2}}`).
func ParseOverrides(s string) (map[string]any, error) {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("-overrides: want a YAML mapping of profile keys such as '{autoscaling: {minReplicas: 2}}': %w", err)
	}
	return m, nil
}

// MergeOverrides returns base with extra laid over it: mappings merge key by key, any other
// value (a list such as autoscaling.metrics, a number) replaces the base's. Neither input is
// changed.
func MergeOverrides(base, extra map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range extra {
		em, eok := v.(map[string]any)
		bm, bok := out[k].(map[string]any)
		if eok && bok {
			out[k] = MergeOverrides(bm, em)
			continue
		}
		out[k] = v
	}
	return out
}
