package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// operatorOnExisting is the dev stack on a cluster llmserve did not create, where backend
// prometheus-operator is admitted, with these metrics settings.
func operatorOnExisting(t *testing.T, metrics map[string]any) stackConfig {
	return modeConfigs(t)["existing"].with("llmserve:metrics", metrics)
}

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
			"the Prometheus Operator's ServiceMonitor on a cluster this stack creates",
			devConfig(t).with("llmserve:metrics", map[string]any{
				"backend": "prometheus-operator", "adapter": "prometheus-adapter", "prometheusURL": seed002Prometheus,
			}),
			`llmserve:metrics.backend prometheus-operator: needs a cluster that already runs the Prometheus Operator, and the cluster this stack creates (cluster.mode standard) has none, so creating its ServiceMonitor would fail mid-deploy; ` +
				`on a cluster llmserve creates use managed-prometheus (the default), or install kube-prometheus-stack on a cluster (README "Metrics pipelines") and deploy to it from a stack with cluster.mode existing, llmserve:kubeconfig and metrics.prometheusURL`,
		},
		{
			"prometheus-adapter on the operator with no Prometheus to query",
			operatorOnExisting(t, map[string]any{
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
	mustRun(t, "dev", operatorOnExisting(t, map[string]any{
		"backend": "prometheus-operator", "adapter": "prometheus-adapter", "installAdapter": false,
	}))
}
