package components

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	"github.com/prometheus/common/model"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// OperatorMonitoringArgs configures an OperatorMonitoring.
type OperatorMonitoringArgs struct {
	Kube      Kube
	Namespace pulumi.StringInput
	Name      string
	// ServiceLabels select the server's Service; Port is its metrics port name.
	ServiceLabels map[string]string
	Port, Path    string
	Interval      string
	// RecordGPUUtilization adds the PrometheusRule for DCGM utilisation per server pod.
	RecordGPUUtilization bool
	// ServerNamespace scopes the recording rule to the server's pods.
	ServerNamespace string
	// MonitorLabels are added to every ServiceMonitor and PrometheusRule, so that the
	// cluster's Prometheus selects them (llmserve:metrics.monitorLabels).
	MonitorLabels map[string]string
	// ScrapeGKEDCGM adds a ServiceMonitor for GKE's managed DCGM exporter, which GKE runs
	// in gke-managed-system when the cluster's monitoring config enables DCGM
	// (llmserve:metrics.scrapeGKEDCGM: an existing GKE cluster, which llmserve cannot
	// recognise by itself). Its series carry the GPU's pod as exported_pod, as NVIDIA's do,
	// so the same recording rule serves both (upstream pairs that monitor with that rule).
	ScrapeGKEDCGM bool
}

// GKE's managed DCGM exporter, as kubernetes/examples AI/vllm-deployment/hpa/
// gpu-service-monitor-gke.yaml (@ 929f82b) scrapes it: Services labelled
// app.kubernetes.io/name=gke-managed-dcgm-exporter in gke-managed-system, port "metrics".
const (
	GKEManagedNamespace = "gke-managed-system"
	GKEDCGMExporterName = "gke-managed-dcgm-exporter"
	// DCGMScrapeInterval is how often the Prometheus Operator scrapes a DCGM exporter,
	// GKE's or NVIDIA's (the 15 s llmserve passed NVIDIA's chart).
	DCGMScrapeInterval     = "15s"
	gkeDCGMMetricsPortName = "metrics"
)

// OperatorMonitoring is the Prometheus Operator half of the server's monitoring (seed 002):
// a ServiceMonitor that scrapes the server and, for GPU scaling, a PrometheusRule that
// turns DCGM's per-GPU series into an HPA-friendly per-pod series.
type OperatorMonitoring struct {
	pulumi.ResourceState
	ServiceMonitor *apiextensions.CustomResource
	Rule           *apiextensions.CustomResource // nil unless RecordGPUUtilization
}

func (a *OperatorMonitoringArgs) validate() error {
	if a == nil || a.Namespace == nil || a.Name == "" || len(a.ServiceLabels) == 0 || a.Port == "" {
		return errors.New("Namespace, Name, ServiceLabels and Port are required")
	}
	if err := a.Kube.validate(); err != nil {
		return err
	}
	if _, err := model.ParseDuration(a.Interval); err != nil {
		return fmt.Errorf("interval: %w", err)
	}
	return nil
}

// NewOperatorMonitoring creates the ServiceMonitor and the rule.
func NewOperatorMonitoring(ctx *pulumi.Context, name string, args *OperatorMonitoringArgs, opts ...pulumi.ResourceOption) (*OperatorMonitoring, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("operator monitoring %q: %w", name, err)
	}
	o := &OperatorMonitoring{}
	if err := ctx.RegisterComponentResource(TypeOperatorMonitoring, name, o, opts...); err != nil {
		return nil, err
	}
	k := args.Kube
	endpoint := pulumi.Map{"port": pulumi.String(args.Port), "interval": pulumi.String(args.Interval)}
	if args.Path != "" {
		endpoint["path"] = pulumi.String(args.Path)
	}
	sm, err := apiextensions.NewCustomResource(ctx, name+"-servicemonitor", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
		Kind:       pulumi.String("ServiceMonitor"),
		Metadata:   k.meta(args.Name, args.Namespace, args.MonitorLabels, nil),
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"selector":  pulumi.Map{"matchLabels": pulumi.ToStringMap(args.ServiceLabels)},
			"endpoints": pulumi.Array{endpoint},
		}},
	}, k.opts(o)...)
	if err != nil {
		return nil, fmt.Errorf("operator monitoring %q: servicemonitor: %w", name, err)
	}
	o.ServiceMonitor = sm
	if args.ScrapeGKEDCGM {
		if _, err := apiextensions.NewCustomResource(ctx, name+"-gke-dcgm-servicemonitor", &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
			Kind:       pulumi.String("ServiceMonitor"),
			Metadata:   k.meta(args.Name+"-gke-dcgm", args.Namespace, args.MonitorLabels, nil),
			OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
				"selector":          pulumi.Map{"matchLabels": pulumi.StringMap{LabelName: pulumi.String(GKEDCGMExporterName)}},
				"namespaceSelector": pulumi.Map{"matchNames": pulumi.ToStringArray([]string{GKEManagedNamespace})},
				"endpoints":         pulumi.Array{pulumi.Map{"port": pulumi.String(gkeDCGMMetricsPortName), "interval": pulumi.String(DCGMScrapeInterval)}},
			}},
		}, k.opts(o)...); err != nil {
			return nil, fmt.Errorf("operator monitoring %q: gke dcgm servicemonitor: %w", name, err)
		}
	}
	if args.RecordGPUUtilization {
		rule, err := apiextensions.NewCustomResource(ctx, name+"-gpu-rule", &apiextensions.CustomResourceArgs{
			ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
			Kind:       pulumi.String("PrometheusRule"),
			Metadata:   k.meta(args.Name+"-gpu", args.Namespace, args.MonitorLabels, nil),
			OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{"groups": pulumi.Array{pulumi.Map{
				"name": pulumi.String("llmserve-gpu"),
				"rules": pulumi.Array{pulumi.Map{
					"record": pulumi.String(catalog.GPUUtilizationRecord),
					"expr":   pulumi.String(GPUUtilizationExpr(args.ServerNamespace)),
				}},
			}}}},
		}, k.opts(o)...)
		if err != nil {
			return nil, fmt.Errorf("operator monitoring %q: prometheus rule: %w", name, err)
		}
		o.Rule = rule
	}
	return o, ctx.RegisterResourceOutputs(o, pulumi.Map{"name": pulumi.String(args.Name)})
}

// GPUUtilizationExpr averages DCGM_FI_DEV_GPU_UTIL per server pod. The exporter labels each
// GPU with the pod using it; scraped through a ServiceMonitor those labels become
// exported_namespace/exported_pod (the target's own namespace/pod win), so they are copied
// back to namespace/pod, the labels prometheus-adapter maps to Kubernetes objects.
func GPUUtilizationExpr(namespace string) string {
	return fmt.Sprintf(`avg by (namespace, pod) (label_replace(label_replace(DCGM_FI_DEV_GPU_UTIL{exported_namespace=%q, exported_pod!=""}, "namespace", "$1", "exported_namespace", "(.+)"), "pod", "$1", "exported_pod", "(.+)"))`, namespace)
}
