package tests

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Long-lived stacks (issue 21, point 5c): a resource's URN is its parent types, its type and
// its name. Renaming a type token, a child's name or re-parenting a resource changes its URN,
// and without pulumi.Aliases the next `up` deletes the deployed resource and creates a new
// one: a new GKE cluster, an emptied bucket, every Kubernetes object recreated
// (https://www.pulumi.com/docs/iac/concepts/resources/options/aliases/). testdata/urns.golden
// pins every URN the program registers in every cluster mode, every model profile and both
// Prometheus paths, so a rename shows up here, where the fix is named, and not only in a
// golden snapshot that `make golden` refreshes.

const urnsGolden = "urns.golden"

// urnOf is a resource's URN without the project and stack: the parent's qualified type, $,
// the type, ::, the name.
func urnOf(a pulumi.MockResourceArgs) string {
	parent := ""
	if a.RegisterRPC != nil {
		parent = a.RegisterRPC.GetParent()
	}
	return shortURN(parent, a.TypeToken, a.Name)
}

func shortURN(parent, typ, name string) string {
	qt := typ
	if parent != "" {
		if p := resource.URN(parent); string(p.QualifiedType()) != "pulumi:pulumi:Stack" {
			qt = string(p.QualifiedType()) + "$" + qt
		}
	}
	return qt + "::" + name
}

// aliasURNs are the URNs llmserve declares as a resource's former ones (pulumi.Aliases): a
// spec fills in what it does not change from the resource itself.
func aliasURNs(a pulumi.MockResourceArgs) []string {
	if a.RegisterRPC == nil {
		return nil
	}
	var out []string
	for _, al := range a.RegisterRPC.GetAliases() {
		if u := al.GetUrn(); u != "" {
			out = append(out, string(resource.URN(u).QualifiedType())+"::"+resource.URN(u).Name())
			continue
		}
		s := al.GetSpec()
		if !strings.HasPrefix(a.TypeToken, "llmserve:") && s.GetName() == "" && s.GetParentUrn() == "" && !s.GetNoParent() {
			// pulumi-kubernetes' own aliases between API versions of a kind
			// (HorizontalPodAutoscaler v1, v2beta1, ...): not llmserve's renames.
			continue
		}
		typ, name, parent := a.TypeToken, a.Name, a.RegisterRPC.GetParent()
		if s.GetType() != "" {
			typ = s.GetType()
		}
		if s.GetName() != "" {
			name = s.GetName()
		}
		if s.GetParentUrn() != "" {
			parent = s.GetParentUrn()
		} else if s.GetNoParent() {
			parent = ""
		}
		out = append(out, shortURN(parent, typ, name))
	}
	return out
}

// programURNs are the URNs of every stack the mock tests run (each cluster mode and each
// golden stack: every profile, both Prometheus paths) and the former URNs their aliases
// keep: an alias dropped later is a URN gone, too.
func programURNs(t *testing.T) []string {
	stacksToRun := map[string]stackConfig{}
	for name, cfg := range modeConfigs(t) {
		stacksToRun["mode-"+name] = cfg
	}
	for name, cfg := range goldenStacks(t) {
		stacksToRun[name] = cfg
	}
	seen := map[string]bool{}
	for _, cfg := range stacksToRun {
		for _, a := range mustRun(t, "dev", cfg).res {
			seen[urnOf(a)] = true
			for _, u := range aliasURNs(a) {
				seen[u] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

func TestGoldenURNs(t *testing.T) {
	got := programURNs(t)
	file := filepath.Join("testdata", urnsGolden)
	if *update {
		require.NoError(t, os.WriteFile(file, []byte(strings.Join(got, "\n")+"\n"), 0o644))
		return
	}
	raw, err := os.ReadFile(file)
	require.NoError(t, err, "no %s yet: run `make golden` and review it", file)
	want := strings.Split(strings.TrimSpace(string(raw)), "\n")
	gotSet := map[string]bool{}
	for _, u := range got {
		gotSet[u] = true
	}
	for _, u := range want {
		assert.True(t, gotSet[u], "URN %s is gone and no resource has it as an alias: a deployed stack would delete it "+
			"and create its successor. If it was renamed or re-parented, give the new resource pulumi.Aliases for the "+
			"old type, name or parent (as ServingNamespace does for ServingAccount), then run `make golden`", u)
	}
	if t.Failed() {
		return
	}
	assert.Equal(t, want, got, "new URNs: review them, then run `make golden`")
}

// TestRenamedTokensKeepAliases: the one type token renamed so far, ServingAccount, is still
// an alias of ServingNamespace, so stacks deployed before the rename keep their namespace.
func TestRenamedTokensKeepAliases(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	ns := rec.byType("llmserve:serving:ServingNamespace")
	require.NotEmpty(t, ns)
	for _, a := range ns {
		var types []string
		for _, al := range a.RegisterRPC.GetAliases() {
			if s := al.GetSpec(); s != nil {
				types = append(types, s.GetType())
			}
		}
		assert.Contains(t, types, "llmserve:serving:ServingAccount", "%s lost its alias", a.Name)
	}
}
