package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kubeObjects turns every Kubernetes resource the program registered into the object the
// Kubernetes provider would send to the cluster, so a real apiserver can judge it. Secrets
// are revealed: the server must see the real Secret, not "[secret]".
func kubeObjects(t testing.TB, rec *recorder) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, a := range rec.res {
		// The provider's own token is pulumi:providers:kubernetes, so this skips it.
		if !strings.HasPrefix(a.TypeToken, "kubernetes:") {
			continue
		}
		// A Helm release is not an API object the server could judge: its chart is fetched
		// and rendered only at deploy time. llmserve installs none (issue 11), so one here
		// would be a path this layer no longer checks.
		require.False(t, strings.HasPrefix(a.TypeToken, "kubernetes:helm.sh/") || strings.HasPrefix(a.TypeToken, "kubernetes:helm/"),
			"%s %s: a Helm chart, which the apiserver layer cannot check; build its objects instead", a.TypeToken, a.Name)
		apiVersion, kind, ok := gvkFromToken(a.TypeToken)
		require.True(t, ok, "%s %s: not a kubernetes:<group>/<version>:<Kind> token", a.TypeToken, a.Name)
		body := plainMap(a.Inputs, true)
		// A placeholder would reach the server as a literal string and be judged instead of
		// the real value; under mocks every input should be known.
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		require.NotContains(t, string(raw), `"[unknown]"`, "%s %s has unknown inputs", a.TypeToken, a.Name)
		// Typed resources and CustomResource both carry apiVersion/kind in their inputs;
		// they must agree with the token the engine registered.
		for field, want := range map[string]string{"apiVersion": apiVersion, "kind": kind} {
			if got, ok := body[field]; ok {
				require.Equal(t, want, got, "%s %s: %s", a.TypeToken, a.Name, field)
			}
		}
		obj := &unstructured.Unstructured{Object: body}
		obj.SetAPIVersion(apiVersion)
		obj.SetKind(kind)
		out = append(out, obj)
	}
	return out
}

// gvkFromToken reads apiVersion and kind from a Pulumi Kubernetes type token:
// kubernetes:apps/v1:Deployment is apps/v1 Deployment; the core group is spelled "core" in
// tokens and "" in apiVersion (kubernetes:core/v1:Namespace is v1 Namespace).
func gvkFromToken(token string) (apiVersion, kind string, ok bool) {
	parts := strings.Split(token, ":")
	if len(parts) != 3 || parts[0] != "kubernetes" || parts[2] == "" {
		return "", "", false
	}
	group, version, found := strings.Cut(parts[1], "/")
	if !found || group == "" || version == "" {
		return "", "", false
	}
	if group == "core" {
		return version, parts[2], true
	}
	return group + "/" + version, parts[2], true
}

func TestGVKFromToken(t *testing.T) {
	cases := map[string][2]string{
		"kubernetes:apps/v1:Deployment":                              {"apps/v1", "Deployment"},
		"kubernetes:core/v1:Namespace":                               {"v1", "Namespace"},
		"kubernetes:monitoring.googleapis.com/v1:PodMonitoring":      {"monitoring.googleapis.com/v1", "PodMonitoring"},
		"kubernetes:apiregistration.k8s.io/v1:APIService":            {"apiregistration.k8s.io/v1", "APIService"},
		"kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding"},
		"kubernetes:autoscaling/v2:HorizontalPodAutoscaler":          {"autoscaling/v2", "HorizontalPodAutoscaler"},
	}
	for token, want := range cases {
		apiVersion, kind, ok := gvkFromToken(token)
		require.True(t, ok, token)
		assert.Equal(t, want, [2]string{apiVersion, kind}, token)
	}
	for _, bad := range []string{"pulumi:providers:kubernetes", "kubernetes:Deployment", "kubernetes:v1:Namespace", "gcp:storage/bucket:Bucket"} {
		_, _, ok := gvkFromToken(bad)
		assert.False(t, ok, bad)
	}
}

func TestKubeObjectsOfDevStack(t *testing.T) {
	objs := kubeObjects(t, mustRun(t, "dev", devConfig(t)))
	count := map[string]int{}
	for _, o := range objs {
		count[o.GetAPIVersion()+" "+o.GetKind()]++
		assert.NotEmpty(t, o.GetName(), "%s without a name", o.GetKind())
	}
	assert.Equal(t, map[string]int{
		"v1 Namespace":                                    2, // llm and custom-metrics
		"batch/v1 Job":                                    1, // the weights download
		"v1 ServiceAccount":                               3, // server, adapter, endpoint picker
		"v1 Secret":                                       1,
		"v1 Service":                                      3,
		"v1 ConfigMap":                                    1, // the endpoint picker's scorers
		"apps/v1 Deployment":                              3, // model server, metrics adapter, endpoint picker
		"policy/v1 PodDisruptionBudget":                   1,
		"autoscaling/v2 HorizontalPodAutoscaler":          1,
		"monitoring.googleapis.com/v1 PodMonitoring":      1,
		"apiregistration.k8s.io/v1 APIService":            3,
		"rbac.authorization.k8s.io/v1 ClusterRole":        2,
		"rbac.authorization.k8s.io/v1 ClusterRoleBinding": 3,
		"rbac.authorization.k8s.io/v1 Role":               1, // the picker reads pods and its pool
		"rbac.authorization.k8s.io/v1 RoleBinding":        2,
		// The default routing of vLLM on GKE: GKE Inference Gateway (issue 20).
		"gateway.networking.k8s.io/v1 Gateway":         1,
		"gateway.networking.k8s.io/v1 HTTPRoute":       1,
		"inference.networking.k8s.io/v1 InferencePool": 1,
		"networking.gke.io/v1 GCPBackendPolicy":        1,
		"networking.gke.io/v1 HealthCheckPolicy":       1,
	}, count)
	// The server gets the real token, not the mask the state shows.
	for _, o := range objs {
		if o.GetKind() == "Secret" {
			tok, _, err := unstructured.NestedString(o.Object, "stringData", "hf_api_token")
			require.NoError(t, err)
			assert.Equal(t, testToken, tok)
		}
	}
}
