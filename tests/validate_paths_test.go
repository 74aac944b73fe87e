package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidatePaths: combinations that used to pass validation and fail mid-deploy, after
// the cluster, pool and bucket were registered (issue 11). Each must fail up front with
// exactly this message and register nothing.
func TestValidatePaths(t *testing.T) {
	cases := []struct {
		name string
		cfg  stackConfig
		want string
	}{
		{
			"prometheus-adapter on the operator with no Prometheus to query",
			devConfig(t).with("llmserve:metrics", map[string]any{
				"backend": "prometheus-operator", "adapter": "prometheus-adapter",
			}),
			`llmserve:metrics.prometheusURL: required with backend prometheus-operator and adapter prometheus-adapter: the in-cluster address of the Prometheus the adapter queries, such as http://prometheus-operated.monitoring.svc:9090 (the Service the Prometheus Operator creates for a Prometheus in the namespace monitoring; README "Metrics pipelines"); or set installAdapter false where the adapter is installed already`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, err := run(t, "dev", c.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "\n"+c.want)
			assert.Empty(t, rec.types(), "validation must fail before any resource is registered")
		})
	}
	// A second model of the stack, whose adapter another stack installed, needs no URL.
	mustRun(t, "dev", devConfig(t).with("llmserve:metrics", map[string]any{
		"backend": "prometheus-operator", "adapter": "prometheus-adapter", "installAdapter": false,
	}))
}
