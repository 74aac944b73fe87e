package stacks

import (
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// deployAutoscaling creates the scraping, the metrics adapter and the HPA.
func deployAutoscaling(ctx *pulumi.Context, cfg *Config, kube components.Kube, server *components.ModelServer) error {
	name, ns := cfg.ObjectName(), server.Deployment.Metadata.Namespace().Elem()
	a, mt := cfg.Profile.Autoscaling, cfg.Metrics
	var metricNames []string
	for _, m := range a.Metrics {
		metricNames = append(metricNames, m.Metric)
	}
	promURL, err := deployScraping(ctx, cfg, kube, server, metricNames)
	if err != nil {
		return err
	}
	if err := deployAdapter(ctx, cfg, kube, promURL, metricNames); err != nil {
		return err
	}
	_, err = components.NewAutoscaler(ctx, name+"-autoscaler", &components.AutoscalerArgs{
		Kube: kube, Namespace: ns, Name: name, DeploymentName: server.DeploymentName, Engine: cfg.Profile.Engine,
		Adapter: mt.Adapter, MinReplicas: a.MinReplicas, MaxReplicas: a.MaxReplicas, Metrics: a.Metrics,
		Behavior:    a.Behavior,
		ClusterName: cfg.Cluster.Name,
	})
	return err
}

// deployScraping makes the metrics backend scrape the server (and, for TPU memory metrics,
// the TPU device plugin). It returns the Prometheus URL prometheus-adapter would query.
func deployScraping(ctx *pulumi.Context, cfg *Config, kube components.Kube, server *components.ModelServer, metrics []string) (string, error) {
	name, ns, mt := cfg.ObjectName(), server.Deployment.Metadata.Namespace().Elem(), cfg.Metrics
	if mt.Backend == catalog.BackendOperator {
		// Validate admits this backend only in cluster.mode existing (requireOperatorCluster):
		// the cluster must run the Prometheus Operator already.
		if *mt.InstallDCGMExporter {
			// NVIDIA's exporter fails on GKE ("NVML not found", NVIDIA/dcgm-exporter#484: no
			// GKE driver path), where GKE runs its own if the cluster enables DCGM. An
			// existing cluster may not be GKE; on one that is, scrapeGKEDCGM replaces it.
			if _, err := components.NewDCGMExporter(ctx, "dcgm-exporter", &components.DCGMExporterArgs{
				Kube: kube, Image: catalog.DCGMExporterImage, Interval: components.DCGMScrapeInterval, MonitorLabels: mt.MonitorLabels,
			}); err != nil {
				return "", err
			}
		}
		_, err := components.NewOperatorMonitoring(ctx, name+"-monitoring", &components.OperatorMonitoringArgs{
			Kube: kube, Namespace: ns, Name: name, ServiceLabels: server.Selector,
			Port: server.MetricsPort, Path: server.MetricsPath, Interval: mt.ScrapeInterval,
			RecordGPUUtilization: uses(metrics, catalog.GPUExporterMetric), ServerNamespace: cfg.Serving.Namespace,
			MonitorLabels: mt.MonitorLabels, ScrapeGKEDCGM: *mt.ScrapeGKEDCGM,
		})
		return mt.PrometheusURL, err
	}
	if _, err := components.NewPodMonitoring(ctx, name+"-monitoring", &components.PodMonitoringArgs{
		Kube: kube, Namespace: ns, Name: name, Selector: server.Selector,
		Port: server.MetricsPort, Path: server.MetricsPath, Interval: mt.ScrapeInterval,
		TargetLabels: []string{"pod", "container", "node"},
	}); err != nil {
		return "", err
	}
	if catalog.IsTPU(cfg.Profile.Accelerator.Type) && uses(metrics, catalog.AcceleratorMetric) {
		// GKE's TPU device plugin exports accelerator memory on 2112 (seed 000); system
		// metrics are scraped every 15s at the fastest.
		if _, err := components.NewPodMonitoring(ctx, "tpu-metrics", &components.PodMonitoringArgs{
			Kube: kube, Namespace: pulumi.String("kube-system"), Name: "tpu-metrics-exporter",
			Selector: map[string]string{"k8s-app": "tpu-device-plugin"}, Port: "2112", Interval: mt.SystemScrapeInterval,
		}); err != nil {
			return "", err
		}
	}
	return "", nil
}

// deployAdapter installs the adapter that serves the metrics to the HPA.
func deployAdapter(ctx *pulumi.Context, cfg *Config, kube components.Kube, promURL string, metrics []string) error {
	mt := cfg.Metrics
	if !*mt.InstallAdapter {
		return nil
	}
	switch mt.Adapter {
	case catalog.AdapterStackdriver:
		_, err := components.NewStackdriverAdapter(ctx, "metrics-adapter", &components.StackdriverAdapterArgs{
			Kube: kube, Image: mt.AdapterImage,
			// Autopilot has no system pool to keep the adapter off accelerator nodes.
			TolerateAccelerators: cfg.Cluster.Mode != catalog.ModeStandard,
		})
		return err
	case catalog.AdapterPrometheus:
		var after []pulumi.ResourceOption
		createNS := true
		if mt.Backend == catalog.BackendManaged {
			fe, err := components.NewPrometheusFrontend(ctx, "prometheus-frontend", &components.PrometheusFrontendArgs{
				Kube: kube, Project: cfg.Project, Image: mt.FrontendImage,
			})
			if err != nil {
				return err
			}
			promURL = fmt.Sprintf("%s:%d", fe.URL, components.FrontendPort)
			// The frontend creates the namespace the adapter shares.
			createNS = false
			after = append(after, pulumi.DependsOn([]pulumi.Resource{fe}))
		}
		if promURL == "" {
			return fmt.Errorf("prometheus-adapter: no Prometheus to query; set llmserve:metrics.prometheusURL")
		}
		rules, err := components.PrometheusAdapterRules(metrics, components.RuleScope{
			Backend: mt.Backend, Cluster: cfg.Cluster.Name, Namespace: cfg.Serving.Namespace,
		})
		if err != nil {
			return err
		}
		_, err = components.NewPrometheusAdapter(ctx, "metrics-adapter", &components.PrometheusAdapterArgs{
			Kube: kube, Namespace: components.AdapterNamespace, CreateNamespace: createNS,
			Image: catalog.PrometheusAdapterImage, PrometheusURL: promURL, Rules: rules,
		}, after...)
		return err
	}
	return nil
}

// needsDCGMExporter says whether llmserve installs NVIDIA's DCGM exporter by default: a DCGM
// metric scraped by a Prometheus Operator on a cluster llmserve did not create (one it
// creates runs GKE's managed exporter).
func (c *Config) needsDCGMExporter() bool {
	var names []string
	for _, m := range c.Profile.Autoscaling.Metrics {
		names = append(names, m.Metric)
	}
	return c.Metrics.Backend == catalog.BackendOperator && c.Cluster.Mode == catalog.ModeExisting && uses(names, catalog.GPUExporterMetric)
}

// uses says whether any declared metric comes from source.
func uses(metrics []string, source catalog.MetricSource) bool {
	for _, n := range metrics {
		if m, ok := catalog.LookupMetric(n); ok && m.Source == source {
			return true
		}
	}
	return false
}
