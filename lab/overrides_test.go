package lab

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeOverridesLaysExtraOverVariant(t *testing.T) {
	seed001, ok := LookupVariant("seed001")
	require.True(t, ok)
	extra, err := ParseOverrides("{autoscaling: {minReplicas: 2, maxReplicas: 6}}")
	require.NoError(t, err)

	got := MergeOverrides(seed001.Overrides, extra)

	as := got["autoscaling"].(map[string]any)
	assert.Equal(t, 2, as["minReplicas"])
	assert.Equal(t, 6, as["maxReplicas"])
	assert.Equal(t, seed001.Overrides["autoscaling"].(map[string]any)["metrics"], as["metrics"], "the variant's metrics stay")
	assert.Equal(t, seedMinReplicas, seed001.Overrides["autoscaling"].(map[string]any)["minReplicas"], "the variant itself is unchanged")
}

func TestMergeOverridesReplacesLists(t *testing.T) {
	extra, err := ParseOverrides(`{autoscaling: {metrics: [{metric: "vllm:num_requests_waiting", target: 3}]}}`)
	require.NoError(t, err)
	seed003, _ := LookupVariant("seed003")

	got := MergeOverrides(seed003.Overrides, extra)["autoscaling"].(map[string]any)["metrics"].([]any)

	require.Len(t, got, 1)
	assert.Equal(t, 3, got[0].(map[string]any)["target"])
}

func TestParseOverridesNamesTheFlag(t *testing.T) {
	_, err := ParseOverrides("[1, 2]")
	assert.ErrorContains(t, err, "-overrides")
}

func TestParseVariant(t *testing.T) {
	v, err := ParseVariant("buffer2={autoscaling: {minReplicas: 2, buffer: {replicas: 2}}}")
	require.NoError(t, err)
	require.Equal(t, "buffer2", v.Name)
	require.Equal(t, map[string]any{"autoscaling": map[string]any{"minReplicas": 2, "buffer": map[string]any{"replicas": 2}}}, v.Overrides)
	for _, bad := range []string{"nobody", "={autoscaling: {}}", "seed001={autoscaling: {minReplicas: 2}}", "a b={x: 1}", "empty=", "broken={autoscaling: [}"} {
		_, err := ParseVariant(bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "-variant", bad)
	}
}
