package stacks

import (
	"fmt"

	"github.com/llmserve/llmserve/components"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// deployServing creates the server's namespace, identity, token secret and the server.
func deployServing(ctx *pulumi.Context, cfg *Config, kube components.Kube, pool components.PoolCapacity, bucket pulumi.StringInput) (*components.ModelServer, error) {
	name, p, sv := cfg.ObjectName(), cfg.Profile, cfg.Serving
	acctArgs := &components.ServingAccountArgs{
		Kube: kube, Namespace: sv.Namespace, CreateNamespace: *sv.CreateNamespace,
		ServiceAccount: sv.ServiceAccount, Labels: map[string]string{components.LabelName: name},
	}
	secretName := name + "-hf-token"
	switch {
	case cfg.RenderDir != "":
		// Rendered manifests are files a GitOps tool commits: a token would sit there in
		// plain base64. Leave the Secret out and say how to create it.
		_ = ctx.Log.Info(fmt.Sprintf("render: the Hugging Face token Secret is not written to %s; create it in the cluster with\n"+
			"  kubectl -n %s create secret generic %s --from-literal=%s=$HF_TOKEN",
			cfg.RenderDir, sv.Namespace, secretName, components.HFTokenKey), nil)
	case cfg.HasHFToken:
		acctArgs.HFToken = cfg.HFToken
	}
	if cfg.HasHFToken || cfg.RenderDir != "" {
		acctArgs.SecretName = secretName
	}
	acct, err := components.NewServingAccount(ctx, name+"-account", acctArgs)
	if err != nil {
		return nil, err
	}
	st := p.Storage
	return components.NewModelServer(ctx, name, &components.ModelServerArgs{
		Kube: kube, Namespace: acct.NamespaceName, Name: name, ServiceAccount: acct.ServiceAccountName,
		Engine: p.Engine, Model: p.Model, Image: p.Image, Port: p.Server.Port,
		VLLM: components.VLLMArgs{
			TensorParallelSize: p.Server.TensorParallelSize, MaxModelLen: p.Server.MaxModelLen,
			MaxNumSeqs: p.Server.MaxNumSeqs, MaxNumBatchedTokens: p.Server.MaxNumBatchedTokens, ExtraArgs: p.Server.ExtraArgs,
		},
		JetStream: components.JetStreamArgs{
			HTTPImage: p.JetStream.HTTPImage, ModelName: p.JetStream.ModelName, TokenizerPath: p.JetStream.TokenizerPath,
			CheckpointPath: p.JetStream.CheckpointPath, PerDeviceBatchSize: p.JetStream.PerDeviceBatchSize,
			MaxPrefillPredictLength: p.JetStream.MaxPrefillPredictLength, MaxTargetLength: p.JetStream.MaxTargetLength,
			WeightDType: p.DType, MetricsPort: p.JetStream.MetricsPort, ExtraArgs: p.JetStream.ExtraArgs,
		},
		Env: p.Server.Env, CPU: p.Server.CPU, Memory: p.Server.Memory,
		HFSecretName: acct.SecretName,
		Pool:         pool,
		GCSFuse: components.GCSFuseArgs{
			Bucket: bucket, MountPath: st.MountPath, MountOptions: st.MountOptions,
			CacheMedium: st.FileCacheMedium, CacheSize: st.FileCacheSize,
			SidecarCPULimit: st.SidecarCPULimit, SidecarMemoryLimit: st.SidecarMemoryLimit, SidecarStorageLimit: st.SidecarStorageLimit,
		},
		SharedMemorySize: st.SharedMemorySize,
		XLACache: components.XLACacheArgs{
			Mode: st.XLACache, LocalSize: st.XLACacheLocalSize, PublishDelaySeconds: *st.XLACachePublishDelay,
			Key: components.XLACacheKey(name, p.Image, p.Model, p.Accelerator.Topology,
				fmt.Sprint(p.Server.TensorParallelSize, p.Server.MaxModelLen, p.Server.MaxNumSeqs, p.Server.MaxNumBatchedTokens),
				fmt.Sprint(p.JetStream.PerDeviceBatchSize, p.JetStream.MaxPrefillPredictLength, p.JetStream.MaxTargetLength)),
		},
		StartupTimeoutSeconds: p.Probes.StartupTimeoutSeconds, ProbePeriodSeconds: p.Probes.PeriodSeconds,
		MaxReplicas: p.Autoscaling.MaxReplicas, Exposure: sv.Exposure,
	}, pulumi.DependsOn([]pulumi.Resource{acct}))
}

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
	var metrics []components.MetricTarget
	for _, m := range a.Metrics {
		metrics = append(metrics, components.MetricTarget{Metric: m.Metric, Target: m.Target, Selector: m.Selector})
	}
	_, err = components.NewAutoscaler(ctx, name+"-autoscaler", &components.AutoscalerArgs{
		Kube: kube, Namespace: ns, Name: name, DeploymentName: server.DeploymentName, Engine: cfg.Profile.Engine,
		Adapter: mt.Adapter, MinReplicas: a.MinReplicas, MaxReplicas: a.MaxReplicas, Metrics: metrics,
		ScaleUp: rulesArgs(a.Behavior.ScaleUp), ScaleDown: rulesArgs(a.Behavior.ScaleDown),
		ClusterName: cfg.Cluster.Name,
	})
	return err
}

// deployScraping makes the metrics backend scrape the server (and, for TPU memory metrics,
// the TPU device plugin). It returns the Prometheus URL prometheus-adapter would query.
func deployScraping(ctx *pulumi.Context, cfg *Config, kube components.Kube, server *components.ModelServer, metrics []string) (string, error) {
	name, ns, mt := cfg.ObjectName(), server.Deployment.Metadata.Namespace().Elem(), cfg.Metrics
	if mt.Backend == components.BackendOperator {
		url := ""
		if *mt.InstallPrometheus {
			stackArgs := &components.PrometheusStackArgs{Kube: kube, KubePrometheusStack: chart(components.PrometheusCommunityRepo, "kube-prometheus-stack", mt.Charts.KubePrometheusStack)}
			if uses(metrics, components.GPUExporterMetric) {
				stackArgs.DCGMExporter = chart(components.DCGMExporterRepo, "dcgm-exporter", mt.Charts.DCGMExporter)
			}
			st, err := components.NewPrometheusStack(ctx, "prometheus", stackArgs)
			if err != nil {
				return "", err
			}
			url = st.PrometheusURL
		}
		_, err := components.NewOperatorMonitoring(ctx, name+"-monitoring", &components.OperatorMonitoringArgs{
			Kube: kube, Namespace: ns, Name: name, ServiceLabels: server.Selector,
			Port: server.MetricsPort, Path: server.MetricsPath, Interval: mt.ScrapeInterval,
			RecordGPUUtilization: uses(metrics, components.GPUExporterMetric), ServerNamespace: cfg.Serving.Namespace,
		})
		return url, err
	}
	if _, err := components.NewPodMonitoring(ctx, name+"-monitoring", &components.PodMonitoringArgs{
		Kube: kube, Namespace: ns, Name: name, Selector: server.Selector,
		Port: server.MetricsPort, Path: server.MetricsPath, Interval: mt.ScrapeInterval,
		TargetLabels: []string{"pod", "container", "node"},
	}); err != nil {
		return "", err
	}
	if components.IsTPU(cfg.Profile.Accelerator.Type) && uses(metrics, components.AcceleratorMetric) {
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
	case components.AdapterStackdriver:
		_, err := components.NewStackdriverAdapter(ctx, "metrics-adapter", &components.StackdriverAdapterArgs{
			Kube: kube, Image: mt.AdapterImage,
			// Autopilot has no system pool to keep the adapter off accelerator nodes.
			TolerateAccelerators: cfg.Cluster.Mode != components.ModeStandard,
		})
		return err
	case components.AdapterPrometheus:
		var after []pulumi.ResourceOption
		if mt.Backend == components.BackendManaged {
			fe, err := components.NewPrometheusFrontend(ctx, "prometheus-frontend", &components.PrometheusFrontendArgs{
				Kube: kube, Project: cfg.Project, Image: mt.FrontendImage,
			})
			if err != nil {
				return err
			}
			promURL = fe.URL
			// The frontend creates the namespace the chart installs into.
			after = append(after, pulumi.DependsOn([]pulumi.Resource{fe}))
		}
		if promURL == "" {
			return fmt.Errorf("prometheus-adapter: no Prometheus to query; set llmserve:metrics.installPrometheus")
		}
		rules, err := components.PrometheusAdapterRules(metrics, components.RuleScope{
			Backend: mt.Backend, Cluster: cfg.Cluster.Name, Namespace: cfg.Serving.Namespace,
		})
		if err != nil {
			return err
		}
		_, err = components.NewPrometheusAdapter(ctx, "metrics-adapter", &components.PrometheusAdapterArgs{
			Kube: kube, Namespace: components.AdapterNamespace, PrometheusURL: promURL,
			Chart: chart(components.PrometheusCommunityRepo, "prometheus-adapter", mt.Charts.PrometheusAdapter), Rules: rules,
		}, after...)
		return err
	}
	return nil
}

func chart(repo, name, version string) components.ChartRef {
	return components.ChartRef{Repo: repo, Chart: name, Version: version}
}

// uses says whether any declared metric comes from source.
func uses(metrics []string, source components.MetricSource) bool {
	for _, n := range metrics {
		if m, ok := components.LookupMetric(n); ok && m.Source == source {
			return true
		}
	}
	return false
}

func rulesArgs(r ScalingRules) components.ScalingRules {
	out := components.ScalingRules{StabilizationWindowSeconds: *r.StabilizationWindowSeconds, SelectPolicy: r.SelectPolicy}
	for _, p := range r.Policies {
		out.Policies = append(out.Policies, components.ScalingPolicy{Type: p.Type, Value: p.Value, PeriodSeconds: p.PeriodSeconds})
	}
	return out
}
