package tests

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kubeRef names an object for failure messages: Kind namespace/name.
func kubeRef(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + " " + o.GetName()
	}
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// namedConfig is a stack config with a subtest name.
type namedConfig struct {
	name string
	cfg  stackConfig
}

// securityConfigs are the stack shapes whose pods differ: each engine, GPUs, each metrics
// path.
func securityConfigs(t *testing.T) []namedConfig {
	return []namedConfig{
		{"dev", devConfig(t)},
		{"jetstream", devConfig(t).with("llmserve:model", "gemma-7b").without("llmserve:overrides")},
		{"gpu", gpuConfig(t)},
		{"seed000-prometheus-adapter", seed000Config(t)},
		{"seed002-prometheus-operator", seed002Config(t)},
		{"seed002-no-gcp", seed002NoGCP(t)},
		{"buffer", bufferConfig(t)},
		{"gateway", gatewayConfig(t)},
	}
}

// dcgmNamespace is where NVIDIA's DCGM exporter runs: the one namespace that enforces Pod
// Security privileged, because the exporter's upstream spec (CAP_SYS_ADMIN, a hostPath
// volume) is refused at baseline (components.DCGMNamespace).
const dcgmNamespace = "dcgm-exporter"

// checkDCGMExporterContainer holds the exporter's container to upstream's securityContext
// and nothing more: root with every capability dropped but SYS_ADMIN, no privilege
// escalation, not privileged.
func checkDCGMExporterContainer(t *testing.T, ref string, sc map[string]any) {
	assert.Equal(t, false, sc["allowPrivilegeEscalation"], ref)
	assert.NotEqual(t, true, sc["privileged"], ref)
	assert.Equal(t, []any{"ALL"}, dig(t, sc, "capabilities.drop"), ref)
	assert.Equal(t, []any{"SYS_ADMIN"}, dig(t, sc, "capabilities.add"), ref)
}

// podSpecOf returns the pod spec of a workload object, or nil for other kinds.
func podSpecOf(t *testing.T, o *unstructured.Unstructured) map[string]any {
	var path []string
	switch o.GetKind() {
	case "Deployment", "DaemonSet", "StatefulSet", "Job", "ReplicaSet":
		path = []string{"spec", "template", "spec"}
	case "Pod":
		path = []string{"spec"}
	default:
		return nil
	}
	spec, ok, err := unstructured.NestedMap(o.Object, path...)
	require.NoError(t, err)
	require.True(t, ok, "%s has no pod spec", kubeRef(o))
	return spec
}

// containersOf returns every container and init container of a pod spec.
func containersOf(spec map[string]any) []map[string]any {
	var out []map[string]any
	for _, key := range []string{"initContainers", "containers"} {
		list, _ := spec[key].([]any)
		for _, c := range list {
			out = append(out, c.(map[string]any))
		}
	}
	return out
}

// TestHardenedPods (issue 11, point 7): every container llmserve writes runs with no
// privilege escalation, every capability dropped ("ALL", the exact string Pod Security
// checks), only NET_BIND_SERVICE added back, RuntimeDefault seccomp; and every namespace
// llmserve creates enforces a Pod Security level its pods pass (non-root pods where it is
// restricted).
func TestHardenedPods(t *testing.T) {
	for _, tc := range securityConfigs(t) {
		t.Run(tc.name, func(t *testing.T) {
			objs := kubeObjects(t, mustRun(t, "dev", tc.cfg))
			levels := map[string]string{}
			for _, o := range objs {
				if o.GetKind() == "Namespace" {
					levels[o.GetName()] = o.GetLabels()["pod-security.kubernetes.io/enforce"]
					allowed := []string{"baseline", "restricted"}
					if o.GetName() == dcgmNamespace {
						allowed = []string{"privileged"}
					}
					assert.Contains(t, allowed, levels[o.GetName()], "namespace %s: Pod Security enforce label", o.GetName())
					assert.Equal(t, "restricted", o.GetLabels()["pod-security.kubernetes.io/warn"], "namespace %s", o.GetName())
				}
			}
			pods := 0
			for _, o := range objs {
				spec := podSpecOf(t, o)
				if spec == nil {
					continue
				}
				pods++
				podSC, _ := spec["securityContext"].(map[string]any)
				for _, c := range containersOf(spec) {
					ref := kubeRef(o) + " container " + c["name"].(string)
					sc, _ := c["securityContext"].(map[string]any)
					require.NotNil(t, sc, "%s: no securityContext", ref)
					if o.GetNamespace() == dcgmNamespace {
						checkDCGMExporterContainer(t, ref, sc)
						continue
					}
					assert.Equal(t, false, sc["allowPrivilegeEscalation"], ref)
					assert.NotEqual(t, true, sc["privileged"], ref)
					drop, _ := dig(t, sc, "capabilities").(map[string]any)["drop"].([]any)
					assert.Contains(t, drop, "ALL", "%s: capabilities.drop", ref)
					if add, ok := dig(t, sc, "capabilities").(map[string]any)["add"].([]any); ok {
						for _, a := range add {
							assert.Equal(t, "NET_BIND_SERVICE", a, "%s: capabilities.add", ref)
						}
					}
					seccomp := ""
					for _, s := range []map[string]any{podSC, sc} {
						if p, ok := s["seccompProfile"].(map[string]any); ok {
							seccomp = p["type"].(string)
						}
					}
					assert.Equal(t, "RuntimeDefault", seccomp, "%s: seccompProfile", ref)
					if levels[o.GetNamespace()] == "restricted" {
						nonRoot := sc["runAsNonRoot"] == true || podSC["runAsNonRoot"] == true
						assert.True(t, nonRoot, "%s: runAsNonRoot in a restricted namespace", ref)
					}
				}
			}
			assert.NotZero(t, pods, "no workload")
			assert.False(t, slices.Contains(objKinds(objs), ""), "unnamed kind")
		})
	}
}

func objKinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind())
	}
	return out
}
