package components

import (
	"encoding/json"
	"fmt"

	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Helm repositories of the charts llmserve installs.
const (
	PrometheusCommunityRepo = "https://prometheus-community.github.io/helm-charts"
	DCGMExporterRepo        = "https://nvidia.github.io/dcgm-exporter/helm-charts"
)

// ChartRef is a pinned Helm chart.
type ChartRef struct {
	Repo, Chart, Version string
}

// helmRelease installs a chart through the Kubernetes provider (a helm.sh/v3 Release), so
// Pulumi tracks it like any other resource. values is any JSON-shaped Go value.
func helmRelease(ctx *pulumi.Context, k Kube, parent pulumi.Resource, name, release, namespace string, chart ChartRef, values any) (*helmv3.Release, error) {
	vals, err := toPulumiMap(values)
	if err != nil {
		return nil, fmt.Errorf("%s values: %w", release, err)
	}
	return helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
		Name:            pulumi.String(release),
		Chart:           pulumi.String(chart.Chart),
		Version:         pulumi.String(chart.Version),
		RepositoryOpts:  &helmv3.RepositoryOptsArgs{Repo: pulumi.String(chart.Repo)},
		Namespace:       pulumi.String(namespace),
		CreateNamespace: pulumi.Bool(true),
		Values:          vals,
		// Helm waits for readiness itself unless told not to; no kubelet, nothing ready.
		SkipAwait: pulumi.Bool(k.SkipAwait),
	}, k.opts(parent)...)
}

// toPulumiMap turns a JSON-shaped value (structs with json tags, maps) into a pulumi.Map.
func toPulumiMap(v any) (pulumi.Map, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return pulumi.ToMap(m), nil
}
