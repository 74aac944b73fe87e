package stacks

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
)

// systemNamespaces belong to Kubernetes, GKE or llmserve's metrics adapter. Kubernetes:
// kube-system, kube-public, kube-node-lease; GKE: gke-managed-*, gke-gmp-system, gmp-system,
// gmp-public (Autopilot refuses workloads there); custom-metrics is the metrics adapter's
// (components.AdapterNamespace), dcgm-exporter the DCGM exporter's, which enforces Pod Security
// privileged (components.DCGMNamespace). Prefixes kube-, gke- and gmp- are reserved as a whole.
var (
	systemNamespacePrefixes = []string{"kube-", "gke-", "gmp-"}
	systemNamespaces        = []string{components.AdapterNamespace, components.DCGMNamespace, "istio-system", "asm-system",
		"gatekeeper-system", "config-management-system", "config-management-monitoring", "cnrm-system", "hnc-system"}
	// dns1035Re: Service names are RFC 1035 labels (start with a letter, at most 63).
	dns1035Re = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// isSystemNamespace says whether a namespace belongs to the platform.
func isSystemNamespace(ns string) bool {
	for _, p := range systemNamespacePrefixes {
		if strings.HasPrefix(ns, p) {
			return true
		}
	}
	for _, s := range systemNamespaces {
		if ns == s {
			return true
		}
	}
	return false
}

// validateNames checks names llmserve derives or places things in: the namespace, the
// Kubernetes object names, the kubeconfig, the exposure, and where the token came from.
func (c *Config) validateNames(p *problems) {
	s := c.Serving
	if isDNSLabel(s.Namespace) && isSystemNamespace(s.Namespace) {
		p.addf("llmserve:serving.namespace %q: a system namespace (kube-*, gke-*, gmp-*, %s and other platform namespaces) belongs to Kubernetes, GKE or a platform add-on; use your own, such as llm", s.Namespace, components.AdapterNamespace)
	}
	if name := c.ObjectName(); !dns1035Re.MatchString(name) {
		p.addf("llmserve:model %q: makes the Kubernetes Service name %q, which must be a DNS-1035 label (a letter first, at most 63); use a shorter profile name", c.ModelName, name)
	}
	if c.serverExposure() == catalog.ExposureInternal && c.Cluster.Mode == catalog.ModeExisting && !c.GCPResources {
		p.addf("llmserve:serving.exposure internal: the internal load balancer is GKE's (annotation networking.gke.io/load-balancer-type: Internal); with llmserve:gcpResources false the cluster need not be GKE, and other providers ignore the annotation and create their default, internet-facing load balancer; use exposure cluster")
	}
	if c.Cluster.Mode == catalog.ModeExisting && c.Cluster.Kubeconfig != "" && c.RenderDir == "" {
		checkKubeconfigPath(p, c.Cluster.Kubeconfig)
	}
	if c.hfTokenPlain {
		p.addf("llmserve:hfToken: set as plain text, so it is stored unencrypted in the stack config and state; set it with `pulumi config set --secret llmserve:hfToken <token>` ($HF_TOKEN for the llmserve command)")
	}
}

// checkKubeconfigPath checks a kubeconfig given as a path (not as contents) exists.
func checkKubeconfigPath(p *problems, kc string) {
	if strings.ContainsAny(kc, "\n{") || strings.Contains(kc, "apiVersion") {
		return // the file's contents
	}
	path := kc
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, rest)
		}
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		p.addf("llmserve:kubeconfig %q: no such file; give the path of a kubeconfig, or its contents with `pulumi config set --secret llmserve:kubeconfig < FILE`", kc)
	case st.IsDir():
		p.addf("llmserve:kubeconfig %q: is a directory; give the path of the kubeconfig file", kc)
	}
}
