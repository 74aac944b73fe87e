package tests

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/llmserve/llmserve/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden snapshots in testdata/")

// snapshotEntry is one resource in a golden snapshot.
type snapshotEntry struct {
	Type   string         `json:"type"`
	Name   string         `json:"name"`
	Parent string         `json:"parent"`
	Inputs map[string]any `json:"inputs"`
}

// snapshot renders every recorded resource, sorted, with secrets masked.
func snapshot(t *testing.T, rec *recorder) []byte {
	var out []snapshotEntry
	for _, a := range rec.res {
		parent := ""
		if a.RegisterRPC != nil && a.RegisterRPC.GetParent() != "" {
			parent = parentType(a) + "::" + resource.URN(a.RegisterRPC.GetParent()).Name()
		}
		out = append(out, snapshotEntry{Type: a.TypeToken, Name: a.Name, Parent: parent, Inputs: in(a)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	b, err := json.MarshalIndent(out, "", "  ")
	require.NoError(t, err)
	return append(b, '\n')
}

// goldenStacks are the stacks with a snapshot: the dev stack and one per model profile.
func goldenStacks(t *testing.T) map[string]stackConfig {
	s := map[string]stackConfig{
		"dev":                       devConfig(t),
		"dev-seed000-prom-adapter":  seed000Config(t),
		"dev-seed002-prom-operator": seed002Config(t),
		"dev-buffer":                bufferConfig(t),
		"dev-routing-gateway":       gatewayConfig(t),
	}
	for _, p := range stacks.ProfileNames() {
		s["dev-"+p] = devConfig(t).with("llmserve:model", p).without("llmserve:overrides")
	}
	return s
}

func TestGoldenSnapshots(t *testing.T) {
	for name, cfg := range goldenStacks(t) {
		t.Run(name, func(t *testing.T) {
			got := snapshot(t, mustRun(t, "dev", cfg))
			file := filepath.Join("testdata", name+".golden.json")
			if *update {
				require.NoError(t, os.WriteFile(file, got, 0o644))
				return
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err, "no snapshot yet: run `make golden` and review the new file")
			require.Equal(t, string(want), string(got), "snapshot %s changed: run `make golden` and review the diff", file)
		})
	}
}
