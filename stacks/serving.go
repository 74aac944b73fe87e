package stacks

import (
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// deployServing creates the server's namespace, identity, token secret and the server.
func deployServing(ctx *pulumi.Context, cfg *Config, kube components.Kube, pool components.PoolCapacity, bucket pulumi.StringInput) (*components.ModelServer, error) {
	name, p, sv := cfg.ObjectName(), cfg.Profile, cfg.Serving
	acctArgs := &components.ServingNamespaceArgs{
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
	for _, caveat := range cfg.Caveats() {
		_ = ctx.Log.Warn(name+": "+caveat, nil)
	}
	acct, err := components.NewServingNamespace(ctx, name+"-account", acctArgs)
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
			CheckpointSource: catalog.JetStreamCheckpoints[p.JetStream.ModelName], ConverterImage: catalog.JetStreamCheckpointImage,
			KaggleSecret: catalog.KaggleSecret,
			HTTPImage:    p.JetStream.HTTPImage, ModelName: p.JetStream.ModelName, TokenizerPath: p.JetStream.TokenizerPath,
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
		MaxReplicas: p.Autoscaling.MaxReplicas, Exposure: cfg.serverExposure(),
	}, pulumi.DependsOn([]pulumi.Resource{acct}))
}
