package components

import (
	"errors"
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// HFTokenKey is the key of the token in the Hugging Face Secret (seed 003's hf_api_token).
const HFTokenKey = "hf_api_token"

// ServingNamespaceArgs configures a ServingNamespace.
type ServingNamespaceArgs struct {
	Kube            Kube
	Namespace       string
	CreateNamespace bool
	ServiceAccount  string
	// HFToken, when set, is stored as a Secret named SecretName. Pass a secret output: it
	// stays encrypted in state and is never printed. SecretName without HFToken refers the
	// server to a Secret created outside Pulumi.
	HFToken    pulumi.StringInput
	SecretName string
	Labels     map[string]string
}

func (a *ServingNamespaceArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if err := a.Kube.validate(); err != nil {
		return err
	}
	if a.Namespace == "" || a.ServiceAccount == "" {
		return errors.New("Namespace and ServiceAccount are required")
	}
	if a.HFToken != nil && a.SecretName == "" {
		return errors.New("SecretName is required with HFToken")
	}
	return nil
}

// ServingNamespace is the namespace a model server runs in, prepared for it: the Namespace
// (when created here), the Kubernetes ServiceAccount that the ModelStore's Workload Identity grant
// names, and the Hugging Face token Secret.
type ServingNamespace struct {
	pulumi.ResourceState
	Namespace          *corev1.Namespace // nil when not created here
	ServiceAccount     *corev1.ServiceAccount
	Secret             *corev1.Secret // nil without a token
	NamespaceName      pulumi.StringOutput
	ServiceAccountName string
	SecretName         string
}

// NewServingNamespace creates the namespace, service account and token secret.
func NewServingNamespace(ctx *pulumi.Context, name string, args *ServingNamespaceArgs, opts ...pulumi.ResourceOption) (*ServingNamespace, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("serving namespace %q: %w", name, err)
	}
	s := &ServingNamespace{ServiceAccountName: args.ServiceAccount}
	// Renamed from ServingAccount: the alias keeps existing stacks' URNs (and, through the
	// parent, their children's).
	opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Type: pulumi.String(typeServingAccountOld)}}))
	if err := ctx.RegisterComponentResource(TypeServingNamespace, name, s, opts...); err != nil {
		return nil, err
	}
	k := args.Kube
	s.NamespaceName = pulumi.String(args.Namespace).ToStringOutput()
	if args.CreateNamespace {
		// The servers run as root (see ModelServer): baseline is the strictest level they
		// pass; restricted is warned and audited.
		ns, err := corev1.NewNamespace(ctx, name+"-ns", &corev1.NamespaceArgs{
			Metadata: k.meta(args.Namespace, nil, withLabels(args.Labels, pssLabels(PSSBaseline)), nil),
		}, k.opts(s)...)
		if err != nil {
			return nil, fmt.Errorf("serving namespace %q: namespace: %w", name, err)
		}
		// Reading the name from the object makes everything in it wait for it.
		s.Namespace, s.NamespaceName = ns, ns.Metadata.Name().Elem()
	}
	sa, err := corev1.NewServiceAccount(ctx, name+"-ksa", &corev1.ServiceAccountArgs{
		Metadata: k.meta(args.ServiceAccount, s.NamespaceName, args.Labels, nil),
	}, k.opts(s)...)
	if err != nil {
		return nil, fmt.Errorf("serving namespace %q: service account: %w", name, err)
	}
	s.ServiceAccount = sa
	outputs := pulumi.Map{"namespace": s.NamespaceName, "serviceAccount": pulumi.String(args.ServiceAccount)}
	if args.HFToken != nil {
		sec, err := corev1.NewSecret(ctx, name+"-hf-token", &corev1.SecretArgs{
			Metadata: k.meta(args.SecretName, s.NamespaceName, args.Labels, nil),
			Type:     pulumi.String("Opaque"),
			// ToSecret again so that a plain input passed by mistake is still encrypted.
			StringData: pulumi.StringMap{HFTokenKey: pulumi.ToSecret(args.HFToken).(pulumi.StringOutput)},
		}, k.opts(s, pulumi.AdditionalSecretOutputs([]string{"data", "stringData"}))...)
		if err != nil {
			return nil, fmt.Errorf("serving namespace %q: hf token secret: %w", name, err)
		}
		s.Secret = sec
	}
	// A SecretName without a token names a Secret made outside Pulumi (render mode).
	s.SecretName = args.SecretName
	if s.SecretName != "" {
		outputs["secret"] = pulumi.String(s.SecretName)
	}
	return s, ctx.RegisterResourceOutputs(s, outputs)
}
