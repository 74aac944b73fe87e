package components

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	"github.com/prometheus/common/model"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The objects below are those of NVIDIA's dcgm-exporter Helm chart 4.8.3 (NVIDIA/dcgm-exporter
// deployment/, Chart.yaml, values.yaml and templates/daemonset.yaml @ 7ad5832; service.yaml
// @ 24958d4, service-monitor.yaml @ 1f7abdb, _helpers.tpl @ 023b575), with the values
// llmserve used to pass the chart (GPU toleration, GKE accelerator affinity, a 15 s
// ServiceMonitor), built as typed objects: nothing is downloaded at deploy time, preview and
// render show every object, and the apiserver test layer checks them. Left out of the chart:
// its metrics ConfigMap (the image's own /etc/dcgm-exporter/default-counters.csv, copied from
// etc/ by docker/Dockerfile.distroless, lists DCGM_FI_DEV_GPU_UTIL already) and the
// TLS/basic-auth/pod-label options, which the chart leaves off by default.
const (
	// DCGMNamespace holds the exporter. Its container runs as root with CAP_SYS_ADMIN
	// (values.yaml: "Required for profiling metrics (DCGM_FI_PROF_*)") and mounts the
	// kubelet's pod-resources directory from the host: Pod Security baseline refuses both
	// (non-default capabilities, hostPath volumes), so it has a namespace of its own that
	// enforces privileged, and the serving namespace stays baseline.
	DCGMNamespace = "dcgm-exporter"
	// DCGMExporterName names the exporter's objects (the chart's fullname for a release called
	// dcgm-exporter).
	DCGMExporterName = "dcgm-exporter"
	// dcgmPort is the chart's service.port and address (":9400"), port name "metrics".
	dcgmPort = 9400
	// dcgmPodResources is where the exporter reads which pod holds which GPU (the chart's
	// kubeletPath), for the namespace/pod labels DCGM_EXPORTER_KUBERNETES adds.
	dcgmPodResources = "/var/lib/kubelet/pod-resources"
)

// DCGMExporterArgs configures a DCGMExporter.
type DCGMExporterArgs struct {
	Kube  Kube
	Image string
	// Interval is how often the Prometheus Operator scrapes the exporter.
	Interval string
	// MonitorLabels are added to the ServiceMonitor so that the cluster's Prometheus selects
	// it (llmserve:metrics.monitorLabels).
	MonitorLabels map[string]string
}

func (a *DCGMExporterArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if err := a.Kube.validate(); err != nil {
		return err
	}
	if a.Image == "" {
		return errors.New("Image is required")
	}
	if _, err := model.ParseDuration(a.Interval); err != nil {
		return fmt.Errorf("interval: %w", err)
	}
	return nil
}

// DCGMExporter is NVIDIA's DCGM exporter on every GPU node, with the Service and the
// ServiceMonitor the Prometheus Operator scrapes it through: GPU utilisation per GPU, labelled
// with the pod that holds it. For clusters llmserve did not create, which may not be GKE: on
// GKE NVIDIA's fails ("NVML not found", NVIDIA/dcgm-exporter#484) and GKE runs its own
// managed exporter when the cluster enables DCGM (OperatorMonitoring.ScrapeGKEDCGM scrapes it).
type DCGMExporter struct {
	pulumi.ResourceState
	Namespace      *corev1.Namespace
	DaemonSet      *appsv1.DaemonSet
	Service        *corev1.Service
	ServiceMonitor *apiextensions.CustomResource
}

// NewDCGMExporter creates the exporter's namespace, service account, DaemonSet, Service and
// ServiceMonitor.
func NewDCGMExporter(ctx *pulumi.Context, name string, args *DCGMExporterArgs, opts ...pulumi.ResourceOption) (*DCGMExporter, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("dcgm exporter %q: %w", name, err)
	}
	d := &DCGMExporter{}
	if err := ctx.RegisterComponentResource(TypeDCGMExporter, name, d, opts...); err != nil {
		return nil, err
	}
	if err := d.build(ctx, name, args); err != nil {
		return nil, fmt.Errorf("dcgm exporter %q: %w", name, err)
	}
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{"namespace": d.Namespace.Metadata.Name()})
}

func (d *DCGMExporter) build(ctx *pulumi.Context, name string, args *DCGMExporterArgs) error {
	k := args.Kube
	// The chart's selectorLabels (app.kubernetes.io/name and instance) select the pods.
	selector := map[string]string{LabelName: DCGMExporterName, "app.kubernetes.io/instance": DCGMExporterName}
	labels := withLabels(selector, map[string]string{LabelComponent: "dcgm-exporter"})
	ns, err := corev1.NewNamespace(ctx, name+"-ns", &corev1.NamespaceArgs{
		Metadata: k.meta(DCGMNamespace, nil, withLabels(labels, pssLabels(PSSPrivileged)), nil),
	}, k.opts(d)...)
	if err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	d.Namespace = ns
	nsName := ns.Metadata.Name().Elem()
	// serviceaccount.yaml; the chart mounts no token unless pod labels or DRA need the API.
	ksa, err := corev1.NewServiceAccount(ctx, name+"-ksa", &corev1.ServiceAccountArgs{
		Metadata:                     k.meta(DCGMExporterName, nsName, labels, nil),
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, k.opts(d)...)
	if err != nil {
		return fmt.Errorf("service account: %w", err)
	}
	probe := func(period int) *corev1.ProbeArgs {
		p := &corev1.ProbeArgs{
			HttpGet:             &corev1.HTTPGetActionArgs{Path: pulumi.String("/health"), Port: pulumi.Int(dcgmPort), Scheme: pulumi.String("HTTP")},
			InitialDelaySeconds: pulumi.Int(45),
		}
		if period > 0 {
			p.PeriodSeconds = pulumi.Int(period)
		}
		return p
	}
	ds, err := appsv1.NewDaemonSet(ctx, name+"-daemonset", &appsv1.DaemonSetArgs{
		Metadata: k.meta(DCGMExporterName, nsName, labels, nil),
		Spec: &appsv1.DaemonSetSpecArgs{
			UpdateStrategy: &appsv1.DaemonSetUpdateStrategyArgs{
				Type:          pulumi.String("RollingUpdate"),
				RollingUpdate: &appsv1.RollingUpdateDaemonSetArgs{MaxUnavailable: pulumi.Int(1), MaxSurge: pulumi.Int(0)},
			},
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: &corev1.PodSpecArgs{
					PriorityClassName:            pulumi.String("system-node-critical"),
					HostPID:                      pulumi.Bool(false),
					ServiceAccountName:           ksa.Metadata.Name().Elem(),
					AutomountServiceAccountToken: pulumi.Bool(false),
					// As llmserve's values for the chart: GPU nodes only (GKE labels them with
					// their accelerator type), tolerating their taint.
					Affinity: &corev1.AffinityArgs{NodeAffinity: &corev1.NodeAffinityArgs{
						RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelectorArgs{
							NodeSelectorTerms: corev1.NodeSelectorTermArray{corev1.NodeSelectorTermArgs{
								MatchExpressions: corev1.NodeSelectorRequirementArray{corev1.NodeSelectorRequirementArgs{
									Key: pulumi.String(catalog.LabelGKEAccelerator), Operator: pulumi.String("Exists"),
								}},
							}},
						},
					}},
					Tolerations: corev1.TolerationArray{corev1.TolerationArgs{
						Key: pulumi.String(catalog.ResourceGPU), Operator: pulumi.String("Exists"), Effect: pulumi.String("NoSchedule"),
					}},
					Volumes: corev1.VolumeArray{corev1.VolumeArgs{
						Name:     pulumi.String("pod-gpu-resources"),
						HostPath: &corev1.HostPathVolumeSourceArgs{Path: pulumi.String(dcgmPodResources)},
					}},
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("exporter"),
						Image: pulumi.String(args.Image),
						Env: corev1.EnvVarArray{
							// Labels each GPU's series with the pod using it (namespace, pod,
							// container), which the GPU utilisation rule groups by.
							corev1.EnvVarArgs{Name: pulumi.String("DCGM_EXPORTER_KUBERNETES"), Value: pulumi.String("true")},
							corev1.EnvVarArgs{Name: pulumi.String("DCGM_EXPORTER_LISTEN"), Value: pulumi.String(fmt.Sprintf(":%d", dcgmPort))},
							corev1.EnvVarArgs{Name: pulumi.String("DCGM_EXPORTER_WEB_READ_TIMEOUT"), Value: pulumi.String("10s")},
							corev1.EnvVarArgs{Name: pulumi.String("DCGM_EXPORTER_WEB_WRITE_TIMEOUT"), Value: pulumi.String("30s")},
							corev1.EnvVarArgs{Name: pulumi.String("NODE_NAME"), ValueFrom: &corev1.EnvVarSourceArgs{
								FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String("spec.nodeName")},
							}},
						},
						Ports: corev1.ContainerPortArray{port("metrics", dcgmPort)},
						VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
							Name: pulumi.String("pod-gpu-resources"), MountPath: pulumi.String(dcgmPodResources), ReadOnly: pulumi.Bool(true),
						}},
						LivenessProbe:  probe(5),
						ReadinessProbe: probe(0),
						Resources: &corev1.ResourceRequirementsArgs{
							Limits:   pulumi.StringMap{"cpu": pulumi.String("200m"), "memory": pulumi.String("512Mi")},
							Requests: pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("128Mi")},
						},
						// The chart's securityContext, as it is: root, every capability dropped
						// but SYS_ADMIN (profiling metrics), no privilege escalation. No seccomp
						// profile, as upstream: none of its samples shows DCGM profiling under
						// RuntimeDefault, and nothing here can show it on a GPU.
						SecurityContext: &corev1.SecurityContextArgs{
							RunAsNonRoot:             pulumi.Bool(false),
							RunAsUser:                pulumi.Int(0),
							AllowPrivilegeEscalation: pulumi.Bool(false),
							Capabilities: &corev1.CapabilitiesArgs{
								Add:  pulumi.ToStringArray([]string{"SYS_ADMIN"}),
								Drop: pulumi.ToStringArray([]string{"ALL"}),
							},
						},
					}},
				},
			},
		},
	}, k.opts(d)...)
	if err != nil {
		return fmt.Errorf("daemonset: %w", err)
	}
	d.DaemonSet = ds
	svc, err := corev1.NewService(ctx, name+"-service", &corev1.ServiceArgs{
		Metadata: k.meta(DCGMExporterName, nsName, labels, nil),
		Spec: &corev1.ServiceSpecArgs{
			Type:                  pulumi.String("ClusterIP"),
			InternalTrafficPolicy: pulumi.String("Cluster"),
			Selector:              pulumi.ToStringMap(selector),
			Ports:                 corev1.ServicePortArray{svcPort("metrics", dcgmPort)},
		},
	}, k.opts(d)...)
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	d.Service = svc
	sm, err := apiextensions.NewCustomResource(ctx, name+"-servicemonitor", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
		Kind:       pulumi.String("ServiceMonitor"),
		Metadata:   k.meta(DCGMExporterName, nsName, withLabels(labels, args.MonitorLabels), nil),
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"selector":          pulumi.Map{"matchLabels": pulumi.ToStringMap(selector)},
			"namespaceSelector": pulumi.Map{"matchNames": pulumi.StringArray{nsName}},
			"endpoints": pulumi.Array{pulumi.Map{
				"port": pulumi.String("metrics"), "path": pulumi.String("/metrics"),
				"interval": pulumi.String(args.Interval), "honorLabels": pulumi.Bool(false),
			}},
		}},
	}, k.opts(d, pulumi.DependsOn([]pulumi.Resource{svc}))...)
	if err != nil {
		return fmt.Errorf("servicemonitor: %w", err)
	}
	d.ServiceMonitor = sm
	return nil
}
