package components

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Pod Security Standards levels (https://kubernetes.io/docs/concepts/security/pod-security-standards).
// Every namespace llmserve creates enforces the strictest level its pods pass, and warns and
// audits at restricted, so that what keeps a workload at baseline stays visible.
const (
	PSSRestricted = "restricted"
	PSSBaseline   = "baseline"
	// PSSPrivileged is for the DCGM exporter alone (components.DCGMNamespace says why).
	PSSPrivileged = "privileged"
	// LabelPSSEnforce and the others are Pod Security Admission's namespace labels.
	LabelPSSEnforce = "pod-security.kubernetes.io/enforce"
	LabelPSSWarn    = "pod-security.kubernetes.io/warn"
	LabelPSSAudit   = "pod-security.kubernetes.io/audit"
)

// pssLabels are the namespace labels that enforce level and warn/audit at restricted.
func pssLabels(level string) map[string]string {
	return map[string]string{LabelPSSEnforce: level, LabelPSSWarn: PSSRestricted, LabelPSSAudit: PSSRestricted}
}

// withLabels returns base plus extra, copying: callers' maps are never changed.
func withLabels(base map[string]string, extra map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// runAs says which user a container runs as: 0 keeps the image's own user (root for the
// server images: vllm/vllm-tpu, vllm/vllm-openai, maxengine-server and jetstream-http have
// no USER line), any other value runs it as that non-root user.
type runAs int64

// rootImage marks an image that runs as root; llmserve does not override its user.
const rootImage runAs = 0

// containerSecurity is the securityContext of every container llmserve writes: no privilege
// escalation, every capability dropped ("ALL" in capitals: Pod Security's restricted check
// compares the exact string, kubernetes/kubernetes pod-security-admission
// check_capabilities_restricted.go; prometheus-adapter's chart writes "all", which fails
// it), RuntimeDefault seccomp, and a non-root user where the image allows one. add lists
// capabilities the container needs back (restricted allows only NET_BIND_SERVICE).
func containerSecurity(user runAs, add ...string) *corev1.SecurityContextArgs {
	caps := &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})}
	if len(add) > 0 {
		caps.Add = pulumi.ToStringArray(add)
	}
	sc := &corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false),
		Privileged:               pulumi.Bool(false),
		Capabilities:             caps,
		SeccompProfile:           &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
	if user != rootImage {
		sc.RunAsNonRoot = pulumi.Bool(true)
		sc.RunAsUser = pulumi.Int(int(user))
		sc.RunAsGroup = pulumi.Int(int(user))
	}
	return sc
}

// podSecurity is the pod-level securityContext: RuntimeDefault seccomp for every container,
// including the ones webhooks inject (the GCS FUSE sidecar sets its own, restricted,
// context: gcs-fuse-csi-driver pkg/webhook/sidecar_spec.go), and non-root when user is.
func podSecurity(user runAs) *corev1.PodSecurityContextArgs {
	sc := &corev1.PodSecurityContextArgs{
		SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
	if user != rootImage {
		sc.RunAsNonRoot = pulumi.Bool(true)
		sc.RunAsUser = pulumi.Int(int(user))
		sc.RunAsGroup = pulumi.Int(int(user))
		sc.FsGroup = pulumi.Int(int(user))
	}
	return sc
}
