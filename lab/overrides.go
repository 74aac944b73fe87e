package lab

import (
	"fmt"
	"maps"
	"math"
	"strings"

	"github.com/llmserve/llmserve/components"
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

// ScaledOverrides returns the stack overrides with the HPA's behavior (the one the profile
// resolves to, whatever set it) divided by speed: windows and periods in whole seconds, at
// least 1. At speed 1 the overrides are returned as they are.
func ScaledOverrides(overrides map[string]any, b components.BehaviorSpec, speed float64) (map[string]any, error) {
	if speed == 1 {
		return overrides, nil
	}
	sec := func(v int) int { return max(1, int(math.Round(float64(v)/speed))) }
	rules := func(r components.ScalingRules) map[string]any {
		var ps []any
		for _, p := range r.Policies {
			ps = append(ps, map[string]any{"type": p.Type, "value": p.Value, "periodSeconds": sec(p.PeriodSeconds)})
		}
		out := map[string]any{"selectPolicy": r.SelectPolicy, "policies": ps}
		if r.StabilizationWindowSeconds != nil {
			w := *r.StabilizationWindowSeconds
			if w > 0 {
				w = sec(w)
			}
			out["stabilizationWindowSeconds"] = w
		}
		return out
	}
	out := map[string]any{}
	for k, v := range overrides {
		out[k] = v
	}
	as := map[string]any{}
	if a, ok := out["autoscaling"].(map[string]any); ok {
		for k, v := range a {
			as[k] = v
		}
	}
	as["behavior"] = map[string]any{"scaleUp": rules(b.ScaleUp), "scaleDown": rules(b.ScaleDown)}
	out["autoscaling"] = as
	return out, nil
}

// ParseVariant reads one -variant flag, `name={yaml}`: a policy of the user's own, the
// profile's defaults with the YAML (in the shape of -overrides) laid over them, run beside
// the named policies by -compare. The name must not shadow a built-in policy, so a table
// row always means one thing.
func ParseVariant(s string) (Variant, error) {
	name, body, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, ", /") {
		return Variant{}, fmt.Errorf("-variant %q: want name={yaml}, a name without commas, spaces or slashes, e.g. 'buffer2={autoscaling: {buffer: {replicas: 2}}}'", s)
	}
	if _, builtin := LookupVariant(name); builtin {
		return Variant{}, fmt.Errorf("-variant %q: %s is a built-in policy; choose another name", s, name)
	}
	m, err := ParseOverrides(body)
	if err != nil {
		return Variant{}, fmt.Errorf("-variant %s: %w", name, err)
	}
	if len(m) == 0 {
		return Variant{}, fmt.Errorf("-variant %s: no overrides after '='; a policy without any is llmserve", name)
	}
	return Variant{Name: name, Overrides: m}, nil
}
