package tests

import (
	"testing"

	"github.com/llmserve/llmserve/components"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runComponent runs f in a mocked Pulumi program and returns its error.
func runComponent(t *testing.T, f func(ctx *pulumi.Context) error) (*recorder, error) {
	t.Helper()
	rec := &recorder{}
	return rec, pulumi.RunErr(f, pulumi.WithMocks("llmserve", "test", rec))
}

// TestComponentsRejectBadArgsWithoutPanic: a component called wrongly returns an error
// that names it, and registers nothing.
func TestComponentsRejectBadArgsWithoutPanic(t *testing.T) {
	cases := map[string]struct {
		build func(ctx *pulumi.Context) error
		want  string
		typ   string // the failing component's type: it must not be registered
	}{
		"cluster nil": {func(ctx *pulumi.Context) error { _, err := components.NewCluster(ctx, "c", nil); return err },
			`cluster "c": args are required`, components.TypeCluster},
		"cluster mode": {func(ctx *pulumi.Context) error {
			_, err := components.NewCluster(ctx, "c", &components.ClusterArgs{Mode: "eks"})
			return err
		}, `cluster "c": mode "eks": want standard, autopilot or existing`, components.TypeCluster},
		"pool topology": {func(ctx *pulumi.Context) error {
			_, err := components.NewTPUNodePool(ctx, "p", &components.TPUNodePoolArgs{Topology: "4x4", PoolArgs: components.PoolArgs{MaxNodes: 1}})
			return err
		}, `tpu node pool "p": topology "4x4": want one of 1x1, 2x2, 2x4`, components.TypeTPUNodePool},
		"store nil": {func(ctx *pulumi.Context) error { _, err := components.NewModelStore(ctx, "s", nil); return err },
			`model store "s": args are required`, components.TypeModelStore},
		"adapter iam": {func(ctx *pulumi.Context) error {
			_, err := components.NewAdapterIAM(ctx, "a", &components.AdapterIAMArgs{})
			return err
		}, `adapter iam "a": Project and ProjectNumber are required`, components.TypeAdapterIAM},
		"server without provider": {func(ctx *pulumi.Context) error {
			_, err := components.NewModelServer(ctx, "m", &components.ModelServerArgs{})
			return err
		}, `model server "m": Kube.Provider is required (every Kubernetes object gets an explicit provider)`, components.TypeModelServer},
		"podmonitoring bad interval": {func(ctx *pulumi.Context) error {
			p, err := components.NewCluster(ctx, "c", &components.ClusterArgs{Mode: "existing"})
			if err != nil {
				return err
			}
			_, err = components.NewPodMonitoring(ctx, "pm", &components.PodMonitoringArgs{
				Kube: components.Kube{Provider: p.Provider}, Namespace: pulumi.String("n"), Name: "x",
				Selector: map[string]string{"a": "b"}, Port: "http", Interval: "abc",
			})
			return err
		}, `pod monitoring "pm": interval: not a valid duration string: "abc"`, components.TypePodMonitoring},
		"podmonitoring timeout": {func(ctx *pulumi.Context) error {
			p, err := components.NewCluster(ctx, "c", &components.ClusterArgs{Mode: "existing"})
			if err != nil {
				return err
			}
			_, err = components.NewPodMonitoring(ctx, "pm", &components.PodMonitoringArgs{
				Kube: components.Kube{Provider: p.Provider}, Namespace: pulumi.String("n"), Name: "x",
				Selector: map[string]string{"a": "b"}, Port: "8000", Interval: "5s", Timeout: "10s",
			})
			return err
		}, `pod monitoring "pm": timeout 10s exceeds interval 5s`, components.TypePodMonitoring},
		"autoscaler metric": {func(ctx *pulumi.Context) error {
			p, err := components.NewCluster(ctx, "c", &components.ClusterArgs{Mode: "existing"})
			if err != nil {
				return err
			}
			_, err = components.NewAutoscaler(ctx, "hpa", &components.AutoscalerArgs{
				Kube: components.Kube{Provider: p.Provider}, Namespace: pulumi.String("n"), Name: "x",
				DeploymentName: pulumi.String("d"), Engine: "vllm", MinReplicas: 1, MaxReplicas: 1,
				Metrics: []components.MetricTarget{{Metric: "vllm:gpu_cache_usage_perc", Target: 0.5}},
			})
			return err
		}, `autoscaler "hpa": metrics[0]: "vllm:gpu_cache_usage_perc" was removed from vLLM (deprecated in 0.9, removed in vllm-project/vllm#29330); use "vllm:kv_cache_usage_perc"`, components.TypeAutoscaler},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rec, err := runComponent(t, tc.build)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, rec.byType(tc.typ), "a rejected %s registers nothing", tc.typ)
		})
	}
}

// TestPodMonitoringNumericPort: a numeric port stays a number (the CRD's int-or-string).
func TestPodMonitoringNumericPort(t *testing.T) {
	rec, err := runComponent(t, func(ctx *pulumi.Context) error {
		c, err := components.NewCluster(ctx, "c", &components.ClusterArgs{Mode: "existing"})
		if err != nil {
			return err
		}
		_, err = components.NewPodMonitoring(ctx, "tpu-metrics", &components.PodMonitoringArgs{
			Kube: components.Kube{Provider: c.Provider}, Namespace: pulumi.String("kube-system"), Name: "tpu-metrics-exporter",
			Selector: map[string]string{"k8s-app": "tpu-device-plugin"}, Port: "2112", Interval: "15s", Timeout: "10s",
		})
		return err
	})
	require.NoError(t, err)
	pm := in(rec.one(t, tPodMonitoring))
	assert.Equal(t, map[string]any{"port": 2112.0, "interval": "15s", "timeout": "10s"}, dig(t, pm, "spec.endpoints.0"))
}
