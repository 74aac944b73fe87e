package components

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PrometheusStackNamespace holds the Prometheus Operator stack (seed 002's "monitoring").
const (
	PrometheusStackNamespace = "monitoring"
	// prometheusFullname fixes kube-prometheus-stack's resource names (fullnameOverride),
	// so the Prometheus Service is <fullname>-prometheus whatever the release is called.
	prometheusFullname = "llmserve-prom"
)

// PrometheusStackArgs configures a PrometheusStack.
type PrometheusStackArgs struct {
	Kube                Kube
	KubePrometheusStack ChartRef
	// DCGMExporter, when its Version is set, installs NVIDIA's DCGM exporter with a
	// ServiceMonitor, for GPU utilisation metrics.
	DCGMExporter ChartRef
}

// PrometheusStack installs kube-prometheus-stack (Prometheus Operator, Prometheus,
// kube-state-metrics, node exporter) and optionally the DCGM exporter, as seed 002 does.
// It watches ServiceMonitors and PrometheusRules in every namespace, not just its own.
type PrometheusStack struct {
	pulumi.ResourceState
	Stack *helmv3.Release
	DCGM  *helmv3.Release // nil without GPUs
	// PrometheusURL is the in-cluster address prometheus-adapter queries.
	PrometheusURL string
}

// NewPrometheusStack installs the charts.
func NewPrometheusStack(ctx *pulumi.Context, name string, args *PrometheusStackArgs, opts ...pulumi.ResourceOption) (*PrometheusStack, error) {
	if args == nil || args.KubePrometheusStack.Version == "" {
		return nil, fmt.Errorf("prometheus stack %q: %w", name, errors.New("KubePrometheusStack.Version is required"))
	}
	if err := args.Kube.validate(); err != nil {
		return nil, fmt.Errorf("prometheus stack %q: %w", name, err)
	}
	s := &PrometheusStack{PrometheusURL: fmt.Sprintf("http://%s-prometheus.%s.svc", prometheusFullname, PrometheusStackNamespace)}
	if err := ctx.RegisterComponentResource(TypePrometheusStack, name, s, opts...); err != nil {
		return nil, err
	}
	values := map[string]any{
		"fullnameOverride": prometheusFullname,
		"grafana":          map[string]any{"enabled": false},
		"alertmanager":     map[string]any{"enabled": false},
		"prometheus": map[string]any{"prometheusSpec": map[string]any{
			// By default the operator only picks up objects labelled with its release;
			// the server's ServiceMonitor and rule live in the server's namespace.
			"serviceMonitorSelectorNilUsesHelmValues": false,
			"ruleSelectorNilUsesHelmValues":           false,
			"podMonitorSelectorNilUsesHelmValues":     false,
		}},
	}
	rel, err := helmRelease(ctx, args.Kube, s, name+"-kube-prometheus-stack", "kube-prometheus-stack", PrometheusStackNamespace, args.KubePrometheusStack, values)
	if err != nil {
		return nil, fmt.Errorf("prometheus stack %q: %w", name, err)
	}
	s.Stack = rel
	outputs := pulumi.Map{"prometheusURL": pulumi.String(s.PrometheusURL)}
	if args.DCGMExporter.Version != "" {
		dcgmValues := map[string]any{
			"serviceMonitor": map[string]any{"enabled": true, "interval": "15s"},
			"tolerations":    []map[string]any{{"key": catalog.ResourceGPU, "operator": "Exists", "effect": "NoSchedule"}},
			// Only GPU nodes: GKE labels them with their accelerator type.
			"affinity": map[string]any{"nodeAffinity": map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{
				"nodeSelectorTerms": []map[string]any{{"matchExpressions": []map[string]any{
					{"key": catalog.LabelGKEAccelerator, "operator": "Exists"},
				}}},
			}}},
		}
		dcgm, err := helmRelease(ctx, args.Kube, s, name+"-dcgm-exporter", "dcgm-exporter", PrometheusStackNamespace, args.DCGMExporter, dcgmValues)
		if err != nil {
			return nil, fmt.Errorf("prometheus stack %q: %w", name, err)
		}
		s.DCGM = dcgm
		outputs["dcgm"] = dcgm.Name
	}
	return s, ctx.RegisterResourceOutputs(s, outputs)
}
