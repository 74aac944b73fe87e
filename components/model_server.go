package components

import (
	"errors"
	"fmt"
	"sort"

	"github.com/llmserve/llmserve/catalog"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ModelServerArgs configures a ModelServer.
type ModelServerArgs struct {
	Kube      Kube
	Namespace pulumi.StringInput
	// Name names every object (the Deployment, Service, PDB) and the pods' app label.
	Name           string
	ServiceAccount string
	Engine         string // vllm | jetstream
	Model          string
	Image          string
	Port           int
	VLLM           VLLMArgs
	JetStream      JetStreamArgs
	Env            map[string]string
	CPU, Memory    string
	// HFSecretName names the Secret with the Hugging Face token; empty for none.
	HFSecretName string
	// Pool is where the server runs: its selector and accelerators are used as they are.
	Pool                  PoolCapacity
	GCSFuse               GCSFuseArgs
	SharedMemorySize      string
	XLACache              XLACacheArgs
	StartupTimeoutSeconds int
	ProbePeriodSeconds    int
	// MaxReplicas is the HPA's bound; with the pool's size it decides whether a rolling
	// update may add a pod (surge) or must replace one in place.
	MaxReplicas int
	Exposure    string
}

func (a *ModelServerArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if err := a.Kube.validate(); err != nil {
		return err
	}
	var errs []error
	if a.Namespace == nil || a.Name == "" || a.ServiceAccount == "" || a.Model == "" || a.Image == "" {
		errs = append(errs, errors.New("Namespace, Name, ServiceAccount, Model and Image are required"))
	}
	if a.Engine != catalog.EngineVLLM && a.Engine != catalog.EngineJetStream {
		errs = append(errs, fmt.Errorf("engine %q: want vllm or jetstream", a.Engine))
	}
	if a.Pool.Resource == "" || a.Pool.PerNode < 1 || len(a.Pool.Selector) == 0 {
		errs = append(errs, errors.New("Pool is required: the server takes its node selector and accelerators from it"))
	} else if need := a.MaxReplicas * a.Pool.PerNode; need > a.Pool.MaxUnits() {
		errs = append(errs, fmt.Errorf("%d replicas need %d %s; the pool holds %d", a.MaxReplicas, need, a.Pool.Resource, a.Pool.MaxUnits()))
	}
	if a.GCSFuse.Bucket == nil || a.GCSFuse.MountPath == "" {
		errs = append(errs, errors.New("GCSFuse.Bucket and GCSFuse.MountPath are required"))
	}
	if a.ProbePeriodSeconds < 1 || a.StartupTimeoutSeconds < a.ProbePeriodSeconds {
		errs = append(errs, errors.New("ProbePeriodSeconds must be >= 1 and <= StartupTimeoutSeconds"))
	}
	switch a.Exposure {
	case catalog.ExposureCluster, catalog.ExposureInternal, catalog.ExposurePublic:
	default:
		errs = append(errs, fmt.Errorf("exposure %q: want cluster, internal or public", a.Exposure))
	}
	return errors.Join(errs...)
}

// ModelServer is the inference server: a Deployment on the accelerator pool with the model
// bucket mounted through GCS FUSE and a safe XLA cache, its Service and a
// PodDisruptionBudget.
type ModelServer struct {
	pulumi.ResourceState
	Deployment *appsv1.Deployment
	Service    *corev1.Service
	PDB        *policyv1.PodDisruptionBudget
	// WeightsJob seeds the bucket with the model once (vLLM: download; JetStream: the
	// checkpoint conversion); the servers wait for its output.
	WeightsJob *batchv1.Job
	// Selector matches the server's pods (for the PodMonitoring).
	Selector map[string]string
	// MetricsPort (a port name) and MetricsPath are where the server exports metrics.
	MetricsPort, MetricsPath string
	// Port and HealthPath are where the server answers requests and health checks (for
	// the gateway's InferencePool and health check).
	Port       int
	HealthPath string
	// Namespace is the server's namespace as given (an output of the namespace's creation
	// when llmserve creates it): objects beside the server take it to wait for the
	// namespace, not for the server.
	Namespace      pulumi.StringInput
	DeploymentName pulumi.StringOutput
}

// NewModelServer creates the Deployment, Service and PDB.
func NewModelServer(ctx *pulumi.Context, name string, args *ModelServerArgs, opts ...pulumi.ResourceOption) (*ModelServer, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("model server %q: %w", name, err)
	}
	s := &ModelServer{Selector: map[string]string{LabelName: args.Name, LabelComponent: "model-server"}}
	if err := ctx.RegisterComponentResource(TypeModelServer, name, s, opts...); err != nil {
		return nil, err
	}
	k := args.Kube
	env := args.env()
	// The server only reads the bucket: weights come from the download (or conversion)
	// Job, and the XLA cache is published by its own sidecar.
	mounts := corev1.VolumeMountArray{
		corev1.VolumeMountArgs{Name: pulumi.String(ModelVolume), MountPath: pulumi.String(args.GCSFuse.MountPath), ReadOnly: pulumi.Bool(true)},
		corev1.VolumeMountArgs{Name: pulumi.String("dshm"), MountPath: pulumi.String("/dev/shm")},
	}
	mounts = append(mounts, args.XLACache.mount()...)
	eng := args.engine(env, mounts)
	s.MetricsPort, s.MetricsPath = eng.metricsPort, eng.metricsPath
	s.Port, s.HealthPath, s.Namespace = args.Port, eng.healthPath, args.Namespace

	volumes := args.GCSFuse.volumes()
	// vLLM's workers exchange tensors through shared memory; the default 64Mi is too small.
	volumes = append(volumes, corev1.VolumeArgs{Name: pulumi.String("dshm"), EmptyDir: emptyDir("Memory", args.SharedMemorySize)})
	volumes = append(volumes, args.XLACache.volumes()...)
	healthURL := fmt.Sprintf("http://127.0.0.1:%d%s", args.Port, eng.healthPath)

	strategy := args.rollout()
	dep, err := appsv1.NewDeployment(ctx, name+"-deployment", &appsv1.DeploymentArgs{
		Metadata: k.meta(args.Name, args.Namespace, s.Selector, nil),
		Spec: &appsv1.DeploymentSpecArgs{
			// No replicas: the HPA owns the count, and Pulumi must not reset it on update.
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(s.Selector)},
			Strategy: strategy,
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels:      pulumi.ToStringMap(s.Selector),
					Annotations: pulumi.ToStringMap(args.GCSFuse.annotations()),
				},
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName: pulumi.String(args.ServiceAccount),
					NodeSelector:       pulumi.ToStringMap(args.Pool.Selector),
					// GKE taints accelerator nodes with the resource name (google.com/tpu,
					// nvidia.com/gpu); pods asking for it must tolerate it.
					Tolerations: corev1.TolerationArray{corev1.TolerationArgs{
						Key: pulumi.String(args.Pool.Resource), Operator: pulumi.String("Exists"), Effect: pulumi.String("NoSchedule"),
					}},
					// The server images run as root (no USER line: vllm-project/tpu-inference
					// docker/Dockerfile.pypi, ai-on-gke jetstream Dockerfiles), so the pod
					// passes Pod Security baseline, not restricted; TPUs need no privilege
					// from GKE 1.28 ("About TPUs in GKE").
					SecurityContext: podSecurity(rootImage),
					InitContainers: append(corev1.ContainerArray{args.weightsWaitContainer(eng.weightsReady)},
						args.XLACache.initContainers(args.Image, args.GCSFuse.MountPath, healthURL)...),
					Containers: eng.containers,
					Volumes:    volumes,
					// Give in-flight requests time to finish on scale-down.
					TerminationGracePeriodSeconds: pulumi.Int(60),
				},
			},
		},
	}, k.opts(s)...)
	if err != nil {
		return nil, fmt.Errorf("model server %q: deployment: %w", name, err)
	}
	s.Deployment, s.DeploymentName = dep, dep.Metadata.Name().Elem()
	switch {
	case args.Engine == catalog.EngineVLLM:
		s.WeightsJob, err = s.vllmWeightsJob(ctx, name, args)
	case args.JetStream.CheckpointSource != "":
		s.WeightsJob, err = s.jetstreamCheckpointJob(ctx, name, args)
	}
	if err != nil {
		return nil, fmt.Errorf("model server %q: %w", name, err)
	}

	if err := s.expose(ctx, name, args, eng); err != nil {
		return nil, fmt.Errorf("model server %q: %w", name, err)
	}
	// One pod at a time may be evicted (node upgrades, scale-down of the pool).
	pdb, err := policyv1.NewPodDisruptionBudget(ctx, name+"-pdb", &policyv1.PodDisruptionBudgetArgs{
		Metadata: k.meta(args.Name, args.Namespace, s.Selector, nil),
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(1),
			Selector:       &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(s.Selector)},
		},
	}, k.opts(s)...)
	if err != nil {
		return nil, fmt.Errorf("model server %q: pdb: %w", name, err)
	}
	s.PDB = pdb
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{
		"deployment": s.DeploymentName,
		"service":    s.Service.Metadata.Name().Elem(),
	})
}

// rollout keeps serving through a rolling update when it can: a surge pod needs one more
// slice, so the update surges (maxSurge 1, maxUnavailable 0: the old pod serves until the
// new one is ready, even at one replica) when the pool holds more slices than the HPA's
// maximum; otherwise a surge pod could wait forever for a node, and the update replaces one
// pod at a time (maxSurge 0, maxUnavailable 1). Kubernetes' own default (25%/25%) rounds
// to surge 1 / unavailable 0 at one replica, which is the surge case (apps/v1
// RollingUpdateDeployment field docs).
func (a *ModelServerArgs) rollout() *appsv1.DeploymentStrategyArgs {
	surge, unavailable := 1, 0
	if a.Pool.MaxNodes <= a.MaxReplicas {
		surge, unavailable = 0, 1
	}
	return &appsv1.DeploymentStrategyArgs{
		Type: pulumi.String("RollingUpdate"),
		RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{
			MaxSurge:       pulumi.Int(surge),
			MaxUnavailable: pulumi.Int(unavailable),
		},
	}
}

// env is the server's environment. It holds no Hugging Face token: the server loads
// weights the download Job left in the bucket, offline.
func (a *ModelServerArgs) env() corev1.EnvVarArray {
	var env corev1.EnvVarArray
	if a.Engine == catalog.EngineVLLM {
		// Never reach the Hub: a server that tried would write the read-only bucket.
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String("HF_HUB_OFFLINE"), Value: pulumi.String("1")})
	}
	env = append(env, a.XLACache.env(a.Engine)...)
	keys := make([]string, 0, len(a.Env))
	for k := range a.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, corev1.EnvVarArgs{Name: pulumi.String(k), Value: pulumi.String(a.Env[k])})
	}
	return env
}

// hfTokenEnv passes the Hugging Face token to the download Job.
func (a *ModelServerArgs) hfTokenEnv() corev1.EnvVarArray {
	var env corev1.EnvVarArray
	if a.HFSecretName != "" {
		// huggingface_hub reads HF_TOKEN; HUGGING_FACE_HUB_TOKEN is the older name seed 003 uses.
		for _, n := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
			env = append(env, corev1.EnvVarArgs{
				Name: pulumi.String(n),
				ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
					Name: pulumi.String(a.HFSecretName), Key: pulumi.String(HFTokenKey),
				}},
			})
		}
	}
	return env
}

func (s *ModelServer) expose(ctx *pulumi.Context, name string, args *ModelServerArgs, eng engineSpec) error {
	svcType, ann := "ClusterIP", map[string]string{}
	switch args.Exposure {
	case catalog.ExposureInternal:
		svcType = "LoadBalancer"
		ann["networking.gke.io/load-balancer-type"] = "Internal"
	case catalog.ExposurePublic:
		svcType = "LoadBalancer"
		_ = ctx.Log.Warn(fmt.Sprintf("%s: serving.exposure is public: the model answers anyone on the internet, without authentication", args.Name), nil)
	}
	var ports corev1.ServicePortArray
	for _, p := range eng.servicePort {
		ports = append(ports, p)
	}
	svc, err := corev1.NewService(ctx, name+"-service", &corev1.ServiceArgs{
		Metadata: args.Kube.meta(args.Name, args.Namespace, s.Selector, ann),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String(svcType),
			Selector: pulumi.ToStringMap(s.Selector),
			Ports:    ports,
		},
	}, args.Kube.opts(s)...)
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	s.Service = svc
	return nil
}
