package components

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/container"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SystemPoolArgs sizes the small CPU pool that runs the metrics adapter and other system
// pods on a Standard cluster, so they never take a TPU node.
type SystemPoolArgs struct {
	MachineType        string
	MinNodes, MaxNodes int
}

// ClusterArgs configures a Cluster.
type ClusterArgs struct {
	Mode               string // standard | autopilot | existing
	Project            string
	Name               string
	Location           string   // region (regional cluster) or zone
	NodeLocations      []string // zones for the nodes; empty lets GKE choose
	ReleaseChannel     string
	MinMasterVersion   string
	DeletionProtection bool
	Network            string
	Subnetwork         string
	SystemPool         SystemPoolArgs
	// Kubeconfig (existing mode): a path or contents; empty uses the ambient kubeconfig.
	Kubeconfig pulumi.StringInput
	Context    string
	// EnableDCGM turns on GKE's managed DCGM metrics (GPU clusters): GKE installs the
	// DCGM exporter and its drivers itself.
	EnableDCGM bool
	// GatewayAPI turns on GKE's Gateway API (channel standard) and, on Standard clusters,
	// the HttpLoadBalancing add-on: what GKE Inference Gateway needs from the cluster
	// (serving.routing gateway; "Deploy GKE Inference Gateway", GKE Gateway controller
	// requirements). Both are on the cluster itself, so they apply in standard and
	// autopilot mode; an existing cluster is checked before deploying instead.
	GatewayAPI bool
	// RenderDir makes the provider write manifests to a directory instead of applying them;
	// then no GKE cluster or pool is registered whatever the mode, only its name is used.
	RenderDir string
}

func (a *ClusterArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	switch a.Mode {
	case catalog.ModeStandard, catalog.ModeAutopilot:
		if a.Project == "" || a.Location == "" || a.Name == "" {
			return fmt.Errorf("mode %s needs Project, Location and Name", a.Mode)
		}
	case catalog.ModeExisting:
	default:
		return fmt.Errorf("mode %q: want standard, autopilot or existing", a.Mode)
	}
	return nil
}

// clusterIdentifier is the Kubernetes provider's clusterIdentifier: a stable name for the
// cluster, so that only a change of cluster replaces the provider and every object under it.
// Without it the provider decides from the kubeconfig, and a new context name or rotated
// credentials can replace them all. pulumi-kubernetes: "the provider will _only_ be replaced
// when `clusterIdentifier` changes; all other changes to provider configuration will be
// treated as updates" (sdk/v4 go/kubernetes/provider.go, ProviderArgs.ClusterIdentifier; its
// DiffConfig in provider/v4 pkg/provider/provider.go also drops the replacement it would
// otherwise force for a kubeconfig unknown at preview, as a GKE cluster's is while the
// cluster updates). Adding the identifier to a stack that had none is an update, not a
// replacement (same DiffConfig).
//
// A created cluster is named by its GKE resource name (projects/P/locations/L/clusters/N, the
// form pulumi-gcp's Cluster id takes), known at preview. An existing cluster is named by
// llmserve:cluster.name, which the user controls: the kubeconfig, its context and its
// credentials can change freely; a new cluster.name means another cluster.
func (a *ClusterArgs) clusterIdentifier() string {
	if a.Mode == catalog.ModeExisting {
		return "existing/" + a.Name
	}
	return fmt.Sprintf("projects/%s/locations/%s/clusters/%s", a.Project, a.Location, a.Name)
}

// Cluster is a GKE cluster (Standard or Autopilot) with Workload Identity, the GCS FUSE CSI
// driver and Managed Prometheus, or an existing cluster reached through a kubeconfig. Either
// way it exports the Kubernetes provider every Kubernetes component must use.
type Cluster struct {
	pulumi.ResourceState
	Cluster    *container.Cluster  // nil in existing mode
	SystemPool *container.NodePool // Standard only
	Provider   *kubernetes.Provider
	Name       pulumi.StringOutput
	// Kubeconfig is secret: for an existing cluster it may hold credentials.
	Kubeconfig pulumi.StringOutput
}

// NewCluster creates the cluster (or adopts an existing one) and its Kubernetes provider.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("cluster %q: %w", name, err)
	}
	c := &Cluster{}
	if err := ctx.RegisterComponentResource(TypeCluster, name, c, opts...); err != nil {
		return nil, err
	}
	if args.Mode == catalog.ModeExisting || args.RenderDir != "" {
		c.Name = pulumi.String(args.Name).ToStringOutput()
		kc := args.Kubeconfig
		if kc == nil {
			kc = pulumi.String("")
		}
		c.Kubeconfig = pulumi.ToSecret(kc).(pulumi.StringOutput)
	} else {
		if err := c.createGKE(ctx, name, args); err != nil {
			return nil, fmt.Errorf("cluster %q: %w", name, err)
		}
	}
	provArgs := &kubernetes.ProviderArgs{Kubeconfig: c.Kubeconfig, ClusterIdentifier: pulumi.String(args.clusterIdentifier())}
	if args.Context != "" {
		provArgs.Context = pulumi.String(args.Context)
	}
	provOpts := []pulumi.ResourceOption{pulumi.Parent(c)}
	if c.Cluster != nil {
		// The identifier stays the same when a GKE cluster is replaced under the same name (a
		// new network, say), yet every object must then be created again in the new cluster:
		// replaceWith replaces the provider, and so every object under it, whenever the
		// cluster is replaced (https://www.pulumi.com/docs/iac/concepts/resources/options/replacewith/).
		provOpts = append(provOpts, pulumi.ReplaceWith([]pulumi.Resource{c.Cluster}))
	}
	if args.RenderDir != "" {
		// Rendering talks to no cluster; the provider refuses a kubeconfig alongside it.
		provArgs = &kubernetes.ProviderArgs{RenderYamlToDirectory: pulumi.String(args.RenderDir)}
	}
	p, err := kubernetes.NewProvider(ctx, name+"-k8s", provArgs, provOpts...)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: kubernetes provider: %w", name, err)
	}
	c.Provider = p
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{"name": c.Name, "kubeconfig": c.Kubeconfig})
}

func (c *Cluster) createGKE(ctx *pulumi.Context, name string, args *ClusterArgs) error {
	ca := &container.ClusterArgs{
		Name:               pulumi.String(args.Name),
		Project:            pulumi.String(args.Project),
		Location:           pulumi.String(args.Location),
		DeletionProtection: pulumi.Bool(args.DeletionProtection),
		ReleaseChannel:     &container.ClusterReleaseChannelArgs{Channel: pulumi.String(args.ReleaseChannel)},
		// Pods get Google identities from their Kubernetes service accounts: the model
		// server reads the bucket and the adapter reads Cloud Monitoring this way.
		WorkloadIdentityConfig: &container.ClusterWorkloadIdentityConfigArgs{
			WorkloadPool: pulumi.String(args.Project + ".svc.id.goog"),
		},
		// Managed Prometheus collects what PodMonitoring resources select (seed 001:
		// on by default from GKE 1.27, set here so older clusters match).
		MonitoringConfig: &container.ClusterMonitoringConfigArgs{
			EnableComponents:  monitoringComponents(args.EnableDCGM),
			ManagedPrometheus: &container.ClusterMonitoringConfigManagedPrometheusArgs{Enabled: pulumi.Bool(true)},
		},
	}
	if args.GatewayAPI {
		// GKE installs the Gateway API CRDs and its controller (and, from
		// 1.34.0-gke.1626000, the InferencePool CRD: llm-d's GKE guide) with the standard
		// channel. The cluster must be VPC-native; new clusters are by default.
		ca.GatewayApiConfig = &container.ClusterGatewayApiConfigArgs{Channel: pulumi.String("CHANNEL_STANDARD")}
	}
	if args.MinMasterVersion != "" {
		ca.MinMasterVersion = pulumi.String(args.MinMasterVersion)
	}
	if args.Network != "" {
		ca.Network = pulumi.String(args.Network)
	}
	if args.Subnetwork != "" {
		ca.Subnetwork = pulumi.String(args.Subnetwork)
	}
	if len(args.NodeLocations) > 0 {
		ca.NodeLocations = pulumi.ToStringArray(args.NodeLocations)
	}
	if args.Mode == catalog.ModeAutopilot {
		// Autopilot manages nodes, Workload Identity, GCS FUSE and Managed Prometheus itself.
		ca.EnableAutopilot = pulumi.Bool(true)
	} else {
		// The default pool cannot be shaped; replace it with the system pool below.
		ca.RemoveDefaultNodePool = pulumi.Bool(true)
		ca.InitialNodeCount = pulumi.Int(1)
		addons := &container.ClusterAddonsConfigArgs{
			GcsFuseCsiDriverConfig: &container.ClusterAddonsConfigGcsFuseCsiDriverConfigArgs{Enabled: pulumi.Bool(true)},
		}
		if args.GatewayAPI {
			// On by default, but a cluster created without it cannot run GKE Gateways;
			// say so rather than rely on the default. (Autopilot manages its add-ons.)
			addons.HttpLoadBalancing = &container.ClusterAddonsConfigHttpLoadBalancingArgs{Disabled: pulumi.Bool(false)}
		}
		ca.AddonsConfig = addons
	}
	cl, err := container.NewCluster(ctx, name+"-gke", ca, pulumi.Parent(c))
	if err != nil {
		return fmt.Errorf("gke cluster: %w", err)
	}
	c.Cluster, c.Name = cl, cl.Name
	if args.Mode == catalog.ModeStandard {
		sp, err := container.NewNodePool(ctx, name+"-system", &container.NodePoolArgs{
			Project:  pulumi.String(args.Project),
			Cluster:  cl.Name,
			Location: cl.Location,
			Autoscaling: &container.NodePoolAutoscalingArgs{
				TotalMinNodeCount: pulumi.Int(args.SystemPool.MinNodes),
				TotalMaxNodeCount: pulumi.Int(args.SystemPool.MaxNodes),
			},
			InitialNodeCount: pulumi.Int(max(args.SystemPool.MinNodes, 1)),
			NodeConfig: &container.NodePoolNodeConfigArgs{
				MachineType: pulumi.String(args.SystemPool.MachineType),
				OauthScopes: pulumi.StringArray{pulumi.String("https://www.googleapis.com/auth/cloud-platform")},
				// GKE_METADATA serves Workload Identity tokens to pods on the node.
				WorkloadMetadataConfig: &container.NodePoolNodeConfigWorkloadMetadataConfigArgs{Mode: pulumi.String("GKE_METADATA")},
			},
			Management: &container.NodePoolManagementArgs{AutoRepair: pulumi.Bool(true), AutoUpgrade: pulumi.Bool(true)},
		}, pulumi.Parent(c))
		if err != nil {
			return fmt.Errorf("system node pool: %w", err)
		}
		c.SystemPool = sp
	}
	c.Kubeconfig = pulumi.ToSecret(gkeKubeconfig(cl)).(pulumi.StringOutput)
	return nil
}

// gkeKubeconfig authenticates with gke-gcloud-auth-plugin, as GKE has required since 1.26,
// so no long-lived credential is ever stored in state.
func gkeKubeconfig(cl *container.Cluster) pulumi.StringOutput {
	ca := cl.MasterAuth.ClusterCaCertificate().Elem()
	return pulumi.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: https://%[2]s
    certificate-authority-data: %[3]s
contexts:
- name: %[1]s
  context: {cluster: %[1]s, user: %[1]s}
current-context: %[1]s
users:
- name: %[1]s
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin)
      provideClusterInfo: true
`, cl.Name, cl.Endpoint, ca)
}

// monitoringComponents are the cluster's monitoring components: system ones, plus DCGM for
// GPUs ("GKE installs the DCGM-Exporter tool, installs Google-managed GPU drivers, and
// deploys a ClusterPodMonitoring resource", GKE "Collect and view DCGM metrics"; the
// component is DCGM in the API, gcloud --monitoring=SYSTEM,DCGM).
func monitoringComponents(dcgm bool) pulumi.StringArray {
	c := pulumi.StringArray{pulumi.String("SYSTEM_COMPONENTS")}
	if dcgm {
		c = append(c, pulumi.String("DCGM"))
	}
	return c
}
