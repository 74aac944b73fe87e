package components

import (
	"errors"
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The Managed Prometheus frontend's identity: its Workload Identity principal is granted
// roles/monitoring.viewer (AdapterIAM with this namespace and service account).
const (
	FrontendNamespace      = AdapterNamespace
	FrontendServiceAccount = "prometheus-frontend"
	FrontendPort           = 9090
)

// frontendUser is the user upstream's example runs the frontend as.
const frontendUser runAs = 1000

// PrometheusFrontendArgs configures a PrometheusFrontend.
type PrometheusFrontendArgs struct {
	Kube    Kube
	Project string
	Image   string // gke.gcr.io/prometheus-engine/frontend:<version>
}

// PrometheusFrontend is Managed Prometheus's query frontend (seed 000): a Prometheus HTTP
// API in the cluster that answers from Cloud Monitoring, so prometheus-adapter can query
// Managed Prometheus. It runs as its own service account, with nothing else.
type PrometheusFrontend struct {
	pulumi.ResourceState
	Namespace  *corev1.Namespace
	Deployment *appsv1.Deployment
	Service    *corev1.Service
	// URL is the in-cluster address prometheus-adapter queries.
	URL string
}

func (a *PrometheusFrontendArgs) validate() error {
	if a == nil || a.Project == "" || a.Image == "" {
		return errors.New("Project and Image are required")
	}
	return a.Kube.validate()
}

// NewPrometheusFrontend creates the frontend's service account, Deployment and Service.
func NewPrometheusFrontend(ctx *pulumi.Context, name string, args *PrometheusFrontendArgs, opts ...pulumi.ResourceOption) (*PrometheusFrontend, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("prometheus frontend %q: %w", name, err)
	}
	f := &PrometheusFrontend{URL: fmt.Sprintf("http://%s.%s.svc", FrontendServiceAccount, FrontendNamespace)}
	if err := ctx.RegisterComponentResource(TypePrometheusFrontend, name, f, opts...); err != nil {
		return nil, err
	}
	k := args.Kube
	labels := map[string]string{LabelName: FrontendServiceAccount, LabelComponent: "metrics-frontend"}
	// The frontend and prometheus-adapter, which shares its namespace, run as non-root
	// users: restricted.
	nsObj, err := corev1.NewNamespace(ctx, name+"-ns", &corev1.NamespaceArgs{
		Metadata: k.meta(FrontendNamespace, nil, withLabels(labels, pssLabels(PSSRestricted)), nil),
	}, k.opts(f)...)
	if err != nil {
		return nil, fmt.Errorf("prometheus frontend %q: namespace: %w", name, err)
	}
	ns := nsObj.Metadata.Name().Elem()
	if _, err := corev1.NewServiceAccount(ctx, name+"-ksa", &corev1.ServiceAccountArgs{
		Metadata: k.meta(FrontendServiceAccount, ns, labels, nil),
	}, k.opts(f)...); err != nil {
		return nil, fmt.Errorf("prometheus frontend %q: service account: %w", name, err)
	}
	probe := func(path string) *corev1.ProbeArgs {
		return &corev1.ProbeArgs{HttpGet: &corev1.HTTPGetActionArgs{Path: pulumi.String(path), Port: pulumi.String("web")}}
	}
	dep, err := appsv1.NewDeployment(ctx, name+"-deployment", &appsv1.DeploymentArgs{
		Metadata: k.meta(FrontendServiceAccount, ns, labels, nil),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(2),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(labels)},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels)},
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName: pulumi.String(FrontendServiceAccount),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("frontend"),
						Image: pulumi.String(args.Image),
						Args: pulumi.ToStringArray([]string{
							fmt.Sprintf("--web.listen-address=:%d", FrontendPort),
							"--query.project-id=" + args.Project,
						}),
						Ports:          corev1.ContainerPortArray{port("web", FrontendPort)},
						ReadinessProbe: probe("/-/ready"),
						LivenessProbe:  probe("/-/healthy"),
						// As upstream examples/frontend.yaml (prometheus-engine @ 0388154):
						// user 1000, no privilege, every capability dropped, RuntimeDefault.
						SecurityContext: containerSecurity(frontendUser),
					}},
					SecurityContext: podSecurity(frontendUser),
				},
			},
		},
	}, k.opts(f)...)
	if err != nil {
		return nil, fmt.Errorf("prometheus frontend %q: deployment: %w", name, err)
	}
	svc, err := corev1.NewService(ctx, name+"-service", &corev1.ServiceArgs{
		Metadata: k.meta(FrontendServiceAccount, ns, labels, nil),
		Spec: &corev1.ServiceSpecArgs{
			Selector: pulumi.ToStringMap(labels),
			Ports:    corev1.ServicePortArray{svcPort("web", FrontendPort)},
		},
	}, k.opts(f)...)
	if err != nil {
		return nil, fmt.Errorf("prometheus frontend %q: service: %w", name, err)
	}
	f.Namespace, f.Deployment, f.Service = nsObj, dep, svc
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{"url": pulumi.String(f.URL)})
}
