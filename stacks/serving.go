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

// deployAutoscaling creates the PodMonitoring, the metrics adapter and the HPA.
func deployAutoscaling(ctx *pulumi.Context, cfg *Config, kube components.Kube, server *components.ModelServer) error {
	name, ns := cfg.ObjectName(), server.Deployment.Metadata.Namespace().Elem()
	if _, err := components.NewPodMonitoring(ctx, name+"-monitoring", &components.PodMonitoringArgs{
		Kube: kube, Namespace: ns, Name: name, Selector: server.Selector,
		Port: server.MetricsPort, Path: server.MetricsPath, Interval: cfg.Metrics.ScrapeInterval,
		TargetLabels: []string{"pod", "container", "node"},
	}); err != nil {
		return err
	}
	if *cfg.Metrics.InstallAdapter {
		if _, err := components.NewStackdriverAdapter(ctx, "metrics-adapter", &components.StackdriverAdapterArgs{
			Kube: kube, Image: cfg.Metrics.AdapterImage,
			// Autopilot has no system pool to keep the adapter off accelerator nodes.
			TolerateAccelerators: cfg.Cluster.Mode != components.ModeStandard,
		}); err != nil {
			return err
		}
	}
	a := cfg.Profile.Autoscaling
	var metrics []components.MetricTarget
	for _, m := range a.Metrics {
		metrics = append(metrics, components.MetricTarget{Metric: m.Metric, Target: m.Target, Selector: m.Selector})
	}
	_, err := components.NewAutoscaler(ctx, name+"-autoscaler", &components.AutoscalerArgs{
		Kube: kube, Namespace: ns, Name: name, DeploymentName: server.DeploymentName, Engine: cfg.Profile.Engine,
		MinReplicas: a.MinReplicas, MaxReplicas: a.MaxReplicas, Metrics: metrics,
		ScaleUp: rulesArgs(a.Behavior.ScaleUp), ScaleDown: rulesArgs(a.Behavior.ScaleDown),
		ClusterName: cfg.Cluster.Name,
	})
	return err
}

func rulesArgs(r ScalingRules) components.ScalingRules {
	out := components.ScalingRules{StabilizationWindowSeconds: *r.StabilizationWindowSeconds, SelectPolicy: r.SelectPolicy}
	for _, p := range r.Policies {
		out.Policies = append(out.Policies, components.ScalingPolicy{Type: p.Type, Value: p.Value, PeriodSeconds: p.PeriodSeconds})
	}
	return out
}
