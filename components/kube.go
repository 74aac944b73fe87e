package components

import (
	"errors"
	"strings"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Kube is what every Kubernetes component needs besides its own arguments.
type Kube struct {
	// Provider is required: Pulumi.yaml disables the default Kubernetes provider so that a
	// forgotten provider fails loudly instead of using whatever kubeconfig is current.
	Provider pulumi.ProviderResource
	// SkipAwait annotates every object pulumi.com/skipAwait, for clusters where nothing
	// becomes ready (no kubelet: envtest, the kwok lab).
	SkipAwait bool
	// Stack labels every object with LabelStack: whose it is. llmserve refuses to create a
	// namespace that exists without its stack's label (stacks: checkNamespaceOwnership).
	Stack string
}

func (k Kube) validate() error {
	if k.Provider == nil {
		return errors.New("Kube.Provider is required (every Kubernetes object gets an explicit provider)")
	}
	return nil
}

// opts returns the options every Kubernetes child takes.
func (k Kube) opts(parent pulumi.Resource, extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(k.Provider)}, extra...)
}

// Common labels on every object llmserve makes (Kubernetes recommended labels).
const (
	LabelName      = "app.kubernetes.io/name"
	LabelComponent = "app.kubernetes.io/component"
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelStack names the Pulumi stack that created an object.
	LabelStack = "llmserve.dev/stack"
)

// StackLabelValue is stack as a label value (at most 63 letters, digits, '-', '_', '.').
func StackLabelValue(stack string) string {
	var b strings.Builder
	for _, r := range stack {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	v := b.String()
	if len(v) > 63 {
		v = v[:63]
	}
	return strings.Trim(v, "-_.")
}

// meta builds ObjectMeta with llmserve's labels and, when asked, the skipAwait annotation.
func (k Kube) meta(name string, namespace pulumi.StringInput, labels, annotations map[string]string) *metav1.ObjectMetaArgs {
	l := map[string]string{LabelPartOf: "llmserve", LabelManagedBy: "pulumi"}
	if k.Stack != "" {
		l[LabelStack] = StackLabelValue(k.Stack)
	}
	for key, v := range labels {
		l[key] = v
	}
	a := map[string]string{}
	for key, v := range annotations {
		a[key] = v
	}
	if k.SkipAwait {
		a["pulumi.com/skipAwait"] = "true"
	}
	m := &metav1.ObjectMetaArgs{Name: pulumi.String(name), Labels: pulumi.ToStringMap(l)}
	if namespace != nil {
		m.Namespace = namespace
	}
	if len(a) > 0 {
		m.Annotations = pulumi.ToStringMap(a)
	}
	return m
}
