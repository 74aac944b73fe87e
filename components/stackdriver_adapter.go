package components

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	apiregv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiregistration/v1"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// StackdriverAdapterArgs configures a StackdriverAdapter.
type StackdriverAdapterArgs struct {
	Kube  Kube
	Image string // pinned: gcr.io/gke-release/custom-metrics-stackdriver-adapter:<version>
	// Tolerations let the adapter run on accelerator nodes when they are the only nodes
	// (Autopilot, or a cluster without a system pool).
	TolerateAccelerators bool
}

// StackdriverAdapter installs the Custom Metrics Stackdriver Adapter as typed objects, the
// same as GoogleCloudPlatform/k8s-stackdriver custom-metrics-stackdriver-adapter/deploy/
// production/adapter_new_resource_model.yaml (commit 0857364d), with nothing fetched at
// deploy time. It serves custom.metrics.k8s.io (Pods metrics such as
// prometheus.googleapis.com|vllm:num_requests_waiting|gauge) and external.metrics.k8s.io.
// Its Cloud Monitoring permission is the AdapterIAM component.
type StackdriverAdapter struct {
	pulumi.ResourceState
	Namespace   *corev1.Namespace
	Deployment  *appsv1.Deployment
	Service     *corev1.Service
	APIServices []*apiregv1.APIService
	// Bindings holds every ClusterRoleBinding and RoleBinding, for tests and audits.
	Bindings []pulumi.Resource
}

// adapterAPIs are the API versions the adapter serves (group, version, version priority).
var adapterAPIs = []struct {
	group, version string
	priority       int
}{
	{"custom.metrics.k8s.io", "v1beta1", 100},
	{"custom.metrics.k8s.io", "v1beta2", 200},
	{"external.metrics.k8s.io", "v1beta1", 100},
}

func (a *StackdriverAdapterArgs) validate() error {
	if a == nil || a.Image == "" {
		return errors.New("Image is required")
	}
	return a.Kube.validate()
}

// NewStackdriverAdapter creates the adapter's namespace, identity, RBAC, Deployment,
// Service and APIServices.
func NewStackdriverAdapter(ctx *pulumi.Context, name string, args *StackdriverAdapterArgs, opts ...pulumi.ResourceOption) (*StackdriverAdapter, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("stackdriver adapter %q: %w", name, err)
	}
	a := &StackdriverAdapter{}
	if err := ctx.RegisterComponentResource(TypeStackdriverAdapter, name, a, opts...); err != nil {
		return nil, err
	}
	if err := a.build(ctx, name, args); err != nil {
		return nil, fmt.Errorf("stackdriver adapter %q: %w", name, err)
	}
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{"namespace": pulumi.String(AdapterNamespace)})
}

func (a *StackdriverAdapter) build(ctx *pulumi.Context, name string, args *StackdriverAdapterArgs) error {
	k := args.Kube
	labels := map[string]string{"k8s-app": AdapterServiceAccount, LabelComponent: "metrics-adapter"}
	// The adapter runs as the image's user (root, as upstream's manifest leaves it): the
	// namespace enforces baseline.
	ns, err := corev1.NewNamespace(ctx, name+"-ns", &corev1.NamespaceArgs{
		Metadata: k.meta(AdapterNamespace, nil, withLabels(labels, pssLabels(PSSBaseline)), nil),
	}, k.opts(a)...)
	if err != nil {
		return fmt.Errorf("namespace: %w", err)
	}
	a.Namespace = ns
	nsName := ns.Metadata.Name().Elem()
	if _, err := corev1.NewServiceAccount(ctx, name+"-ksa", &corev1.ServiceAccountArgs{
		Metadata: k.meta(AdapterServiceAccount, nsName, labels, nil),
	}, k.opts(a)...); err != nil {
		return fmt.Errorf("service account: %w", err)
	}
	if err := a.rbac(ctx, name, k, nsName, labels); err != nil {
		return err
	}
	if err := a.workload(ctx, name, args, nsName, labels); err != nil {
		return err
	}
	for _, api := range adapterAPIs {
		svcName := a.Service.Metadata.Name().Elem()
		apiName := api.version + "." + api.group
		s, err := apiregv1.NewAPIService(ctx, name+"-"+apiName, &apiregv1.APIServiceArgs{
			Metadata: k.meta(apiName, nil, labels, nil),
			Spec: &apiregv1.APIServiceSpecArgs{
				Group:                pulumi.String(api.group),
				Version:              pulumi.String(api.version),
				GroupPriorityMinimum: pulumi.Int(100),
				VersionPriority:      pulumi.Int(api.priority),
				// As upstream: the adapter serves a self-signed certificate.
				InsecureSkipTLSVerify: pulumi.Bool(true),
				Service:               &apiregv1.ServiceReferenceArgs{Name: svcName, Namespace: nsName},
			},
		}, k.opts(a)...)
		if err != nil {
			return fmt.Errorf("apiservice %s: %w", apiName, err)
		}
		a.APIServices = append(a.APIServices, s)
	}
	return nil
}

func adapterSubject(ns pulumi.StringInput) rbacv1.SubjectArray {
	return rbacv1.SubjectArray{rbacv1.SubjectArgs{
		Kind: pulumi.String("ServiceAccount"), Name: pulumi.String(AdapterServiceAccount), Namespace: ns,
	}}
}

func roleRef(kind, name string) rbacv1.RoleRefArgs {
	return rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String(kind), Name: pulumi.String(name)}
}

func (a *StackdriverAdapter) rbac(ctx *pulumi.Context, name string, k Kube, ns pulumi.StringInput, labels map[string]string) error {
	// The adapter is an aggregated API server: it delegates authn/authz to kube-apiserver.
	crb := func(suffix, bindingName, role string, subjects rbacv1.SubjectArray) error {
		b, err := rbacv1.NewClusterRoleBinding(ctx, name+"-"+suffix, &rbacv1.ClusterRoleBindingArgs{
			Metadata: k.meta(bindingName, nil, labels, nil),
			RoleRef:  roleRef("ClusterRole", role),
			Subjects: subjects,
		}, k.opts(a)...)
		if err != nil {
			return fmt.Errorf("cluster role binding %s: %w", bindingName, err)
		}
		a.Bindings = append(a.Bindings, b)
		return nil
	}
	if err := crb("auth-delegator", "custom-metrics:system:auth-delegator", "system:auth-delegator", adapterSubject(ns)); err != nil {
		return err
	}
	rb, err := rbacv1.NewRoleBinding(ctx, name+"-auth-reader", &rbacv1.RoleBindingArgs{
		Metadata: k.meta("custom-metrics-auth-reader", pulumi.String("kube-system"), labels, nil),
		RoleRef:  roleRef("Role", "extension-apiserver-authentication-reader"),
		Subjects: adapterSubject(ns),
	}, k.opts(a)...)
	if err != nil {
		return fmt.Errorf("role binding custom-metrics-auth-reader: %w", err)
	}
	a.Bindings = append(a.Bindings, rb)
	if _, err := rbacv1.NewClusterRole(ctx, name+"-resource-reader-role", &rbacv1.ClusterRoleArgs{
		Metadata: k.meta("custom-metrics-resource-reader", nil, labels, nil),
		Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{""}),
			Resources: pulumi.ToStringArray([]string{"pods", "nodes", "nodes/stats"}),
			Verbs:     pulumi.ToStringArray([]string{"get", "list", "watch"}),
		}},
	}, k.opts(a)...); err != nil {
		return fmt.Errorf("cluster role custom-metrics-resource-reader: %w", err)
	}
	if err := crb("resource-reader", "custom-metrics-resource-reader", "custom-metrics-resource-reader", adapterSubject(ns)); err != nil {
		return err
	}
	// The HPA controller reads external metrics as its own service account.
	if _, err := rbacv1.NewClusterRole(ctx, name+"-external-metrics-reader-role", &rbacv1.ClusterRoleArgs{
		Metadata: k.meta("external-metrics-reader", nil, labels, nil),
		Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{"external.metrics.k8s.io"}),
			Resources: pulumi.ToStringArray([]string{"*"}),
			Verbs:     pulumi.ToStringArray([]string{"list", "get", "watch"}),
		}},
	}, k.opts(a)...); err != nil {
		return fmt.Errorf("cluster role external-metrics-reader: %w", err)
	}
	hpa := rbacv1.SubjectArray{rbacv1.SubjectArgs{
		Kind: pulumi.String("ServiceAccount"), Name: pulumi.String("horizontal-pod-autoscaler"), Namespace: pulumi.String("kube-system"),
	}}
	return crb("external-metrics-reader", "external-metrics-reader", "external-metrics-reader", hpa)
}

func (a *StackdriverAdapter) workload(ctx *pulumi.Context, name string, args *StackdriverAdapterArgs, ns pulumi.StringInput, labels map[string]string) error {
	k := args.Kube
	selector := map[string]string{"k8s-app": AdapterServiceAccount}
	var tolerations corev1.TolerationArray
	if args.TolerateAccelerators {
		for _, key := range []string{catalog.ResourceTPU, "nvidia.com/gpu"} {
			tolerations = append(tolerations, corev1.TolerationArgs{
				Key: pulumi.String(key), Operator: pulumi.String("Exists"), Effect: pulumi.String("NoSchedule"),
			})
		}
	}
	res := pulumi.StringMap{"cpu": pulumi.String("250m"), "memory": pulumi.String("400Mi")}
	dep, err := appsv1.NewDeployment(ctx, name+"-deployment", &appsv1.DeploymentArgs{
		Metadata: k.meta(AdapterServiceAccount, ns, labels, nil),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(1),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(selector)},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName: pulumi.String(AdapterServiceAccount),
					Tolerations:        tolerations,
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("pod-custom-metrics-stackdriver-adapter"),
						Image: pulumi.String(args.Image),
						// The new resource model reads prometheus_target metrics (Managed
						// Prometheus); the fallback serves container metrics without
						// a pod-level series.
						Command: pulumi.ToStringArray([]string{"/adapter",
							"--use-new-resource-model=true", "--fallback-for-container-metrics=true"}),
						Resources: &corev1.ResourceRequirementsArgs{Requests: res, Limits: res},
						// Upstream's readiness probe (k8s-stackdriver PR #967, in
						// adapter_new_resource_model.yaml @ 11bc7136): /healthz over HTTPS on
						// the serving port; the Service sends nothing until the adapter
						// answers, so the HPA never sees a half-started adapter.
						ReadinessProbe: &corev1.ProbeArgs{
							HttpGet: &corev1.HTTPGetActionArgs{
								Path: pulumi.String("/healthz"), Port: pulumi.Int(443), Scheme: pulumi.String("HTTPS"),
							},
							InitialDelaySeconds: pulumi.Int(40),
							PeriodSeconds:       pulumi.Int(10),
							TimeoutSeconds:      pulumi.Int(5),
						},
						// Upstream sets no securityContext. The adapter serves on 443 as
						// root: with every capability dropped it needs NET_BIND_SERVICE back
						// to bind it (the one capability Pod Security restricted allows).
						SecurityContext: containerSecurity(rootImage, "NET_BIND_SERVICE"),
					}},
					SecurityContext: podSecurity(rootImage),
				},
			},
		},
	}, k.opts(a)...)
	if err != nil {
		return fmt.Errorf("deployment: %w", err)
	}
	a.Deployment = dep
	svc, err := corev1.NewService(ctx, name+"-service", &corev1.ServiceArgs{
		Metadata: k.meta(AdapterServiceAccount, ns, labels, nil),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.ToStringMap(selector),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Port: pulumi.Int(443), TargetPort: pulumi.Int(443), Protocol: pulumi.String("TCP"),
			}},
		},
	}, k.opts(a)...)
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	a.Service = svc
	return nil
}
