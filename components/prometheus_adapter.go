package components

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PrometheusAdapterArgs configures a PrometheusAdapter.
type PrometheusAdapterArgs struct {
	Kube      Kube
	Namespace string
	Chart     ChartRef
	// PrometheusURL is where the adapter queries: the Managed Prometheus frontend or the
	// Prometheus Operator's Prometheus.
	PrometheusURL string
	Rules         AdapterRules
}

// PrometheusAdapter installs kubernetes-sigs/prometheus-adapter (prometheus-community chart)
// with rules generated from the HPA's metric declarations. It serves custom.metrics.k8s.io
// and external.metrics.k8s.io; only one adapter may serve them in a cluster.
type PrometheusAdapter struct {
	pulumi.ResourceState
	Release *helmv3.Release
	Values  map[string]any // the chart values, for tests and review
}

// NewPrometheusAdapter installs the chart.
func NewPrometheusAdapter(ctx *pulumi.Context, name string, args *PrometheusAdapterArgs, opts ...pulumi.ResourceOption) (*PrometheusAdapter, error) {
	if args == nil || args.Namespace == "" || args.PrometheusURL == "" || args.Chart.Version == "" {
		return nil, fmt.Errorf("prometheus adapter %q: %w", name, errors.New("Namespace, PrometheusURL and Chart.Version are required"))
	}
	if err := args.Kube.validate(); err != nil {
		return nil, fmt.Errorf("prometheus adapter %q: %w", name, err)
	}
	if len(args.Rules.Custom)+len(args.Rules.External) == 0 {
		return nil, fmt.Errorf("prometheus adapter %q: no rules: nothing for the HPA to read", name)
	}
	a := &PrometheusAdapter{Values: map[string]any{
		"prometheus": map[string]any{"url": args.PrometheusURL, "port": 9090, "path": ""},
		"rules":      args.Rules,
		// Accelerator nodes may be all there is (Autopilot).
		"tolerations": []map[string]any{
			{"key": catalog.ResourceTPU, "operator": "Exists", "effect": "NoSchedule"},
			{"key": catalog.ResourceGPU, "operator": "Exists", "effect": "NoSchedule"},
		},
	}}
	if err := ctx.RegisterComponentResource(TypePrometheusAdapter, name, a, opts...); err != nil {
		return nil, err
	}
	rel, err := helmRelease(ctx, args.Kube, a, name+"-release", "prometheus-adapter", args.Namespace, args.Chart, a.Values)
	if err != nil {
		return nil, fmt.Errorf("prometheus adapter %q: %w", name, err)
	}
	a.Release = rel
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{"release": rel.Name})
}
