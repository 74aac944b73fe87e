package tests

import (
	"strings"
	"testing"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tCluster       = "gcp:container/cluster:Cluster"
	tNodePool      = "gcp:container/nodePool:NodePool"
	tBucket        = "gcp:storage/bucket:Bucket"
	tBucketMember  = "gcp:storage/bucketIAMMember:BucketIAMMember"
	tProjectMember = "gcp:projects/iAMMember:IAMMember"
	tK8sProvider   = "pulumi:providers:kubernetes"
)

func TestDevStackCluster(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	c := in(rec.one(t, tCluster))
	assert.Equal(t, "llm-dev", c["name"])
	assert.Equal(t, "us-central1", c["location"])
	assert.Equal(t, []any{"us-central1-b"}, c["nodeLocations"])
	assert.Equal(t, "my-project.svc.id.goog", dig(t, c, "workloadIdentityConfig.workloadPool"))
	assert.Equal(t, true, dig(t, c, "addonsConfig.gcsFuseCsiDriverConfig.enabled"))
	assert.Equal(t, true, dig(t, c, "monitoringConfig.managedPrometheus.enabled"))
	assert.Equal(t, "REGULAR", dig(t, c, "releaseChannel.channel"))
	assert.Equal(t, true, c["removeDefaultNodePool"])
	assert.Equal(t, false, c["deletionProtection"], "Pulumi.dev.yaml turns deletion protection off")
	assert.Nil(t, c["enableAutopilot"])
}

func TestDevStackTPUPool(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	pools := rec.byType(tNodePool)
	require.Len(t, pools, 2, "system pool and TPU pool")
	tpu := in(rec.named(t, tNodePool, "tpu-pool"))
	// llama-3.1-8b is a 1x1 profile; dev overrides its replicas to 1-2; one spare slice for
	// rolling updates.
	assert.Equal(t, "ct6e-standard-1t", dig(t, tpu, "nodeConfig.machineType"))
	assert.Equal(t, 1.0, dig(t, tpu, "autoscaling.totalMinNodeCount"), "pool.minNodes follows dev's minReplicas 1")
	assert.Equal(t, 3.0, dig(t, tpu, "autoscaling.totalMaxNodeCount"))
	assert.Equal(t, "ANY", dig(t, tpu, "autoscaling.locationPolicy"))
	assert.Equal(t, "GKE_METADATA", dig(t, tpu, "nodeConfig.workloadMetadataConfig.mode"))
	assert.Equal(t, false, dig(t, tpu, "nodeConfig.spot"))
	sys := in(rec.named(t, tNodePool, "cluster-system"))
	assert.Equal(t, "e2-standard-4", dig(t, sys, "nodeConfig.machineType"))
}

func TestTPUTopologyPicksMachineType(t *testing.T) {
	for _, s := range catalog.TPUSlices() {
		t.Run(s.Topology, func(t *testing.T) {
			tp := map[string]int{"1x1": 1, "2x2": 4, "2x4": 8}[s.Topology]
			cfg := devConfig(t).with("llmserve:overrides", map[string]any{
				"accelerator": map[string]any{"topology": s.Topology},
				"server":      map[string]any{"tensorParallelSize": tp},
			})
			rec := mustRun(t, "dev", cfg)
			tpu := in(rec.named(t, tNodePool, "tpu-pool"))
			assert.Equal(t, s.MachineType, dig(t, tpu, "nodeConfig.machineType"))
			dep := server(t, rec)
			limits := dig(t, dep, "spec.template.spec.containers.0.resources.limits").(map[string]any)
			assert.Equal(t, map[string]int{"1x1": 1, "2x2": 4, "2x4": 8}[s.Topology], atoi(t, limits[catalog.ResourceTPU]))
		})
	}
}

func TestSpotAndReservation(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:pool", map[string]any{"spot": true}))
	assert.Equal(t, true, dig(t, in(rec.named(t, tNodePool, "tpu-pool")), "nodeConfig.spot"))

	rec = mustRun(t, "dev", devConfig(t).with("llmserve:pool", map[string]any{"reservation": "tpu-res"}))
	ra := dig(t, in(rec.named(t, tNodePool, "tpu-pool")), "nodeConfig.reservationAffinity").(map[string]any)
	assert.Equal(t, "SPECIFIC_RESERVATION", ra["consumeReservationType"])
	assert.Equal(t, []any{"tpu-res"}, ra["values"])
}

// TestImageCacheDisk: pool.imageCacheDisk attaches the disk image to every node as a
// secondary boot disk in CONTAINER_IMAGE_CACHE mode, with the COS containerd image and image
// streaming GKE requires for it; without it the pool sets none of them (GKE's defaults).
func TestImageCacheDisk(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:pool", map[string]any{"imageCacheDisk": "global/images/vllm-tpu-cache"}))
	nc := dig(t, in(rec.named(t, tNodePool, "tpu-pool")), "nodeConfig").(map[string]any)
	assert.Equal(t, []any{map[string]any{"diskImage": "global/images/vllm-tpu-cache", "mode": "CONTAINER_IMAGE_CACHE"}}, nc["secondaryBootDisks"])
	assert.Equal(t, "COS_CONTAINERD", nc["imageType"])
	assert.Equal(t, map[string]any{"enabled": true}, nc["gcfsConfig"])

	rec = mustRun(t, "dev", devConfig(t))
	nc = dig(t, in(rec.named(t, tNodePool, "tpu-pool")), "nodeConfig").(map[string]any)
	for _, k := range []string{"secondaryBootDisks", "imageType", "gcfsConfig"} {
		assert.NotContains(t, nc, k)
	}
}

// TestImageCacheDiskCaveat: validate says the disk image must hold the server image and
// that a new one replaces the pool.
func TestImageCacheDiskCaveat(t *testing.T) {
	s := deploy.Settings{
		Project: "my-project", Region: "us-central1",
		Cluster: stacks.ClusterConfig{Mode: "standard", Name: "llm-dev", Zones: []string{"us-central1-b"}},
		Pool:    stacks.PoolConfig{ImageCacheDisk: "projects/my-project/global/images/vllm-tpu-cache"},
		HFToken: testToken,
	}
	cfg, err := deploy.Check(deploy.Target{Env: "dev", Model: "llama-3.1-8b"}, s)
	require.NoError(t, err)
	var found string
	for _, c := range cfg.Caveats() {
		if strings.HasPrefix(c, "pool.imageCacheDisk") {
			found = c
		}
	}
	assert.Contains(t, found, "must hold "+cfg.Profile.Image+", the server image")
	assert.Contains(t, found, "a new disk image replaces the accelerator node pool")
}

func TestModelStoreBucketAndGrant(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	b := in(rec.one(t, tBucket))
	assert.Equal(t, "my-project-llmserve-dev", b["name"])
	assert.Equal(t, "US-CENTRAL1", b["location"])
	assert.Equal(t, true, b["uniformBucketLevelAccess"])
	assert.Equal(t, "enforced", b["publicAccessPrevention"])
	assert.Equal(t, true, b["forceDestroy"], "Pulumi.dev.yaml sets forceDestroy")

	m := in(rec.one(t, tBucketMember))
	assert.Equal(t, "roles/storage.objectUser", m["role"])
	assert.Equal(t, "my-project-llmserve-dev", m["bucket"])
	assert.Equal(t, "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/my-project.svc.id.goog/subject/ns/llm/sa/llama-3-1-8b-vllm", m["member"])
	// The project number came from the lookup the mocks answered.
	require.Len(t, rec.calls, 1)
	assert.Equal(t, "gcp:organizations/getProject:getProject", rec.calls[0].Token)
}

func TestForceDestroyOffByDefault(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).without("llmserve:modelStore"))
	assert.Equal(t, false, in(rec.one(t, tBucket))["forceDestroy"])
}

func TestProjectNumberFromConfigSkipsLookup(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:projectNumber", "987654321098"))
	assert.Empty(t, rec.calls)
	assert.Contains(t, in(rec.one(t, tBucketMember))["member"], "/projects/987654321098/")
}

func TestAdapterIAMIsNonAuthoritativeMonitoringViewer(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	m := in(rec.one(t, tProjectMember))
	assert.Equal(t, "roles/monitoring.viewer", m["role"])
	assert.Equal(t, "my-project", m["project"])
	assert.Equal(t, "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/my-project.svc.id.goog/subject/ns/custom-metrics/sa/custom-metrics-stackdriver-adapter", m["member"])
}

func TestNoAuthoritativeIAMAnywhere(t *testing.T) {
	for name, cfg := range modeConfigs(t) {
		rec := mustRun(t, "dev", cfg)
		for _, typ := range rec.types() {
			lower := strings.ToLower(typ)
			assert.False(t, strings.Contains(lower, "iambinding") || strings.Contains(lower, "iampolicy"),
				"%s: authoritative IAM type %s", name, typ)
		}
	}
}

// testKubeconfig is a kubeconfig given by its contents: a path must exist (Validate checks).
const testKubeconfig = "apiVersion: v1\nkind: Config\n"

// modeConfigs is the dev stack in each cluster mode.
func modeConfigs(t *testing.T) map[string]stackConfig {
	dev := devConfig(t)
	return map[string]stackConfig{
		"standard":  dev,
		"autopilot": dev.with("llmserve:cluster", map[string]any{"mode": "autopilot", "name": "llm-auto"}),
		"existing": dev.with("llmserve:cluster", map[string]any{"mode": "existing", "name": "mine"}).
			with("llmserve:kubeconfig", testKubeconfig),
		"existing-no-gcp": dev.with("llmserve:cluster", map[string]any{"mode": "existing", "name": "mine"}).
			with("llmserve:gcpResources", "false").
			with("llmserve:modelStore", map[string]any{"bucket": "my-weights"}),
	}
}

func TestModes(t *testing.T) {
	cases := map[string]struct {
		clusters, pools, buckets, grants int
		autopilot                        bool
		deployments                      int // server and adapter, and the endpoint picker where the gateway is the default
	}{
		"standard":        {clusters: 1, pools: 2, buckets: 1, grants: 2, deployments: 3},
		"autopilot":       {clusters: 1, pools: 0, buckets: 1, grants: 2, autopilot: true, deployments: 3},
		"existing":        {clusters: 0, pools: 0, buckets: 1, grants: 2, deployments: 2},
		"existing-no-gcp": {clusters: 0, pools: 0, buckets: 0, grants: 0, deployments: 2},
	}
	for name, cfg := range modeConfigs(t) {
		t.Run(name, func(t *testing.T) {
			want := cases[name]
			rec := mustRun(t, "dev", cfg)
			assert.Len(t, rec.byType(tCluster), want.clusters)
			assert.Len(t, rec.byType(tNodePool), want.pools)
			assert.Len(t, rec.byType(tBucket), want.buckets)
			assert.Len(t, append(rec.byType(tBucketMember), rec.byType(tProjectMember)...), want.grants)
			if want.autopilot {
				c := in(rec.one(t, tCluster))
				assert.Equal(t, true, c["enableAutopilot"])
				assert.Nil(t, c["addonsConfig"], "Autopilot manages its addons")
			}
			// Every mode still gets one explicit Kubernetes provider and the whole serving half.
			assert.Len(t, rec.byType(tK8sProvider), 1)
			assert.Len(t, rec.byType(tDeployment), want.deployments)
			assert.Len(t, rec.byType(tHPA), 1)
		})
	}
}

func TestExistingModeUsesKubeconfigAsSecret(t *testing.T) {
	cfg := modeConfigs(t)["existing"]
	rec := mustRun(t, "dev", cfg)
	p := rec.one(t, tK8sProvider)
	assert.Equal(t, "[secret]", in(p)["kubeconfig"])
	assert.Equal(t, testKubeconfig, plainMap(p.Inputs, true)["kubeconfig"])
}

func TestGKEKubeconfigUsesAuthPluginAndIsSecret(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	p := rec.one(t, tK8sProvider)
	assert.Equal(t, "[secret]", in(p)["kubeconfig"])
	kc := plainMap(p.Inputs, true)["kubeconfig"].(string)
	assert.Contains(t, kc, "server: https://"+mockEndpoint)
	assert.Contains(t, kc, "command: gke-gcloud-auth-plugin")
}

// TestEveryChildIsParented checks the component pattern: every resource but the components
// themselves has a parent that is one of our components.
func TestEveryChildIsParented(t *testing.T) {
	for name, cfg := range modeConfigs(t) {
		rec := mustRun(t, "dev", cfg)
		for _, a := range rec.res {
			pt := parentType(a)
			if strings.HasPrefix(a.TypeToken, "llmserve:") {
				assert.Equal(t, "pulumi:pulumi:Stack", pt, "%s: component %s", name, a.Name)
				continue
			}
			assert.True(t, strings.HasPrefix(pt, "llmserve:"), "%s: %s %s has parent %q", name, a.TypeToken, a.Name, pt)
		}
	}
}

// TestKubernetesResourcesUseExplicitProvider: with default providers disabled, a resource
// without one would fail at deploy time; here it fails the test.
func TestKubernetesResourcesUseExplicitProvider(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	n := 0
	for _, a := range rec.res {
		if strings.HasPrefix(a.TypeToken, "kubernetes:") {
			n++
			assert.Contains(t, a.Provider, "pulumi:providers:kubernetes::cluster-k8s", "%s %s", a.TypeToken, a.Name)
		}
	}
	assert.Greater(t, n, 10)
}

func TestProdStackFile(t *testing.T) {
	cfg := loadStackFile(t, "Pulumi.prod.yaml").withSecret("llmserve:hfToken", testToken)
	rec := mustRun(t, "prod", cfg)
	c := in(rec.one(t, tCluster))
	assert.Equal(t, true, c["deletionProtection"])
	assert.Equal(t, "STABLE", dig(t, c, "releaseChannel.channel"))
	tpu := in(rec.named(t, tNodePool, "tpu-pool"))
	assert.Equal(t, "ct6e-standard-8t", dig(t, tpu, "nodeConfig.machineType"))
	assert.Equal(t, 5.0, dig(t, tpu, "autoscaling.totalMaxNodeCount"))
	assert.Equal(t, "SPECIFIC_RESERVATION", dig(t, tpu, "nodeConfig.reservationAffinity.consumeReservationType"))
	hpa := in(rec.one(t, tHPA))
	assert.Equal(t, 2.0, dig(t, hpa, "spec.minReplicas"))
	assert.Equal(t, 4.0, dig(t, hpa, "spec.maxReplicas"))
	// 5 slices for at most 4 replicas: a rolling update may surge into the spare one.
	assert.Equal(t, 1.0, dig(t, server(t, rec), "spec.strategy.rollingUpdate.maxSurge"))
}
