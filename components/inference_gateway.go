package components

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/catalog"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// InferenceGatewayArgs configures an InferenceGateway.
type InferenceGatewayArgs struct {
	Kube      Kube
	Namespace pulumi.StringInput
	// Name is the model's object name: the Gateway, HTTPRoute, InferencePool and the GKE
	// policies take it, the endpoint picker's objects take Name-epp.
	Name string
	// Server is what the pool selects and health-checks: the ModelServer's pod selector,
	// serving port and health path, never retyped.
	Selector   map[string]string
	Port       int
	HealthPath string
	// GatewayClass is catalog.GatewayClassInternal or, with the public consent,
	// catalog.GatewayClassExternal.
	GatewayClass string
	// Image is the endpoint picker's (catalog.EPPImage).
	Image       string
	CPU, Memory string
	// BackendTimeoutSec bounds one response through the load balancer (GCPBackendPolicy).
	BackendTimeoutSec int
}

func (a *InferenceGatewayArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if err := a.Kube.validate(); err != nil {
		return err
	}
	var errs []error
	if a.Namespace == nil || a.Name == "" || len(a.Selector) == 0 || a.Image == "" || a.HealthPath == "" {
		errs = append(errs, errors.New("Namespace, Name, Selector, HealthPath and Image are required"))
	}
	if a.Port < 1 || a.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d: want 1-65535", a.Port))
	}
	if a.GatewayClass != catalog.GatewayClassInternal && a.GatewayClass != catalog.GatewayClassExternal {
		errs = append(errs, fmt.Errorf("gateway class %q: want %s or %s", a.GatewayClass, catalog.GatewayClassInternal, catalog.GatewayClassExternal))
	}
	if a.BackendTimeoutSec < 1 {
		errs = append(errs, fmt.Errorf("backend timeout %ds: want at least 1", a.BackendTimeoutSec))
	}
	return errors.Join(errs...)
}

// InferenceGateway is GKE Inference Gateway in front of one model's replicas: a Gateway
// (a regional internal Application Load Balancer unless the stack consents to a public
// one), an HTTPRoute to an InferencePool that selects the server pods, the pool's endpoint
// picker (Deployment, Service, ServiceAccount, Role, config) and the GKE policies the
// upstream chart renders for GKE (health check and backend timeout). Built from the
// gateway-api-inference-extension v1.5.0 chart (config/charts/inferencepool and epplib)
// and the current GKE CRDs; catalog/gateway.go names every source.
type InferenceGateway struct {
	pulumi.ResourceState
	Gateway, HTTPRoute, InferencePool     *apiextensions.CustomResource
	HealthCheckPolicy, BackendPolicy      *apiextensions.CustomResource
	PickerDeployment                      *appsv1.Deployment
	PickerService                         *corev1.Service
	PickerConfig                          *corev1.ConfigMap
	PickerName, GatewayName, GatewayClass string
}

// NewInferenceGateway creates the gateway, route, pool, endpoint picker and GKE policies.
func NewInferenceGateway(ctx *pulumi.Context, name string, args *InferenceGatewayArgs, opts ...pulumi.ResourceOption) (*InferenceGateway, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("inference gateway %q: %w", name, err)
	}
	g := &InferenceGateway{PickerName: args.Name + "-epp", GatewayName: args.Name, GatewayClass: args.GatewayClass}
	if err := ctx.RegisterComponentResource(TypeInferenceGateway, name, g, opts...); err != nil {
		return nil, err
	}
	if err := g.picker(ctx, name, args); err != nil {
		return nil, fmt.Errorf("inference gateway %q: %w", name, err)
	}
	if err := g.routing(ctx, name, args); err != nil {
		return nil, fmt.Errorf("inference gateway %q: %w", name, err)
	}
	if err := g.gkePolicies(ctx, name, args); err != nil {
		return nil, fmt.Errorf("inference gateway %q: %w", name, err)
	}
	return g, ctx.RegisterResourceOutputs(g, pulumi.Map{
		"gateway":        pulumi.String(g.GatewayName),
		"gatewayClass":   pulumi.String(g.GatewayClass),
		"endpointPicker": pulumi.String(g.PickerName),
	})
}

// custom registers one custom resource with the stack's provider, labels and parent.
func (g *InferenceGateway) custom(ctx *pulumi.Context, rname, apiVersion, kind, objName string, args *InferenceGatewayArgs, spec pulumi.Map) (*apiextensions.CustomResource, error) {
	cr, err := apiextensions.NewCustomResource(ctx, rname, &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(apiVersion),
		Kind:        pulumi.String(kind),
		Metadata:    args.Kube.meta(objName, args.Namespace, map[string]string{LabelName: args.Name}, nil),
		OtherFields: kubernetes.UntypedArgs{"spec": spec},
	}, args.Kube.opts(g)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	return cr, nil
}

// routing creates the InferencePool, the Gateway and the HTTPRoute between them.
func (g *InferenceGateway) routing(ctx *pulumi.Context, name string, args *InferenceGatewayArgs) error {
	var err error
	// inferencepool/templates/inferencepool.yaml at v1.5.0, for HTTP model servers.
	// FailOpen, the chart's default: when the picker does not answer, the load balancer
	// still routes (without the picker's choice) instead of failing every request; the
	// CRD's own default is FailClose.
	g.InferencePool, err = g.custom(ctx, name+"-inferencepool", catalog.InferencePoolAPIVersion, "InferencePool", args.Name, args, pulumi.Map{
		"targetPorts": pulumi.Array{pulumi.Map{"number": pulumi.Int(args.Port)}},
		"appProtocol": pulumi.String("http"),
		"selector":    pulumi.Map{"matchLabels": pulumi.ToStringMap(args.Selector)},
		"endpointPickerRef": pulumi.Map{
			"name":        pulumi.String(g.PickerName),
			"port":        pulumi.Map{"number": pulumi.Int(catalog.EPPGRPCPort)},
			"failureMode": pulumi.String("FailOpen"),
		},
	})
	if err != nil {
		return err
	}
	// One plain-HTTP listener: the load balancer is internal by default; TLS (a
	// certificate) is the user's to add when they expose it.
	g.Gateway, err = g.custom(ctx, name+"-gateway", catalog.GatewayAPIVersionV1, "Gateway", g.GatewayName, args, pulumi.Map{
		"gatewayClassName": pulumi.String(args.GatewayClass),
		"listeners": pulumi.Array{pulumi.Map{
			"name": pulumi.String("http"), "protocol": pulumi.String("HTTP"), "port": pulumi.Int(80),
			"allowedRoutes": pulumi.Map{"namespaces": pulumi.Map{"from": pulumi.String("Same")}},
		}},
	})
	if err != nil {
		return err
	}
	// inferencepool/templates/httproute.yaml at v1.5.0: every path to the pool; no
	// HTTPRoute timeout on GKE (the chart leaves it out there), the GCPBackendPolicy sets it.
	g.HTTPRoute, err = g.custom(ctx, name+"-httproute", catalog.GatewayAPIVersionV1, "HTTPRoute", args.Name, args, pulumi.Map{
		"parentRefs": pulumi.Array{pulumi.Map{
			"group": pulumi.String(catalog.GatewayAPIGroup), "kind": pulumi.String("Gateway"), "name": pulumi.String(g.GatewayName),
		}},
		"rules": pulumi.Array{pulumi.Map{
			"matches": pulumi.Array{pulumi.Map{"path": pulumi.Map{"type": pulumi.String("PathPrefix"), "value": pulumi.String("/")}}},
			"backendRefs": pulumi.Array{pulumi.Map{
				"group": pulumi.String(catalog.InferencePoolGroup), "kind": pulumi.String("InferencePool"), "name": pulumi.String(args.Name),
			}},
		}},
	})
	return err
}

// gkePolicies are the two objects the chart renders for provider gke (inferencepool/
// templates/gke.yaml at v1.5.0), built from GKE's current CRDs: the chart's HTTP health
// check sets port without portSpecification, which the HealthCheckPolicy CRD now refuses
// (gke-gateway-api 2f7b936: USE_FIXED_PORT must come with port).
func (g *InferenceGateway) gkePolicies(ctx *pulumi.Context, name string, args *InferenceGatewayArgs) error {
	target := pulumi.Map{
		"group": pulumi.String(catalog.InferencePoolGroup), "kind": pulumi.String("InferencePool"), "name": pulumi.String(args.Name),
	}
	var err error
	g.HealthCheckPolicy, err = g.custom(ctx, name+"-healthcheck", catalog.GKEPolicyAPIVersion, "HealthCheckPolicy", args.Name, args, pulumi.Map{
		"targetRef": target,
		"default": pulumi.Map{
			// The chart's 2 s (not GKE's 5 s): a faster switch-over while pods roll.
			"timeoutSec":       pulumi.Int(2),
			"checkIntervalSec": pulumi.Int(2),
			"config": pulumi.Map{
				"type": pulumi.String("HTTP"),
				"httpHealthCheck": pulumi.Map{
					"portSpecification": pulumi.String("USE_FIXED_PORT"),
					"port":              pulumi.Int(args.Port),
					"requestPath":       pulumi.String(args.HealthPath),
				},
			},
		},
	})
	if err != nil {
		return err
	}
	// Request logging, which the chart turns on, is left at GKE's default (off): it is
	// billed per log entry, and is one line in this policy to enable.
	g.BackendPolicy, err = g.custom(ctx, name+"-backendpolicy", catalog.GKEPolicyAPIVersion, "GCPBackendPolicy", args.Name, args, pulumi.Map{
		"targetRef": target,
		"default":   pulumi.Map{"timeoutSec": pulumi.Int(args.BackendTimeoutSec)},
	})
	return err
}

// picker creates the endpoint picker: its identity and read access, its config and the
// Deployment and Service the InferencePool points at.
func (g *InferenceGateway) picker(ctx *pulumi.Context, name string, args *InferenceGatewayArgs) error {
	k, ns := args.Kube, args.Namespace
	labels := map[string]string{LabelName: g.PickerName, LabelComponent: "endpoint-picker"}
	sa, err := corev1.NewServiceAccount(ctx, name+"-epp-sa", &corev1.ServiceAccountArgs{
		Metadata: k.meta(g.PickerName, ns, labels, nil),
	}, k.opts(g)...)
	if err != nil {
		return fmt.Errorf("endpoint picker service account: %w", err)
	}
	// Read-only, in the pool's namespace only: the chart's Roles (epplib/templates/
	// _rbac.yaml: pods; inferencepool/templates/rbac.yaml: inferencepools and the optional
	// inferenceobjectives and inferencemodelrewrites), without the chart's ClusterRole for
	// tokenreviews, which it renders only when Prometheus scrapes the picker. The picker
	// needs no Google Cloud IAM: it reads Kubernetes objects and the pods' /metrics.
	read := pulumi.ToStringArray([]string{"get", "watch", "list"})
	role, err := rbacv1.NewRole(ctx, name+"-epp-role", &rbacv1.RoleArgs{
		Metadata: k.meta(g.PickerName, ns, labels, nil),
		Rules: rbacv1.PolicyRuleArray{
			rbacv1.PolicyRuleArgs{ApiGroups: pulumi.ToStringArray([]string{""}), Resources: pulumi.ToStringArray([]string{"pods"}), Verbs: read},
			rbacv1.PolicyRuleArgs{ApiGroups: pulumi.ToStringArray([]string{catalog.InferencePoolGroup}), Resources: pulumi.ToStringArray([]string{"inferencepools"}), Verbs: read},
			rbacv1.PolicyRuleArgs{ApiGroups: pulumi.ToStringArray([]string{catalog.InferenceExperimentalGroup}), Resources: pulumi.ToStringArray([]string{"inferenceobjectives", "inferencemodelrewrites"}), Verbs: read},
		},
	}, k.opts(g)...)
	if err != nil {
		return fmt.Errorf("endpoint picker role: %w", err)
	}
	if _, err := rbacv1.NewRoleBinding(ctx, name+"-epp-rolebinding", &rbacv1.RoleBindingArgs{
		Metadata: k.meta(g.PickerName, ns, labels, nil),
		RoleRef: rbacv1.RoleRefArgs{
			ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: role.Metadata.Name().Elem(),
		},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"), Name: sa.Metadata.Name().Elem(), Namespace: ns}},
	}, k.opts(g)...); err != nil {
		return fmt.Errorf("endpoint picker role binding: %w", err)
	}
	g.PickerConfig, err = corev1.NewConfigMap(ctx, name+"-epp-config", &corev1.ConfigMapArgs{
		Metadata: k.meta(g.PickerName, ns, labels, nil),
		Data:     pulumi.StringMap{catalog.EPPConfigFile: pulumi.String(catalog.EPPPluginsConfig)},
	}, k.opts(g)...)
	if err != nil {
		return fmt.Errorf("endpoint picker config: %w", err)
	}
	if err := g.pickerDeployment(ctx, name, args, labels, sa); err != nil {
		return err
	}
	g.PickerService, err = corev1.NewService(ctx, name+"-epp-service", &corev1.ServiceArgs{
		Metadata: k.meta(g.PickerName, ns, labels, nil),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.ToStringMap(labels),
			// epplib/templates/_service.yaml at v1.5.0.
			Ports: corev1.ServicePortArray{
				corev1.ServicePortArgs{Name: pulumi.String("grpc-ext-proc"), Port: pulumi.Int(catalog.EPPGRPCPort), TargetPort: pulumi.String("grpc"), Protocol: pulumi.String("TCP")},
				corev1.ServicePortArgs{Name: pulumi.String("http-metrics"), Port: pulumi.Int(catalog.EPPMetricsPort), TargetPort: pulumi.String("metrics"), Protocol: pulumi.String("TCP")},
			},
		},
	}, k.opts(g)...)
	if err != nil {
		return fmt.Errorf("endpoint picker service: %w", err)
	}
	return nil
}

// pickerArgs are the endpoint picker's flags, each checked against pkg/epp/server/
// options.go (and pkg/common/observability/logging/options.go for the zap flags) at
// v1.5.0. Metric names are not flags any more (the *-metric flags are deprecated for the
// config's core-metrics-extractor, catalog.EPPPluginsConfig).
func pickerArgs(pool string) []string {
	return []string{
		"--pool-name", pool,
		// NAMESPACE (the downward API) would do too; explicit is clearer.
		"--pool-namespace", "$(NAMESPACE)",
		"--pool-group", catalog.InferencePoolGroup,
		"--zap-encoder", "json",
		"--config-file", "/config/" + catalog.EPPConfigFile,
		// Tracing defaults to true and exports to an OTLP collector llmserve does not run
		// (the chart passes --tracing=false unless tracing is enabled).
		"--tracing=false",
		// pprof handlers default to on, on the metrics port: off, as nothing here uses them.
		"--enable-pprof=false",
	}
}

func (g *InferenceGateway) pickerDeployment(ctx *pulumi.Context, name string, args *InferenceGatewayArgs, labels map[string]string, sa *corev1.ServiceAccount) error {
	k := args.Kube
	sum := sha256.Sum256([]byte(catalog.EPPPluginsConfig))
	probe := func(period int) *corev1.ProbeArgs {
		return &corev1.ProbeArgs{
			Grpc:          &corev1.GRPCActionArgs{Port: pulumi.Int(catalog.EPPHealthPort), Service: pulumi.String(catalog.EPPHealthService)},
			PeriodSeconds: pulumi.Int(period),
		}
	}
	live := probe(10)
	live.InitialDelaySeconds = pulumi.Int(5)
	sc := containerSecurity(runAs(catalog.EPPUser))
	// The picker writes no file: its self-signed serving certificate is made in memory
	// (pkg/epp/server/runserver.go at v1.5.0, tlsutil.CreateSelfSignedTLSCertificate).
	sc.ReadOnlyRootFilesystem = pulumi.Bool(true)
	dep, err := appsv1.NewDeployment(ctx, name+"-epp-deployment", &appsv1.DeploymentArgs{
		Metadata: k.meta(g.PickerName, args.Namespace, labels, nil),
		Spec: &appsv1.DeploymentSpecArgs{
			// One active picker, replaced rather than rolled: its prefix-cache scorer keeps
			// state in memory, and the chart recommends a single replica with Recreate
			// (epplib/templates/_deployment.yaml at v1.5.0).
			Replicas: pulumi.Int(1),
			Strategy: &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")},
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.ToStringMap(labels)},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels:      pulumi.ToStringMap(labels),
					Annotations: pulumi.StringMap{"llmserve.dev/config-sha256": pulumi.String(hex.EncodeToString(sum[:]))},
				},
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName: sa.Metadata.Name().Elem(),
					// Off the accelerator pool: no toleration for the TPU or GPU taint, and
					// an affinity that refuses accelerator nodes even where they are not
					// tainted (GKE labels them cloud.google.com/gke-tpu-accelerator and
					// cloud.google.com/gke-accelerator).
					Affinity:        notOnAccelerators(),
					SecurityContext: podSecurity(runAs(catalog.EPPUser)),
					// The chart's: as long as the longest grace period in the pool.
					TerminationGracePeriodSeconds: pulumi.Int(130),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String("epp"),
						Image: pulumi.String(args.Image),
						Args:  pulumi.ToStringArray(pickerArgs(args.Name)),
						Env: corev1.EnvVarArray{
							corev1.EnvVarArgs{Name: pulumi.String("NAMESPACE"), ValueFrom: &corev1.EnvVarSourceArgs{FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String("metadata.namespace")}}},
							corev1.EnvVarArgs{Name: pulumi.String("POD_NAME"), ValueFrom: &corev1.EnvVarSourceArgs{FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String("metadata.name")}}},
						},
						Ports: corev1.ContainerPortArray{
							port("grpc", catalog.EPPGRPCPort), port("grpc-health", catalog.EPPHealthPort), port("metrics", catalog.EPPMetricsPort),
						},
						LivenessProbe:  live,
						ReadinessProbe: probe(2),
						Resources:      pickerResources(args.CPU, args.Memory),
						VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
							Name: pulumi.String("config"), MountPath: pulumi.String("/config"), ReadOnly: pulumi.Bool(true),
						}},
						SecurityContext: sc,
					}},
					Volumes: corev1.VolumeArray{corev1.VolumeArgs{
						Name:      pulumi.String("config"),
						ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: g.PickerConfig.Metadata.Name().Elem()},
					}},
				},
			},
		},
	}, k.opts(g)...)
	if err != nil {
		return fmt.Errorf("endpoint picker deployment: %w", err)
	}
	g.PickerDeployment = dep
	return nil
}

// notOnAccelerators keeps a pod off TPU and GPU nodes by GKE's node labels.
func notOnAccelerators() *corev1.AffinityArgs {
	var exprs corev1.NodeSelectorRequirementArray
	for _, key := range []string{catalog.LabelTPUAccelerator, catalog.LabelGKEAccelerator} {
		exprs = append(exprs, corev1.NodeSelectorRequirementArgs{Key: pulumi.String(key), Operator: pulumi.String("DoesNotExist")})
	}
	return &corev1.AffinityArgs{NodeAffinity: &corev1.NodeAffinityArgs{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelectorArgs{
			NodeSelectorTerms: corev1.NodeSelectorTermArray{corev1.NodeSelectorTermArgs{MatchExpressions: exprs}},
		},
	}}
}

// pickerResources requests cpu and memory and limits memory (a CPU limit only throttles).
func pickerResources(cpu, memory string) *corev1.ResourceRequirementsArgs {
	return &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(cpu), "memory": pulumi.String(memory)},
		Limits:   pulumi.StringMap{"memory": pulumi.String(memory)},
	}
}
