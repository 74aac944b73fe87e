package stacks

import (
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/organizations"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Program is the llmserve Pulumi program: it loads and validates the stack's config, then
// deploys it. Bad config fails here, before any resource is registered.
func Program(ctx *pulumi.Context) error {
	cfg, err := Load(ctx)
	if err != nil {
		return fmt.Errorf("invalid llmserve config:\n%w", err)
	}
	return Deploy(ctx, cfg)
}

// Deploy wires the components for a validated Config. Values flow one way: the cluster
// gives the provider, the pool gives the selector and chips, the store gives the bucket.
func Deploy(ctx *pulumi.Context, cfg *Config) error {
	infra, err := DeployInfra(ctx, cfg)
	if err != nil {
		return err
	}
	server, err := DeployModel(ctx, cfg, infra)
	if err != nil {
		return err
	}
	ctx.Export("cluster", infra.Cluster.Name)
	ctx.Export("kubeconfig", infra.Cluster.Kubeconfig)
	ctx.Export("bucket", infra.Bucket)
	ctx.Export("namespace", pulumi.String(cfg.Serving.Namespace))
	ctx.Export("deployment", server.DeploymentName)
	ctx.Export("endpoint", pulumi.Sprintf("http://%s.%s.svc.cluster.local:%d", cfg.ObjectName(), cfg.Serving.Namespace, cfg.Profile.Server.Port))
	ctx.Export("model", pulumi.String(cfg.Profile.Model))
	if cfg.usesGateway() {
		// The Gateway's address is GKE's to assign (status.addresses); kubectl shows it.
		ctx.Export("gateway", pulumi.Sprintf("%s/%s", cfg.Serving.Namespace, cfg.ObjectName()))
	}
	return nil
}

// Infra is the cluster-level half that model servers land on.
type Infra struct {
	Cluster *components.Cluster
	Kube    components.Kube
	Pool    components.PoolCapacity
	Bucket  pulumi.StringOutput
	// ProxySubnet is the proxy-only subnet created for routing gateway, or nil.
	ProxySubnet pulumi.Resource
}

// DeployInfra creates the cluster (or its provider), the accelerator pool, the bucket and
// the IAM grants. When rendering (cfg.RenderDir) it registers no GCP resource and makes no
// GCP call: the manifests use the names the real stack would (cluster, bucket), and only
// the Kubernetes half is written.
func DeployInfra(ctx *pulumi.Context, cfg *Config) (*Infra, error) {
	// Before anything is registered: refuse to adopt a namespace someone else owns. (Under
	// mocks there is no cluster to ask.)
	if !ctx.RunningWithMocks() {
		if err := checkNamespaceOwnership(cfg, ctx.Stack()); err != nil {
			return nil, err
		}
		if err := checkGatewayAPIs(cfg); err != nil {
			return nil, err
		}
	}
	projectNumber, err := lookupProjectNumber(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cl := cfg.Cluster
	cluster, err := components.NewCluster(ctx, "cluster", &components.ClusterArgs{
		Mode: cl.Mode, Project: cfg.Project, Name: cl.Name, Location: cl.Location, NodeLocations: clusterNodeLocations(cl),
		ReleaseChannel: cl.ReleaseChannel, MinMasterVersion: cl.Version, DeletionProtection: *cl.DeletionProtection,
		Network: cl.Network, Subnetwork: cl.Subnetwork,
		SystemPool: components.SystemPoolArgs{MachineType: cl.SystemPool.MachineType, MinNodes: *cl.SystemPool.MinNodes, MaxNodes: *cl.SystemPool.MaxNodes},
		Kubeconfig: kubeconfigInput(cl.Kubeconfig), Context: cl.Context, RenderDir: cfg.RenderDir,
		EnableDCGM: !catalog.IsTPU(cfg.Profile.Accelerator.Type),
		GatewayAPI: cfg.usesGateway(),
	})
	if err != nil {
		return nil, err
	}
	pool, err := deployPool(ctx, cfg, cluster)
	if err != nil {
		return nil, err
	}
	bucket, err := deployGCPAccess(ctx, cfg, projectNumber)
	if err != nil {
		return nil, err
	}
	proxySubnet, err := deployProxySubnet(ctx, cfg)
	if err != nil {
		return nil, err
	}
	kube := components.Kube{Provider: cluster.Provider, SkipAwait: cfg.SkipAwait, Stack: ctx.Stack()}
	return &Infra{Cluster: cluster, Kube: kube, Pool: pool, Bucket: bucket, ProxySubnet: proxySubnet}, nil
}

// DeployModel adds one model's server, scraping and autoscaler on infra. Its objects are
// named after the model, so several models can share a stack; the cluster-wide metrics
// adapter and DCGM exporter come with it when cfg.Metrics asks for them, so a second model
// in the same stack sets installAdapter (and installDCGMExporter) false.
func DeployModel(ctx *pulumi.Context, cfg *Config, infra *Infra) (*components.ModelServer, error) {
	server, err := deployServing(ctx, cfg, infra.Kube, infra.Pool, infra.Bucket)
	if err != nil {
		return nil, err
	}
	if err := deployAutoscaling(ctx, cfg, infra.Kube, server); err != nil {
		return nil, err
	}
	if err := deployBuffer(ctx, cfg, infra.Kube, infra.Pool, server); err != nil {
		return nil, err
	}
	var after []pulumi.Resource
	if infra.ProxySubnet != nil {
		after = append(after, infra.ProxySubnet)
	}
	if err := deployGateway(ctx, cfg, infra.Kube, server, after); err != nil {
		return nil, err
	}
	return server, nil
}

// deployPool creates (or describes) the accelerator pool the profile asks for.
func deployPool(ctx *pulumi.Context, cfg *Config, cluster *components.Cluster) (components.PoolCapacity, error) {
	pl, cl, acc := cfg.Pool, cfg.Cluster, cfg.Profile.Accelerator
	common := components.PoolArgs{
		// Rendering describes the pool (selector, chips, size) but creates none.
		Create: *pl.Create && !rendering(cfg), Project: cfg.Project, Cluster: cluster.Name, Location: cl.Location, NodeLocations: poolNodeLocations(cl),
		MinNodes: *pl.MinNodes, MaxNodes: *pl.MaxNodes,
		Spot: pl.Spot, Reservation: pl.Reservation, LocationPolicy: pl.LocationPolicy, DiskSizeGB: derefOr(pl.DiskSizeGB, 0),
		ImageCacheDisk: pl.ImageCacheDisk,
	}
	if catalog.IsTPU(acc.Type) {
		p, err := components.NewTPUNodePool(ctx, "tpu", &components.TPUNodePoolArgs{PoolArgs: common, Topology: acc.Topology})
		if err != nil {
			return components.PoolCapacity{}, err
		}
		return p.Capacity(), nil
	}
	p, err := components.NewGPUNodePool(ctx, "gpu", &components.GPUNodePoolArgs{
		PoolArgs: common, Accelerator: acc.Type, Count: acc.Count, DriverVersion: pl.DriverVersion,
	})
	if err != nil {
		return components.PoolCapacity{}, err
	}
	return p.Capacity(), nil
}

// lookupProjectNumber returns the number the Workload Identity principals need, from config
// or from the project itself. With no GCP resources there is nothing to grant.
func lookupProjectNumber(ctx *pulumi.Context, cfg *Config) (pulumi.StringInput, error) {
	if !cfg.GCPResources || rendering(cfg) {
		return nil, nil
	}
	if cfg.ProjectNumber != "" {
		return pulumi.String(cfg.ProjectNumber), nil
	}
	p, err := organizations.LookupProject(ctx, &organizations.LookupProjectArgs{ProjectId: &cfg.Project})
	if err != nil {
		return nil, fmt.Errorf("looking up the number of project %s (or set llmserve:projectNumber): %w", cfg.Project, err)
	}
	return pulumi.String(p.Number), nil
}

// deployGCPAccess creates the bucket and the IAM grants, or names an existing bucket.
func deployGCPAccess(ctx *pulumi.Context, cfg *Config, projectNumber pulumi.StringInput) (pulumi.StringOutput, error) {
	if !cfg.GCPResources || rendering(cfg) {
		// Rendering: the bucket the real stack creates, by the name it would get.
		return pulumi.String(cfg.ModelStore.Bucket).ToStringOutput(), nil
	}
	ms := cfg.ModelStore
	store, err := components.NewModelStore(ctx, "model-store", &components.ModelStoreArgs{
		Project: cfg.Project, ProjectNumber: projectNumber, Bucket: ms.Bucket, Location: ms.Location,
		StorageClass: ms.StorageClass, ForceDestroy: ms.ForceDestroy,
		Namespace: cfg.Serving.Namespace, ServiceAccount: cfg.Serving.ServiceAccount,
		// A stack name may be up to 100 characters; a label value at most 63.
		Labels: map[string]string{"managed-by": "llmserve", "stack": catalog.LabelValue(Slug(ctx.Stack()))},
	})
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	// Whoever reads Cloud Monitoring for the HPA needs monitoring.viewer: the Stackdriver
	// adapter, or the Managed Prometheus frontend that prometheus-adapter queries.
	mt := cfg.Metrics
	switch {
	case mt.Adapter == catalog.AdapterStackdriver:
		if _, err := components.NewAdapterIAM(ctx, "adapter-iam", &components.AdapterIAMArgs{
			Project: cfg.Project, ProjectNumber: projectNumber,
		}); err != nil {
			return pulumi.StringOutput{}, err
		}
	case mt.Adapter == catalog.AdapterPrometheus && mt.Backend == catalog.BackendManaged:
		if _, err := components.NewAdapterIAM(ctx, "frontend-iam", &components.AdapterIAMArgs{
			Project: cfg.Project, ProjectNumber: projectNumber,
			Namespace: components.FrontendNamespace, ServiceAccount: components.FrontendServiceAccount,
		}); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	return store.BucketName, nil
}

// rendering says whether the stack writes manifests instead of deploying: then nothing on
// GCP is registered or looked up (issue 11: render must work offline, with no credentials).
func rendering(cfg *Config) bool { return cfg.RenderDir != "" }

func kubeconfigInput(kc string) pulumi.StringInput {
	if kc == "" {
		return nil
	}
	return pulumi.String(kc)
}

// derefOr is *p, or def when p is nil (a setting left to the provider's default).
func derefOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
