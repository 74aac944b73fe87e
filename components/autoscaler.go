package components

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/llmserve/llmserve/catalog"
	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MetricTarget declares one metric to scale on: {metric: vllm:num_requests_waiting, target:
// 10}. It is both the profile's config (stacks/models/*.yaml) and the Autoscaler's argument.
type MetricTarget struct {
	Metric string  `yaml:"metric"`
	Target float64 `yaml:"target"`
	// Selector adds label matchers to External (accelerator) metrics.
	Selector map[string]string `yaml:"selector"`
}

// BehaviorSpec is the HPA's scale-up and scale-down behaviour.
type BehaviorSpec struct {
	ScaleUp   ScalingRules `yaml:"scaleUp"`
	ScaleDown ScalingRules `yaml:"scaleDown"`
}

// ScalingRules mirrors autoscaling/v2 HPAScalingRules, one direction of the behaviour. A nil
// window is left to the HPA's own default (config fills it in before it gets here).
type ScalingRules struct {
	StabilizationWindowSeconds *int            `yaml:"stabilizationWindowSeconds"`
	SelectPolicy               string          `yaml:"selectPolicy"`
	Policies                   []ScalingPolicy `yaml:"policies"`
}

// ScalingPolicy mirrors autoscaling/v2 HPAScalingPolicy.
type ScalingPolicy struct {
	Type          string `yaml:"type"` // Pods | Percent
	Value         int    `yaml:"value"`
	PeriodSeconds int    `yaml:"periodSeconds"`
}

// AutoscalerArgs configures an Autoscaler.
type AutoscalerArgs struct {
	Kube           Kube
	Namespace      pulumi.StringInput
	Name           string
	DeploymentName pulumi.StringInput
	Engine         string
	// Adapter decides the names the HPA asks for (stackdriver | prometheus-adapter | none).
	Adapter     string
	MinReplicas int
	MaxReplicas int
	Metrics     []MetricTarget
	Behavior    BehaviorSpec
	// ClusterName scopes External accelerator metrics to this cluster's nodes.
	ClusterName string
}

func (a *AutoscalerArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if err := a.Kube.validate(); err != nil {
		return err
	}
	var errs []error
	if a.Namespace == nil || a.Name == "" || a.DeploymentName == nil {
		errs = append(errs, errors.New("Namespace, Name and DeploymentName are required"))
	}
	if a.MinReplicas < 1 || a.MaxReplicas < a.MinReplicas {
		errs = append(errs, fmt.Errorf("replicas %d..%d: want 1 <= min <= max", a.MinReplicas, a.MaxReplicas))
	}
	if len(a.Metrics) == 0 {
		errs = append(errs, errors.New("at least one metric is required"))
	}
	for i, m := range a.Metrics {
		if msg := catalog.CheckMetric(a.Engine, a.Adapter, m.Metric, m.Target); msg != "" {
			errs = append(errs, fmt.Errorf("metrics[%d]: %s", i, msg))
		}
	}
	return errors.Join(errs...)
}

// Autoscaler is an autoscaling/v2 HorizontalPodAutoscaler on the server's Deployment. Each
// metric declaration becomes the HPA metric its source needs: server gauges are Pods metrics
// under their Managed Prometheus names, accelerator metrics are External metrics with label
// selectors. With several metrics the HPA takes the largest replica count.
type Autoscaler struct {
	pulumi.ResourceState
	HPA *autoscalingv2.HorizontalPodAutoscaler
}

// NewAutoscaler creates the HPA.
func NewAutoscaler(ctx *pulumi.Context, name string, args *AutoscalerArgs, opts ...pulumi.ResourceOption) (*Autoscaler, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("autoscaler %q: %w", name, err)
	}
	as := &Autoscaler{}
	if err := ctx.RegisterComponentResource(TypeAutoscaler, name, as, opts...); err != nil {
		return nil, err
	}
	var metrics autoscalingv2.MetricSpecArray
	for _, m := range args.Metrics {
		metrics = append(metrics, args.metricSpec(m))
	}
	hpa, err := autoscalingv2.NewHorizontalPodAutoscaler(ctx, name+"-hpa", &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: args.Kube.meta(args.Name, args.Namespace, map[string]string{LabelName: args.Name}, nil),
		Spec: &autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: &autoscalingv2.CrossVersionObjectReferenceArgs{
				ApiVersion: pulumi.String("apps/v1"),
				Kind:       pulumi.String("Deployment"),
				Name:       args.DeploymentName,
			},
			MinReplicas: pulumi.Int(args.MinReplicas),
			MaxReplicas: pulumi.Int(args.MaxReplicas),
			Metrics:     metrics,
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehaviorArgs{
				ScaleUp:   rules(args.Behavior.ScaleUp),
				ScaleDown: rules(args.Behavior.ScaleDown),
			},
		},
	}, args.Kube.opts(as)...)
	if err != nil {
		return nil, fmt.Errorf("autoscaler %q: %w", name, err)
	}
	as.HPA = hpa
	return as, ctx.RegisterResourceOutputs(as, pulumi.Map{"name": pulumi.String(args.Name)})
}

// Quantity renders a target as a Kubernetes quantity: 10 -> "10", 0.8 -> "0.8" (the API
// server stores it as 800m).
func Quantity(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (a *AutoscalerArgs) metricSpec(m MetricTarget) autoscalingv2.MetricSpecArgs {
	km, _ := catalog.LookupMetric(m.Metric)
	target := &autoscalingv2.MetricTargetArgs{
		Type:         pulumi.String("AverageValue"),
		AverageValue: pulumi.String(Quantity(m.Target)),
	}
	hm := catalog.HPAMetricFor(a.Adapter, km)
	id := &autoscalingv2.MetricIdentifierArgs{Name: pulumi.String(hm.Name)}
	if hm.Type == "Pods" {
		return autoscalingv2.MetricSpecArgs{
			Type: pulumi.String("Pods"),
			Pods: &autoscalingv2.PodsMetricSourceArgs{Metric: id, Target: target},
		}
	}
	// Node metrics carry no pod label: scope them to this cluster, plus the user's labels.
	// prometheus-adapter's rule already filters by cluster.
	sel := map[string]string{}
	if a.ClusterName != "" && a.Adapter != catalog.AdapterPrometheus {
		sel["resource.labels.cluster_name"] = a.ClusterName
	}
	for k, v := range m.Selector {
		sel[k] = v
	}
	if len(sel) > 0 {
		id.Selector = &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(sel)}
	}
	return autoscalingv2.MetricSpecArgs{
		Type:     pulumi.String("External"),
		External: &autoscalingv2.ExternalMetricSourceArgs{Metric: id, Target: target},
	}
}

func rules(r ScalingRules) *autoscalingv2.HPAScalingRulesArgs {
	var pols autoscalingv2.HPAScalingPolicyArray
	for _, p := range r.Policies {
		pols = append(pols, autoscalingv2.HPAScalingPolicyArgs{
			Type: pulumi.String(p.Type), Value: pulumi.Int(p.Value), PeriodSeconds: pulumi.Int(p.PeriodSeconds),
		})
	}
	return &autoscalingv2.HPAScalingRulesArgs{
		StabilizationWindowSeconds: pulumi.IntPtrFromPtr(r.StabilizationWindowSeconds),
		SelectPolicy:               pulumi.String(r.SelectPolicy),
		Policies:                   pols,
	}
}
