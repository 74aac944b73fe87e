package stacks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Why: pulumi-kubernetes before 4.29 creates with server-side apply, an upsert: registering
// a Namespace that already exists silently adopts it, and `destroy` then deletes it with
// everything in it (pulumi-kubernetes v4.29.0 release notes, #2926, made AlreadyExists the
// default). llmserve pins 4.25, so it checks itself: every object it creates carries
// components.LabelStack, and a namespace it would create that exists without this stack's
// label is refused before anything is registered. Using a namespace without managing it is
// explicit (serving.createNamespace false, metrics.installAdapter or installDCGMExporter false); taking one over
// is explicit too (label it for the stack).

// ownedNamespaces are the namespaces the stack creates on the cluster.
func ownedNamespaces(cfg *Config) []string {
	var ns []string
	if *cfg.Serving.CreateNamespace {
		ns = append(ns, cfg.Serving.Namespace)
	}
	if *cfg.Metrics.InstallAdapter && cfg.Metrics.Adapter != catalog.AdapterNone {
		ns = append(ns, components.AdapterNamespace)
	}
	if *cfg.Metrics.InstallDCGMExporter {
		ns = append(ns, components.DCGMNamespace)
	}
	return ns
}

// checkNamespaceOwnership refuses to create a namespace that exists in the cluster and does
// not belong to this stack. It runs for an existing cluster (a cluster this stack creates
// holds nothing it did not create), not when rendering (no cluster is reached).
func checkNamespaceOwnership(cfg *Config, stack string) error {
	if cfg.Cluster.Mode != catalog.ModeExisting || cfg.RenderDir != "" {
		return nil
	}
	names := ownedNamespaces(cfg)
	if len(names) == 0 {
		return nil
	}
	cs, err := clusterClient(cfg.Cluster.Kubeconfig, cfg.Cluster.Context)
	if err != nil {
		return fmt.Errorf("checking that the namespaces llmserve creates are not someone else's: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var problems []error
	for _, name := range names {
		ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("checking namespace %s: %w", name, err)
		}
		owner := ns.Labels[components.LabelStack]
		if owner == components.StackLabelValue(stack) {
			continue
		}
		fix := "set llmserve:serving.createNamespace false to use it without managing it"
		switch name {
		case components.AdapterNamespace:
			fix = "set llmserve:metrics.installAdapter false if the adapter there serves this cluster already"
		case components.DCGMNamespace:
			fix = "set llmserve:metrics.installDCGMExporter false if a DCGM exporter runs in this cluster already"
		}
		problems = append(problems, fmt.Errorf("namespace %s: already exists and was not created by stack %s (label %s=%q); llmserve would adopt it and delete it, with everything in it, on destroy. %s, or, if this stack should own it: kubectl label namespace %s %s=%s --overwrite",
			name, stack, components.LabelStack, owner, fix, name, components.LabelStack, components.StackLabelValue(stack)))
	}
	return errors.Join(problems...)
}

// clusterClient connects as the Kubernetes provider would: kubeconfig is a path or the
// file's contents (llmserve:kubeconfig), empty for the ambient kubeconfig.
func clusterClient(kubeconfig, kubeContext string) (kubernetes.Interface, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	var cc clientcmd.ClientConfig
	switch {
	case kubeconfig == "":
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	case isFile(kubeconfig):
		rules.ExplicitPath = kubeconfig
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	default:
		raw, err := clientcmd.Load([]byte(kubeconfig))
		if err != nil {
			return nil, fmt.Errorf("llmserve:kubeconfig: %w", err)
		}
		cc = clientcmd.NewNonInteractiveClientConfig(*raw, kubeContext, overrides, nil)
	}
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

func isFile(p string) bool {
	if strings.ContainsAny(p, "\n") {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
