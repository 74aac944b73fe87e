//go:build integration

package tests

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// gatewayObject returns the routing-gateway stack's object of a kind (issue 20).
func gatewayObject(t *testing.T, kind string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range kubeObjects(t, mustRun(t, "dev", gatewayConfig(t))) {
		if o.GetKind() == kind {
			found = append(found, o)
		}
	}
	require.Len(t, found, 1, "gateway stack objects of kind %s", kind)
	return found[0]
}

// TestAcceptanceGatewayObjects sends every object of the routing-gateway stacks (internal,
// and public with consent) to the apiserver with the upstream CRDs installed (Gateway API,
// InferencePool, GKE's policies: tools/crds-gateway.sh): each must be accepted as it is.
func TestAcceptanceGatewayObjects(t *testing.T) {
	c := kubeClient(t)
	for _, tc := range []namedConfig{
		{"internal", gatewayConfig(t)},
		{"public", devConfig(t).with("llmserve:serving", m{"routing": "gateway", "exposure": "public", "allowPublic": true})},
		{"autopilot", gatewayConfig(t).with("llmserve:cluster", m{"mode": "autopilot", "name": "llm-dev"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := kubeObjects(t, mustRun(t, "dev", tc.cfg))
			ensureNamespaces(t, c, objs)
			kinds := map[string]bool{}
			for _, o := range objs {
				if err := dryRunApply(context.Background(), c, o); err != nil {
					t.Errorf("%s: rejected by the apiserver: %v", kubeRef(o), err)
				}
				kinds[o.GetKind()] = true
			}
			for _, k := range []string{"Gateway", "HTTPRoute", "InferencePool", "HealthCheckPolicy", "GCPBackendPolicy"} {
				assert.True(t, kinds[k], "no %s in the stack", k)
			}
		})
	}
}

// TestAcceptanceRejectsBadGatewayVariants proves the CRDs' validation reaches what we send:
// the upstream chart's health check (port without portSpecification, inferencepool/
// templates/gke.yaml at v1.5.0) is what GKE's current CRD refuses, and llmserve's passes.
func TestAcceptanceRejectsBadGatewayVariants(t *testing.T) {
	cases := []struct {
		name   string
		kind   string
		mutate func(t *testing.T, o *unstructured.Unstructured)
		want   []string
	}{
		{"chart health check: port without portSpecification", "HealthCheckPolicy", func(t *testing.T, o *unstructured.Unstructured) {
			unstructured.RemoveNestedField(o.Object, "spec", "default", "config", "httpHealthCheck", "portSpecification")
		}, []string{"portSpecification"}},
		{"health check timeout above interval", "HealthCheckPolicy", func(t *testing.T, o *unstructured.Unstructured) {
			setField(t, o.Object, int64(5), "spec", "default", "timeoutSec")
		}, []string{"timeOutSec cannot exceed checkIntervalSec"}},
		{"pool failure mode", "InferencePool", func(t *testing.T, o *unstructured.Unstructured) {
			setField(t, o.Object, "Retry", "spec", "endpointPickerRef", "failureMode")
		}, []string{"spec.endpointPickerRef.failureMode"}},
		{"pool without target ports", "InferencePool", func(t *testing.T, o *unstructured.Unstructured) {
			unstructured.RemoveNestedField(o.Object, "spec", "targetPorts")
		}, []string{"spec.targetPorts"}},
		{"backend timeout 0", "GCPBackendPolicy", func(t *testing.T, o *unstructured.Unstructured) {
			setField(t, o.Object, int64(0), "spec", "default", "timeoutSec")
		}, []string{"spec.default.timeoutSec"}},
		{"gateway without listeners", "Gateway", func(t *testing.T, o *unstructured.Unstructured) {
			setField(t, o.Object, []any{}, "spec", "listeners")
		}, []string{"spec.listeners"}},
	}
	c := kubeClient(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := gatewayObject(t, tc.kind)
			require.NoError(t, dryRunApply(context.Background(), c, o), "the unchanged %s must pass first", kubeRef(o))
			tc.mutate(t, o)
			err := dryRunApply(context.Background(), c, o)
			require.Error(t, err, "the apiserver accepted %s", kubeRef(o))
			t.Logf("%s: %v", kubeRef(o), err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
