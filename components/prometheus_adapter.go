package components

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	apiregv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiregistration/v1"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"go.yaml.in/yaml/v3"
)

// The objects below are those of the prometheus-community chart prometheus-adapter 5.3.0
// (appVersion v0.12.0; charts/prometheus-adapter/templates @ the commits named on each),
// with the values llmserve used to pass it, built as typed objects: nothing is downloaded
// at deploy time, preview and render show every object, and the apiserver test layer
// checks them.
const (
	// PrometheusAdapterName names the adapter's objects (the chart's fullname for a release
	// called prometheus-adapter).
	PrometheusAdapterName = "prometheus-adapter"
	// prometheusAdapterPort is the chart's listenPort (--secure-port), unprivileged.
	prometheusAdapterPort = 6443
	// prometheusAdapterUser is the image's own user (Dockerfile: USER 65534).
	prometheusAdapterUser runAs = 65534
)

// PrometheusAdapterArgs configures a PrometheusAdapter.
type PrometheusAdapterArgs struct {
	Kube      Kube
	Namespace string
	// CreateNamespace creates Namespace (labelled Pod Security restricted); false when
	// another component made it (the Managed Prometheus frontend).
	CreateNamespace bool
	Image           string
	// PrometheusURL is where the adapter queries (scheme, host, port): the Managed
	// Prometheus frontend or the Prometheus Operator's Prometheus.
	PrometheusURL string
	Rules         AdapterRules
}

func (a *PrometheusAdapterArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if err := a.Kube.validate(); err != nil {
		return err
	}
	if a.Namespace == "" || a.PrometheusURL == "" || a.Image == "" {
		return errors.New("Namespace, PrometheusURL and Image are required")
	}
	if len(a.Rules.Custom)+len(a.Rules.External) == 0 {
		return errors.New("no rules: nothing for the HPA to read")
	}
	return nil
}

// PrometheusAdapter is kubernetes-sigs/prometheus-adapter with rules generated from the
// HPA's metric declarations. It serves custom.metrics.k8s.io (Pods metrics) and
// external.metrics.k8s.io; only one adapter may serve them in a cluster.
type PrometheusAdapter struct {
	pulumi.ResourceState
	Namespace   *corev1.Namespace // nil when not created here
	ConfigMap   *corev1.ConfigMap
	Deployment  *appsv1.Deployment
	Service     *corev1.Service
	APIServices []*apiregv1.APIService
	// Config is the adapter's config.yaml, for tests and review.
	Config string
}

// adapterConfig is prometheus-adapter's config file: the chart's templates/configmap.yaml
// (@ 4232be4) writes rules.custom under rules:, rules.external under externalRules:.
type adapterConfig struct {
	Rules         []AdapterRule `yaml:"rules,omitempty"`
	ExternalRules []AdapterRule `yaml:"externalRules,omitempty"`
}

// NewPrometheusAdapter creates the adapter's objects.
func NewPrometheusAdapter(ctx *pulumi.Context, name string, args *PrometheusAdapterArgs, opts ...pulumi.ResourceOption) (*PrometheusAdapter, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("prometheus adapter %q: %w", name, err)
	}
	raw, err := yaml.Marshal(adapterConfig{Rules: args.Rules.Custom, ExternalRules: args.Rules.External})
	if err != nil {
		return nil, fmt.Errorf("prometheus adapter %q: config: %w", name, err)
	}
	a := &PrometheusAdapter{Config: string(raw)}
	if err := ctx.RegisterComponentResource(TypePrometheusAdapter, name, a, opts...); err != nil {
		return nil, err
	}
	if err := a.build(ctx, name, args); err != nil {
		return nil, fmt.Errorf("prometheus adapter %q: %w", name, err)
	}
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{"namespace": pulumi.String(args.Namespace)})
}

func (a *PrometheusAdapter) build(ctx *pulumi.Context, name string, args *PrometheusAdapterArgs) error {
	k := args.Kube
	labels := map[string]string{LabelName: PrometheusAdapterName, LabelComponent: "metrics-adapter"}
	var ns pulumi.StringInput = pulumi.String(args.Namespace)
	if args.CreateNamespace {
		n, err := corev1.NewNamespace(ctx, name+"-ns", &corev1.NamespaceArgs{
			Metadata: k.meta(args.Namespace, nil, withLabels(labels, pssLabels(PSSRestricted)), nil),
		}, k.opts(a)...)
		if err != nil {
			return fmt.Errorf("namespace: %w", err)
		}
		a.Namespace, ns = n, n.Metadata.Name().Elem()
	}
	if _, err := corev1.NewServiceAccount(ctx, name+"-ksa", &corev1.ServiceAccountArgs{
		Metadata: k.meta(PrometheusAdapterName, ns, labels, nil),
	}, k.opts(a)...); err != nil {
		return fmt.Errorf("service account: %w", err)
	}
	if err := a.rbac(ctx, name, k, ns, labels, args.Rules); err != nil {
		return err
	}
	cm, err := corev1.NewConfigMap(ctx, name+"-config", &corev1.ConfigMapArgs{
		Metadata: k.meta(PrometheusAdapterName, ns, labels, nil),
		Data:     pulumi.StringMap{"config.yaml": pulumi.String(a.Config)},
	}, k.opts(a)...)
	if err != nil {
		return fmt.Errorf("config map: %w", err)
	}
	a.ConfigMap = cm
	if err := a.workload(ctx, name, args, ns, labels); err != nil {
		return err
	}
	// APIServices as the chart's custom-metrics-apiservice.yaml (@ a3b5c8e) and
	// external-metrics-apiservice.yaml (@ 533a7cd): one per API that has rules.
	apis := []struct {
		group string
		rules int
	}{{"custom.metrics.k8s.io", len(args.Rules.Custom)}, {"external.metrics.k8s.io", len(args.Rules.External)}}
	for _, api := range apis {
		if api.rules == 0 {
			continue
		}
		apiName := "v1beta1." + api.group
		s, err := apiregv1.NewAPIService(ctx, name+"-"+apiName, &apiregv1.APIServiceArgs{
			Metadata: k.meta(apiName, nil, labels, nil),
			Spec: &apiregv1.APIServiceSpecArgs{
				Group: pulumi.String(api.group), Version: pulumi.String("v1beta1"),
				GroupPriorityMinimum: pulumi.Int(100), VersionPriority: pulumi.Int(100),
				// The adapter serves a self-signed certificate (--cert-dir), as the chart's
				// default (no tls, no cert-manager).
				InsecureSkipTLSVerify: pulumi.Bool(true),
				Service:               &apiregv1.ServiceReferenceArgs{Name: a.Service.Metadata.Name().Elem(), Namespace: ns},
			},
		}, k.opts(a)...)
		if err != nil {
			return fmt.Errorf("apiservice %s: %w", apiName, err)
		}
		a.APIServices = append(a.APIServices, s)
	}
	return nil
}

// rbac is the chart's RBAC (templates @ 750b388, 9ffc172, 10e391f, 105d739, 1fb4f9e): the
// adapter reads namespaces, pods and services, delegates authn/authz to kube-apiserver, and
// the HPA controller may read the metrics APIs it serves.
func (a *PrometheusAdapter) rbac(ctx *pulumi.Context, name string, k Kube, ns pulumi.StringInput, labels map[string]string, rules AdapterRules) error {
	adapter := rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"), Name: pulumi.String(PrometheusAdapterName), Namespace: ns}}
	hpa := rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"), Name: pulumi.String("horizontal-pod-autoscaler"), Namespace: pulumi.String("kube-system")}}
	role := func(suffix string, rules rbacv1.PolicyRuleArgs) error {
		_, err := rbacv1.NewClusterRole(ctx, name+"-"+suffix+"-role", &rbacv1.ClusterRoleArgs{
			Metadata: k.meta(PrometheusAdapterName+"-"+suffix, nil, labels, nil),
			Rules:    rbacv1.PolicyRuleArray{rules},
		}, k.opts(a)...)
		if err != nil {
			return fmt.Errorf("cluster role %s: %w", suffix, err)
		}
		return nil
	}
	binding := func(suffix, roleName string, subjects rbacv1.SubjectArray) error {
		_, err := rbacv1.NewClusterRoleBinding(ctx, name+"-"+suffix, &rbacv1.ClusterRoleBindingArgs{
			Metadata: k.meta(PrometheusAdapterName+"-"+suffix, nil, labels, nil),
			RoleRef:  roleRef("ClusterRole", roleName),
			Subjects: subjects,
		}, k.opts(a)...)
		if err != nil {
			return fmt.Errorf("cluster role binding %s: %w", suffix, err)
		}
		return nil
	}
	verbs := pulumi.ToStringArray([]string{"get", "list", "watch"})
	if err := role("resource-reader", rbacv1.PolicyRuleArgs{
		ApiGroups: pulumi.ToStringArray([]string{""}),
		Resources: pulumi.ToStringArray([]string{"namespaces", "pods", "services", "configmaps"}),
		Verbs:     verbs,
	}); err != nil {
		return err
	}
	if err := binding("resource-reader", PrometheusAdapterName+"-resource-reader", adapter); err != nil {
		return err
	}
	if err := binding("system-auth-delegator", "system:auth-delegator", adapter); err != nil {
		return err
	}
	if _, err := rbacv1.NewRoleBinding(ctx, name+"-auth-reader", &rbacv1.RoleBindingArgs{
		Metadata: k.meta(PrometheusAdapterName+"-auth-reader", pulumi.String("kube-system"), labels, nil),
		RoleRef:  roleRef("Role", "extension-apiserver-authentication-reader"),
		Subjects: adapter,
	}, k.opts(a)...); err != nil {
		return fmt.Errorf("role binding auth-reader: %w", err)
	}
	if len(rules.Custom) > 0 {
		if err := role("server-resources", rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{"custom.metrics.k8s.io"}),
			Resources: pulumi.ToStringArray([]string{"*"}),
			Verbs:     pulumi.ToStringArray([]string{"*"}),
		}); err != nil {
			return err
		}
		// The chart's template binds this role to the adapter itself; the HPA controller
		// is the reader of custom metrics (kubernetes-sigs/prometheus-adapter
		// deploy/manifests: hpa-controller-custom-metrics -> horizontal-pod-autoscaler).
		if err := binding("hpa-controller", PrometheusAdapterName+"-server-resources", hpa); err != nil {
			return err
		}
	}
	if len(rules.External) > 0 {
		if err := role("external-metrics", rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{"external.metrics.k8s.io"}),
			Resources: pulumi.ToStringArray([]string{"*"}),
			Verbs:     verbs,
		}); err != nil {
			return err
		}
		if err := binding("hpa-controller-external-metrics", PrometheusAdapterName+"-external-metrics", hpa); err != nil {
			return err
		}
	}
	return nil
}

// workload is the chart's deployment.yaml (@ 3617085) and service.yaml (@ a8e89e1) with
// its default values (values.yaml @ 4e2b8db), tolerating accelerator taints.
func (a *PrometheusAdapter) workload(ctx *pulumi.Context, name string, args *PrometheusAdapterArgs, ns pulumi.StringInput, labels map[string]string) error {
	k := args.Kube
	selector := map[string]string{LabelName: PrometheusAdapterName}
	sum := sha256.Sum256([]byte(a.Config))
	probe := func() *corev1.ProbeArgs {
		return &corev1.ProbeArgs{
			HttpGet:             &corev1.HTTPGetActionArgs{Path: pulumi.String("/healthz"), Port: pulumi.String("https"), Scheme: pulumi.String("HTTPS")},
			InitialDelaySeconds: pulumi.Int(30),
			TimeoutSeconds:      pulumi.Int(5),
		}
	}
	var tolerations corev1.TolerationArray
	// Accelerator nodes may be all there is (Autopilot).
	for _, key := range []string{catalog.ResourceTPU, catalog.ResourceGPU} {
		tolerations = append(tolerations, corev1.TolerationArgs{
			Key: pulumi.String(key), Operator: pulumi.String("Exists"), Effect: pulumi.String("NoSchedule"),
		})
	}
	sc := containerSecurity(prometheusAdapterUser)
	sc.ReadOnlyRootFilesystem = pulumi.Bool(true) // as the chart: only /tmp is written
	dep, err := appsv1.NewDeployment(ctx, name+"-deployment", &appsv1.DeploymentArgs{
		Metadata: k.meta(PrometheusAdapterName, ns, labels, nil),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels: pulumi.ToStringMap(withLabels(labels, selector)),
					// A new rule set restarts the adapter, which reads its config once.
					Annotations: pulumi.StringMap{"llmserve.dev/config-sha256": pulumi.String(hex.EncodeToString(sum[:]))},
				},
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName: pulumi.String(PrometheusAdapterName),
					Tolerations:        tolerations,
					SecurityContext:    podSecurity(prometheusAdapterUser),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("prometheus-adapter"),
						Image: pulumi.String(args.Image),
						Args: pulumi.ToStringArray([]string{
							"/adapter",
							fmt.Sprintf("--secure-port=%d", prometheusAdapterPort),
							"--cert-dir=/tmp/cert",
							"--prometheus-url=" + args.PrometheusURL,
							"--metrics-relist-interval=1m",
							"--v=4",
							"--config=/etc/adapter/config.yaml",
						}),
						Ports:          corev1.ContainerPortArray{port("https", prometheusAdapterPort)},
						LivenessProbe:  probe(),
						ReadinessProbe: probe(),
						VolumeMounts: corev1.VolumeMountArray{
							corev1.VolumeMountArgs{Name: pulumi.String("config"), MountPath: pulumi.String("/etc/adapter/"), ReadOnly: pulumi.Bool(true)},
							corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
						},
						SecurityContext: sc,
					}},
					Volumes: corev1.VolumeArray{
						corev1.VolumeArgs{Name: pulumi.String("config"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: a.ConfigMap.Metadata.Name().Elem()}},
						corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{}},
					},
				},
			},
		},
	}, k.opts(a)...)
	if err != nil {
		return fmt.Errorf("deployment: %w", err)
	}
	a.Deployment = dep
	svc, err := corev1.NewService(ctx, name+"-service", &corev1.ServiceArgs{
		Metadata: k.meta(PrometheusAdapterName, ns, labels, nil),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.ToStringMap(selector),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("https"), Port: pulumi.Int(443), TargetPort: pulumi.String("https"), Protocol: pulumi.String("TCP"),
			}},
		},
	}, k.opts(a)...)
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	a.Service = svc
	return nil
}
