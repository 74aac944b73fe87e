//go:build integration

package tests

import (
	"context"
	"testing"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/deploy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// TestEngineGatewayRouting (issue 20): the real engine deploys the gateway half of a stack
// onto the apiserver with the upstream CRDs: on an existing cluster with serving.routing
// gateway written, the preflight finds the CRDs, up creates the Gateway, HTTPRoute,
// InferencePool, GKE policies and the endpoint picker, the server's Service stays ClusterIP,
// and destroy removes them all.
func TestEngineGatewayRouting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), engOpTimeout)
	defer cancel()
	c := engClient(t)
	ns := "engine-gateway-" + engSuffix()
	t.Cleanup(func() { engRemoveNamespace(t, ns) })
	env := newEngEnv(t)
	settings := engSettings(ns)
	settings.Serving.Routing = catalog.RoutingGateway
	settings.Serving.Exposure = catalog.ExposureInternal
	settings.Metrics.InstallAdapter = new(bool) // nothing cluster-wide: the test is of routing
	st := env.open(t, ctx, deploy.Target{Env: "gateway", Model: engLlama}, settings)

	_, objs := engUp(t, ctx, st)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.kind]++
		_, err := getObject(ctx, c, o)
		assert.NoError(t, err, "%s is in the state but not in the cluster", o)
	}
	for _, k := range []string{"Gateway", "HTTPRoute", "InferencePool", "HealthCheckPolicy", "GCPBackendPolicy"} {
		assert.Equal(t, 1, kinds[k], "%s deployed: %v", k, kinds)
	}
	assert.Equal(t, 2, kinds["Deployment"], "the server and the endpoint picker: %v", kinds)
	for _, o := range objs {
		if o.kind == "Service" && o.name == engLlamaObjects {
			svc, err := getObject(ctx, c, o)
			require.NoError(t, err)
			assert.Equal(t, "ClusterIP", svc.Object["spec"].(map[string]any)["type"], "behind the gateway the server's Service stays inside the cluster")
		}
	}

	// With the garbage collector's part played (engDestroy), as on a real cluster.
	des, _, err := engDestroy(t, ctx, st)
	require.NoError(t, err)
	t.Logf("destroy: %s", summaryString(des))
	for _, o := range objs {
		_, err := getObject(ctx, c, o)
		assert.True(t, apierrors.IsNotFound(err), "%s left after destroy (%v)", o, err)
	}
}
