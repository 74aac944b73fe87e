package stacks

import (
	"strings"
	"testing"

	"github.com/llmserve/llmserve/catalog"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fakediscovery "k8s.io/client-go/discovery/fake"
	k8stesting "k8s.io/client-go/testing"
)

func served(groupVersion string, kinds ...string) *metav1.APIResourceList {
	l := &metav1.APIResourceList{GroupVersion: groupVersion}
	for _, k := range kinds {
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: strings.ToLower(k) + "s", Kind: k, Namespaced: true})
	}
	return l
}

// TestMissingGatewayAPIs: an existing cluster is refused, with the fix, for each group it
// does not serve, and accepted when it serves every kind routing gateway creates.
func TestMissingGatewayAPIs(t *testing.T) {
	full := []*metav1.APIResourceList{
		served(catalog.GatewayAPIVersionV1, "GatewayClass", "Gateway", "HTTPRoute"),
		served(catalog.InferencePoolAPIVersion, "InferencePool"),
		served(catalog.GKEPolicyAPIVersion, "HealthCheckPolicy", "GCPBackendPolicy", "GCPGatewayPolicy"),
	}
	cases := []struct {
		name      string
		resources []*metav1.APIResourceList
		want      []string // substrings of the error; none: accepted
	}{
		{"gke with everything", full, nil},
		{"no inference pool (GKE before 1.34)", full[:1:1], []string{
			"does not serve inference.networking.k8s.io/v1 InferencePool; GKE installs it from 1.34.0-gke.1626000",
			"config/crd?ref=" + catalog.InferenceExtensionVersion,
			"does not serve networking.gke.io/v1 HealthCheckPolicy, GCPBackendPolicy",
		}},
		{"not gke, no gateway api", nil, []string{
			"does not serve gateway.networking.k8s.io/v1 Gateway, HTTPRoute; enable the Gateway API: gcloud container clusters update CLUSTER --location=LOCATION --gateway-api=standard",
		}},
		{"gateway api without httproute", []*metav1.APIResourceList{served(catalog.GatewayAPIVersionV1, "Gateway"), full[1], full[2]}, []string{
			"does not serve gateway.networking.k8s.io/v1 HTTPRoute;",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dc := &fakediscovery.FakeDiscovery{Fake: &k8stesting.Fake{Resources: tc.resources}}
			err := missingGatewayAPIs(dc)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused a cluster that serves every kind: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted a cluster that lacks gateway kinds")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestGatewayPreflightOnlyForExisting: a cluster llmserve creates, or rendering, reaches no
// cluster (checkGatewayAPIs returns before connecting; a bad kubeconfig would fail it).
func TestGatewayPreflightOnlyForExisting(t *testing.T) {
	bad := "not a kubeconfig: ["
	for _, c := range []*Config{
		{Cluster: ClusterConfig{Mode: catalog.ModeStandard, Kubeconfig: bad}, Serving: ServingConfig{Routing: catalog.RoutingGateway}},
		{Cluster: ClusterConfig{Mode: catalog.ModeExisting, Kubeconfig: bad}, Serving: ServingConfig{Routing: catalog.RoutingService}},
		{Cluster: ClusterConfig{Mode: catalog.ModeExisting, Kubeconfig: bad}, Serving: ServingConfig{Routing: catalog.RoutingGateway}, RenderDir: t.TempDir()},
	} {
		if err := checkGatewayAPIs(c); err != nil {
			t.Errorf("mode %s routing %s render %q: %v", c.Cluster.Mode, c.Serving.Routing, c.RenderDir, err)
		}
	}
	c := &Config{Cluster: ClusterConfig{Mode: catalog.ModeExisting, Kubeconfig: bad}, Serving: ServingConfig{Routing: catalog.RoutingGateway}}
	if err := checkGatewayAPIs(c); err == nil || !strings.Contains(err.Error(), "serving.routing gateway") {
		t.Errorf("existing cluster with routing gateway: want the check to run (and fail on a bad kubeconfig), got %v", err)
	}
}
