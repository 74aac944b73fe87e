package stacks

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/llmserve/llmserve/catalog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
)

// gatewayKinds are the API kinds routing gateway creates, by group/version, and how an
// existing cluster gets them: GKE serves the Gateway API when it is enabled (and the
// InferencePool from 1.34.0-gke.1626000; before that the Inference Extension's CRDs are
// applied by hand: llm-d's GKE guide, "Install Gateway API and Gateway API Inference
// Extension CRDs"), and networking.gke.io's policies only on GKE.
var gatewayKinds = []struct {
	groupVersion string
	kinds        []string
	fix          string
}{
	{catalog.GatewayAPIVersionV1, []string{"Gateway", "HTTPRoute"},
		"enable the Gateway API: gcloud container clusters update CLUSTER --location=LOCATION --gateway-api=standard"},
	{catalog.InferencePoolAPIVersion, []string{"InferencePool"},
		"GKE installs it from 1.34.0-gke.1626000 with the Gateway API enabled; on older versions: kubectl apply -k 'https://github.com/kubernetes-sigs/gateway-api-inference-extension/config/crd?ref=" + catalog.InferenceExtensionVersion + "'"},
	{catalog.GKEPolicyAPIVersion, []string{"HealthCheckPolicy", "GCPBackendPolicy"},
		"these are GKE's own; GKE Inference Gateway needs a GKE cluster (" + catalog.GatewayMinGKEVersion + " or later) with the Gateway API enabled"},
}

// checkGatewayAPIs refuses, before anything is registered, to deploy routing gateway to an
// existing cluster that does not serve the kinds it creates: Validate cannot know a cluster
// it never reached, and the apiserver would otherwise fail the update halfway through.
func checkGatewayAPIs(cfg *Config) error {
	if !cfg.usesGateway() || cfg.Cluster.Mode != catalog.ModeExisting || rendering(cfg) {
		return nil
	}
	cs, err := clusterClient(cfg.Cluster.Kubeconfig, cfg.Cluster.Context)
	if err != nil {
		return fmt.Errorf("checking the cluster serves the Gateway API and InferencePool (serving.routing gateway): %w", err)
	}
	return missingGatewayAPIs(cs.Discovery())
}

// missingGatewayAPIs asks discovery for every kind in gatewayKinds and returns one error
// per missing group/version, with its fix.
func missingGatewayAPIs(dc discovery.DiscoveryInterface) error {
	var problems []error
	for _, g := range gatewayKinds {
		list, err := dc.ServerResourcesForGroupVersion(g.groupVersion)
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("asking the cluster for %s: %w", g.groupVersion, err)
		}
		var have []string
		if list != nil {
			for _, r := range list.APIResources {
				have = append(have, r.Kind)
			}
		}
		var missing []string
		for _, k := range g.kinds {
			if !slices.Contains(have, k) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Errorf("serving.routing gateway: the cluster does not serve %s %s; %s (or use serving.routing service)",
				g.groupVersion, strings.Join(missing, ", "), g.fix))
		}
	}
	return errors.Join(problems...)
}
