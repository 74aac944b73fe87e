package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/llmserve/llmserve/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// Values the mocks answer with, so tests can assert on them.
const (
	mockProjectNumber = "123456789012"
	mockEndpoint      = "203.0.113.10"
	testToken         = "hf_TESTTOKEN_do_not_leak_0123456789"
)

// recorder is a Pulumi mock that records every registered resource and invoke.
type recorder struct {
	mu    sync.Mutex
	res   []pulumi.MockResourceArgs
	calls []pulumi.MockCallArgs
}

func (r *recorder) NewResource(a pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res = append(r.res, a)
	out := a.Inputs.Copy()
	if a.TypeToken == "gcp:container/cluster:Cluster" {
		// What GKE returns: the kubeconfig is built from these.
		out["endpoint"] = resource.NewStringProperty(mockEndpoint)
		out["masterAuth"] = resource.NewObjectProperty(resource.PropertyMap{
			"clusterCaCertificate": resource.NewStringProperty("Q0EtREFUQQ=="),
		})
	}
	return a.Name + "-id", out, nil
}

func (r *recorder) Call(a pulumi.MockCallArgs) (resource.PropertyMap, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, a)
	if a.Token == "gcp:organizations/getProject:getProject" {
		return resource.PropertyMap{
			"number":    resource.NewStringProperty(mockProjectNumber),
			"projectId": a.Args["projectId"],
		}, nil
	}
	return resource.PropertyMap{}, nil
}

// byType returns the recorded resources of one type token.
func (r *recorder) byType(token string) []pulumi.MockResourceArgs {
	var out []pulumi.MockResourceArgs
	for _, a := range r.res {
		if a.TypeToken == token {
			out = append(out, a)
		}
	}
	return out
}

// one returns the only resource of a type, failing the test otherwise.
func (r *recorder) one(t *testing.T, token string) pulumi.MockResourceArgs {
	t.Helper()
	got := r.byType(token)
	if len(got) != 1 {
		var names []string
		for _, a := range got {
			names = append(names, a.Name)
		}
		t.Fatalf("want one resource of type %s, got %d: %v", token, len(got), names)
	}
	return got[0]
}

// named returns the resource of a type with a logical name.
func (r *recorder) named(t *testing.T, token, name string) pulumi.MockResourceArgs {
	t.Helper()
	for _, a := range r.byType(token) {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no %s named %s", token, name)
	return pulumi.MockResourceArgs{}
}

// stackConfig is a stack's config: keys like "llmserve:cluster", values as Pulumi passes
// them to the program (objects as JSON), and which keys are secret.
type stackConfig struct {
	values  map[string]string
	secrets []string
}

// loadStackFile reads a Pulumi.<env>.yaml from the repository root.
func loadStackFile(t testing.TB, file string) stackConfig {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", file))
	require.NoError(t, err)
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	c := stackConfig{values: map[string]string{}}
	for k, v := range doc.Config {
		c.set(k, v)
	}
	return c
}

// set stores a value: strings as they are, anything else as JSON, as Pulumi does.
func (c stackConfig) set(key string, v any) stackConfig {
	if s, ok := v.(string); ok {
		c.values[key] = s
		return c
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	c.values[key] = string(b)
	return c
}

func (c stackConfig) with(key string, v any) stackConfig {
	n := stackConfig{values: map[string]string{}, secrets: append([]string(nil), c.secrets...)}
	for k, val := range c.values {
		n.values[k] = val
	}
	return n.set(key, v)
}

func (c stackConfig) without(key string) stackConfig {
	n := c.with("_", "")
	delete(n.values, "_")
	delete(n.values, key)
	return n
}

func (c stackConfig) withSecret(key, v string) stackConfig {
	n := c.with(key, v)
	n.secrets = append(n.secrets, key)
	return n
}

// devConfig is Pulumi.dev.yaml plus the HF token a user sets with --secret.
func devConfig(t testing.TB) stackConfig {
	return loadStackFile(t, "Pulumi.dev.yaml").withSecret("llmserve:hfToken", testToken)
}

// run runs the real stacks.Program under mocks with a stack's config.
func run(t testing.TB, stack string, cfg stackConfig) (*recorder, error) {
	t.Helper()
	rec := &recorder{}
	err := pulumi.RunErr(stacks.Program, pulumi.WithMocks("llmserve", stack, rec), func(ri *pulumi.RunInfo) {
		ri.Config = cfg.values
		ri.ConfigSecretKeys = cfg.secrets
	})
	return rec, err
}

// mustRun runs the program and fails the test on error.
func mustRun(t testing.TB, stack string, cfg stackConfig) *recorder {
	t.Helper()
	rec, err := run(t, stack, cfg)
	require.NoError(t, err)
	return rec
}

// plain turns recorded inputs into plain Go values; secrets become "[secret]" unless reveal.
func plain(v resource.PropertyValue, reveal bool) any {
	switch {
	case v.IsSecret():
		if reveal {
			return plain(v.SecretValue().Element, reveal)
		}
		return "[secret]"
	case v.IsComputed() || v.IsOutput() && !v.OutputValue().Known:
		return "[unknown]"
	case v.IsOutput():
		if v.OutputValue().Secret && !reveal {
			return "[secret]"
		}
		return plain(v.OutputValue().Element, reveal)
	case v.IsObject():
		return plainMap(v.ObjectValue(), reveal)
	case v.IsArray():
		out := []any{}
		for _, e := range v.ArrayValue() {
			out = append(out, plain(e, reveal))
		}
		return out
	case v.IsNull():
		return nil
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	default:
		return v.V
	}
}

func plainMap(m resource.PropertyMap, reveal bool) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[string(k)] = plain(v, reveal)
	}
	return out
}

// in returns the recorded inputs as plain values (secrets masked).
func in(a pulumi.MockResourceArgs) map[string]any { return plainMap(a.Inputs, false) }

// dig walks a path of map keys and array indexes ("spec.template.spec.containers.0").
// Keys may themselves hold dots (app.kubernetes.io/name): the longest key that exists wins.
func dig(t *testing.T, v any, path string) any {
	t.Helper()
	parts := strings.Split(path, ".")
	cur := v
	for i := 0; i < len(parts); {
		switch c := cur.(type) {
		case map[string]any:
			found := false
			for j := len(parts); j > i; j-- {
				if next, ok := c[strings.Join(parts[i:j], ".")]; ok {
					cur, i, found = next, j, true
					break
				}
			}
			if !found {
				t.Fatalf("dig %s: no key %q", path, parts[i])
			}
		case []any:
			var n int
			if _, err := fmt.Sscan(parts[i], &n); err != nil || n >= len(c) {
				t.Fatalf("dig %s: bad index %q", path, parts[i])
			}
			cur, i = c[n], i+1
		default:
			t.Fatalf("dig %s: %q is not a map or list", path, parts[i])
		}
	}
	return cur
}

// parentType returns the type of a resource's parent, from its URN.
func parentType(a pulumi.MockResourceArgs) string {
	if a.RegisterRPC == nil || a.RegisterRPC.GetParent() == "" {
		return ""
	}
	return string(resource.URN(a.RegisterRPC.GetParent()).Type())
}

// types lists the distinct type tokens recorded, sorted.
func (r *recorder) types() []string {
	seen := map[string]bool{}
	for _, a := range r.res {
		seen[a.TypeToken] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
