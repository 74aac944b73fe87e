package components

import (
	"errors"

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
)

// meta builds ObjectMeta with llmserve's labels and, when asked, the skipAwait annotation.
func (k Kube) meta(name string, namespace pulumi.StringInput, labels, annotations map[string]string) *metav1.ObjectMetaArgs {
	l := map[string]string{LabelPartOf: "llmserve", LabelManagedBy: "pulumi"}
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
