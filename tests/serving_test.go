package tests

import (
	"strings"
	"testing"

	"github.com/llmserve/llmserve/catalog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tNamespace      = "kubernetes:core/v1:Namespace"
	tServiceAccount = "kubernetes:core/v1:ServiceAccount"
	tSecret         = "kubernetes:core/v1:Secret"
	tService        = "kubernetes:core/v1:Service"
	tDeployment     = "kubernetes:apps/v1:Deployment"
	tPDB            = "kubernetes:policy/v1:PodDisruptionBudget"
	tHPA            = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
	tPodMonitoring  = "kubernetes:monitoring.googleapis.com/v1:PodMonitoring"
	tAPIService     = "kubernetes:apiregistration.k8s.io/v1:APIService"
	tCRB            = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
	tRB             = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	tClusterRole    = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
)

// server returns the model server's Deployment inputs.
func server(t *testing.T, rec *recorder) map[string]any {
	t.Helper()
	// By its component label: the stack also runs the adapter's, the placeholders' and the
	// endpoint picker's Deployments, registered in no fixed order.
	for _, a := range rec.byType(tDeployment) {
		if dig(t, in(a), "metadata.labels").(map[string]any)["app.kubernetes.io/component"] == "model-server" {
			return in(a)
		}
	}
	t.Fatal("no server deployment")
	return nil
}

func container(t *testing.T, dep map[string]any, name string) map[string]any {
	t.Helper()
	for _, c := range dig(t, dep, "spec.template.spec.containers").([]any) {
		if c.(map[string]any)["name"] == name {
			return c.(map[string]any)
		}
	}
	t.Fatalf("no container %s", name)
	return nil
}

func envMap(c map[string]any) map[string]any {
	out := map[string]any{}
	env, _ := c["env"].([]any)
	for _, e := range env {
		m := e.(map[string]any)
		if v, ok := m["value"]; ok {
			out[m["name"].(string)] = v
		} else {
			out[m["name"].(string)] = m["valueFrom"]
		}
	}
	return out
}

func TestHFTokenIsASecret(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	s := rec.one(t, tSecret)
	// Masked: the value is a Pulumi secret in the recorded inputs, so it is encrypted in state.
	assert.Equal(t, "[secret]", in(s)["stringData"])
	assert.Equal(t, testToken, dig(t, plainMap(s.Inputs, true), "stringData.hf_api_token"))
	assert.Equal(t, "llama-3-1-8b-vllm-hf-token", dig(t, in(s), "metadata.name"))
	assert.Equal(t, "llm", dig(t, in(s), "metadata.namespace"))
	// Nowhere else does the token appear in the clear.
	for _, a := range rec.res {
		assert.NotContains(t, toJSON(t, in(a)), testToken, "%s %s", a.TypeToken, a.Name)
	}
}

func TestNamespaceAndServiceAccount(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	var names []any
	for _, n := range rec.byType(tNamespace) {
		names = append(names, dig(t, in(n), "metadata.name"))
	}
	assert.ElementsMatch(t, []any{"llm", "custom-metrics"}, names)
	var sa []any
	for _, a := range rec.byType(tServiceAccount) {
		sa = append(sa, dig(t, in(a), "metadata.namespace").(string)+"/"+dig(t, in(a), "metadata.name").(string))
	}
	assert.ElementsMatch(t, []any{"llm/llama-3-1-8b-vllm", "custom-metrics/custom-metrics-stackdriver-adapter", "llm/llama-3-1-8b-vllm-epp"}, sa)
	// The grant and the pod name the same service account.
	assert.Equal(t, "llama-3-1-8b-vllm", dig(t, server(t, rec), "spec.template.spec.serviceAccountName"))
	assert.True(t, strings.HasSuffix(in(rec.one(t, tBucketMember))["member"].(string), "/ns/llm/sa/llama-3-1-8b-vllm"))
}

func TestNamespaceNotCreatedWhenShared(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:serving", map[string]any{"namespace": "shared", "createNamespace": false}))
	for _, n := range rec.byType(tNamespace) {
		assert.NotEqual(t, "shared", dig(t, in(n), "metadata.name"))
	}
	assert.Equal(t, "shared", dig(t, server(t, rec), "metadata.namespace"))
}

func TestVLLMServerFromProfile70B(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:model", "llama-3.1-70b").without("llmserve:overrides"))
	dep := server(t, rec)
	assert.Equal(t, "llama-3-1-70b-vllm", dig(t, dep, "metadata.name"))
	assert.Nil(t, dig(t, dep, "spec").(map[string]any)["replicas"], "the HPA owns the replica count")
	c := container(t, dep, "server")
	assert.Equal(t, "vllm/vllm-tpu:v0.27.0", c["image"])
	assert.Equal(t, []any{"python3", "-m", "vllm.entrypoints.openai.api_server"}, c["command"])
	// The weights the download Job left in the bucket, offline, served under the model id.
	assert.Equal(t, []any{"--host=0.0.0.0", "--port=8000", "--model=/data/models/meta-llama/Llama-3.1-70B",
		"--served-model-name=meta-llama/Llama-3.1-70B",
		"--tensor-parallel-size=8", "--max-model-len=4096", "--max-num-seqs=128",
		"--max-num-batched-tokens=512"}, c["args"])
	env := envMap(c)
	assert.Equal(t, "/xla-cache", env["VLLM_XLA_CACHE_PATH"])
	assert.Equal(t, "1", env["HF_HUB_OFFLINE"])
	assert.NotContains(t, env, "HF_TOKEN", "the server never downloads: the token is the Job's")
	job := in(rec.one(t, tJob))
	jenv := envMap(dig(t, job, "spec.template.spec.containers.0").(map[string]any))
	assert.Equal(t, map[string]any{"secretKeyRef": map[string]any{"name": "llama-3-1-70b-vllm-hf-token", "key": "hf_api_token"}}, jenv["HF_TOKEN"])
	assert.Equal(t, jenv["HF_TOKEN"], jenv["HUGGING_FACE_HUB_TOKEN"])
	// Startup: one hour in 10 s periods for the profile's 3600 s.
	assert.Equal(t, 360.0, dig(t, c, "startupProbe.failureThreshold"))
	assert.Equal(t, "/health", dig(t, c, "readinessProbe.httpGet.path"))
}

func TestTPUSelectorAndLimitsComeFromThePool(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:model", "llama-3.1-70b").without("llmserve:overrides"))
	pool := rec.named(t, "llmserve:gke:TPUNodePool", "tpu")
	_ = pool
	dep := server(t, rec)
	assert.Equal(t, map[string]any{
		catalog.LabelTPUAccelerator: "tpu-v6e-slice",
		catalog.LabelTPUTopology:    "2x4",
	}, dig(t, dep, "spec.template.spec.nodeSelector"))
	res := dig(t, container(t, dep, "server"), "resources").(map[string]any)
	assert.Equal(t, "8", dig(t, res, "limits.google.com/tpu"))
	assert.Equal(t, dig(t, res, "limits.google.com/tpu"), dig(t, res, "requests.google.com/tpu"), "extended resources need request == limit")
	assert.Equal(t, "ct6e-standard-8t", dig(t, in(rec.named(t, tNodePool, "tpu-pool")), "nodeConfig.machineType"))
	tol := dig(t, dep, "spec.template.spec.tolerations.0").(map[string]any)
	assert.Equal(t, map[string]any{"key": "google.com/tpu", "operator": "Exists", "effect": "NoSchedule"}, tol)
}

func TestGCSFuseVolumeAndAnnotations(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	dep := server(t, rec)
	ann := dig(t, dep, "spec.template.metadata.annotations").(map[string]any)
	assert.Equal(t, map[string]any{"gke-gcsfuse/volumes": "true", "gke-gcsfuse/cpu-limit": "0",
		"gke-gcsfuse/memory-limit": "0", "gke-gcsfuse/ephemeral-storage-limit": "0"}, ann)
	vols := map[string]map[string]any{}
	for _, v := range dig(t, dep, "spec.template.spec.volumes").([]any) {
		vols[v.(map[string]any)["name"].(string)] = v.(map[string]any)
	}
	csi := vols["model-store"]["csi"].(map[string]any)
	assert.Equal(t, "gcsfuse.csi.storage.gke.io", csi["driver"])
	assert.Equal(t, "my-project-llmserve-dev", dig(t, csi, "volumeAttributes.bucketName"))
	assert.Equal(t, "implicit-dirs,file-cache:enable-parallel-downloads:true,file-cache:parallel-downloads-per-file:100,file-cache:max-parallel-downloads:-1,file-cache:download-chunk-size-mb:10,file-cache:max-size-mb:-1",
		dig(t, csi, "volumeAttributes.mountOptions"))
	assert.Equal(t, "Memory", dig(t, vols["gke-gcsfuse-cache"], "emptyDir.medium"))
	assert.Equal(t, "Memory", dig(t, vols["dshm"], "emptyDir.medium"))
	assert.Contains(t, vols, "xla-cache")
	mounts := map[string]any{}
	for _, m := range container(t, dep, "server")["volumeMounts"].([]any) {
		mounts[m.(map[string]any)["name"].(string)] = m.(map[string]any)["mountPath"]
	}
	assert.Equal(t, map[string]any{"model-store": "/data", "dshm": "/dev/shm", "xla-cache": "/xla-cache"}, mounts)
}

func TestMountOptionsOverridable(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:overrides", map[string]any{
		"storage": map[string]any{"mountOptions": []string{"implicit-dirs", "only-dir=models"}, "fileCacheMedium": "Disk"},
	}))
	dep := server(t, rec)
	vol := dig(t, dep, "spec.template.spec.volumes.0").(map[string]any)
	assert.Equal(t, "implicit-dirs,only-dir=models", dig(t, vol, "csi.volumeAttributes.mountOptions"))
	cache := dig(t, dep, "spec.template.spec.volumes.1").(map[string]any)
	assert.Equal(t, "gke-gcsfuse-cache", cache["name"])
	assert.Nil(t, cache["emptyDir"].(map[string]any)["medium"])
}

func TestServiceIsClusterIPByDefault(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	for _, s := range rec.byType(tService) {
		assert.Equal(t, "ClusterIP", dig(t, in(s), "spec.type"), s.Name)
	}
	svc := in(rec.named(t, tService, "llama-3-1-8b-vllm-service"))
	assert.Equal(t, []any{map[string]any{"name": "http", "port": 8000.0, "targetPort": "http", "protocol": "TCP"}}, dig(t, svc, "spec.ports"))
}

func TestInternalExposure(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:serving", map[string]any{"routing": "service", "exposure": "internal"}))
	svc := in(rec.named(t, tService, "llama-3-1-8b-vllm-service"))
	assert.Equal(t, "LoadBalancer", dig(t, svc, "spec.type"))
	assert.Equal(t, "Internal", dig(t, svc, "metadata.annotations.networking.gke.io/load-balancer-type"))
}

func TestPublicExposureNeedsExplicitSetting(t *testing.T) {
	_, err := run(t, "dev", devConfig(t).with("llmserve:serving", map[string]any{"exposure": "public"}))
	require.ErrorContains(t, err, "serving.allowPublic: true")
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:serving", map[string]any{"routing": "service", "exposure": "public", "allowPublic": true}))
	svc := in(rec.named(t, tService, "llama-3-1-8b-vllm-service"))
	assert.Equal(t, "LoadBalancer", dig(t, svc, "spec.type"))
	assert.Nil(t, dig(t, svc, "metadata").(map[string]any)["annotations"])
}

func TestPDBAndRollout(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	pdb := in(rec.one(t, tPDB))
	assert.Equal(t, 1.0, dig(t, pdb, "spec.maxUnavailable"))
	assert.Equal(t, "llama-3-1-8b-vllm", dig(t, pdb, "spec.selector.matchLabels.app.kubernetes.io/name"))
	// The rollout rule has its own test (TestRolloutRule); by default the pool has a
	// spare slice, so the update surges.
	ru := dig(t, server(t, rec), "spec.strategy.rollingUpdate").(map[string]any)
	assert.Equal(t, map[string]any{"maxSurge": 1.0, "maxUnavailable": 0.0}, ru)
}

func TestJetStreamServer(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:model", "gemma-7b").without("llmserve:overrides"))
	dep := server(t, rec)
	assert.Equal(t, "gemma-7b-jetstream", dig(t, dep, "metadata.name"))
	srv := container(t, dep, "server")
	args := srv["args"].([]any)
	assert.Contains(t, args, "model_name=gemma-7b")
	assert.Contains(t, args, "load_parameters_path=/data/final/unscanned/gemma_7b-it/0/checkpoints/0/items")
	assert.Contains(t, args, "prometheus_port=9100")
	http := container(t, dep, "jetstream-http")
	assert.Equal(t, "us-docker.pkg.dev/cloud-tpu-images/inference/jetstream-http:v0.2.3", http["image"])
	assert.Equal(t, "/healthcheck", dig(t, http, "readinessProbe.httpGet.path"))
	// MaxText ignores JAX_COMPILATION_CACHE_DIR; its jax_cache_dir key is the setting.
	assert.Contains(t, args, "jax_cache_dir=/xla-cache")
	assert.NotContains(t, envMap(srv), "JAX_COMPILATION_CACHE_DIR")
	pm := in(rec.one(t, tPodMonitoring))
	assert.Equal(t, "metrics", dig(t, pm, "spec.endpoints.0.port"))
	assert.Equal(t, "/", dig(t, pm, "spec.endpoints.0.path"))
	svc := in(rec.named(t, tService, "gemma-7b-jetstream-service"))
	assert.Len(t, dig(t, svc, "spec.ports"), 2)
}

func TestPodMonitoring(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	pm := in(rec.one(t, tPodMonitoring))
	assert.Equal(t, "monitoring.googleapis.com/v1", pm["apiVersion"])
	assert.Equal(t, "PodMonitoring", pm["kind"])
	assert.Equal(t, map[string]any{"app.kubernetes.io/name": "llama-3-1-8b-vllm", "app.kubernetes.io/component": "model-server"},
		dig(t, pm, "spec.selector.matchLabels"))
	assert.Equal(t, dig(t, pm, "spec.selector.matchLabels"), dig(t, server(t, rec), "spec.selector.matchLabels"), "selects the server's pods")
	ep := dig(t, pm, "spec.endpoints.0").(map[string]any)
	assert.Equal(t, map[string]any{"port": "http", "path": "/metrics", "interval": "5s"}, ep)
}

func TestStackdriverAdapter(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t))
	subjects := map[string]any{}
	for _, b := range append(rec.byType(tCRB), rec.byType(tRB)...) {
		m := in(b)
		key := dig(t, m, "metadata.name").(string)
		subjects[key] = []any{dig(t, m, "roleRef.kind"), dig(t, m, "roleRef.name"), dig(t, m, "subjects.0.namespace"), dig(t, m, "subjects.0.name")}
	}
	assert.Equal(t, map[string]any{
		"custom-metrics:system:auth-delegator": []any{"ClusterRole", "system:auth-delegator", "custom-metrics", "custom-metrics-stackdriver-adapter"},
		"custom-metrics-auth-reader":           []any{"Role", "extension-apiserver-authentication-reader", "custom-metrics", "custom-metrics-stackdriver-adapter"},
		"custom-metrics-resource-reader":       []any{"ClusterRole", "custom-metrics-resource-reader", "custom-metrics", "custom-metrics-stackdriver-adapter"},
		"external-metrics-reader":              []any{"ClusterRole", "external-metrics-reader", "kube-system", "horizontal-pod-autoscaler"},
		"llama-3-1-8b-vllm-epp":                []any{"Role", "llama-3-1-8b-vllm-epp", "llm", "llama-3-1-8b-vllm-epp"}, // the gateway's picker
	}, subjects)
	rb := in(rec.named(t, tRB, "metrics-adapter-auth-reader"))
	assert.Equal(t, "kube-system", dig(t, rb, "metadata.namespace"))
	apis := map[string][]any{}
	for _, a := range rec.byType(tAPIService) {
		m := in(a)
		apis[dig(t, m, "metadata.name").(string)] = []any{dig(t, m, "spec.versionPriority"), dig(t, m, "spec.service.name"), dig(t, m, "spec.service.namespace")}
	}
	assert.Equal(t, map[string][]any{
		"v1beta1.custom.metrics.k8s.io":   {100.0, "custom-metrics-stackdriver-adapter", "custom-metrics"},
		"v1beta2.custom.metrics.k8s.io":   {200.0, "custom-metrics-stackdriver-adapter", "custom-metrics"},
		"v1beta1.external.metrics.k8s.io": {100.0, "custom-metrics-stackdriver-adapter", "custom-metrics"},
	}, apis)
	dep := in(rec.named(t, tDeployment, "metrics-adapter-deployment"))
	c := dig(t, dep, "spec.template.spec.containers.0").(map[string]any)
	assert.Equal(t, "gcr.io/gke-release/custom-metrics-stackdriver-adapter:v0.16.10-gke.0", c["image"])
	assert.Equal(t, []any{"/adapter", "--use-new-resource-model=true", "--fallback-for-container-metrics=true"}, c["command"])
}

func TestAdapterTolerationsOutsideStandard(t *testing.T) {
	rec := mustRun(t, "dev", modeConfigs(t)["autopilot"])
	dep := in(rec.named(t, tDeployment, "metrics-adapter-deployment"))
	tol := dig(t, dep, "spec.template.spec.tolerations").([]any)
	var keys []any
	for _, x := range tol {
		keys = append(keys, x.(map[string]any)["key"])
	}
	assert.Equal(t, []any{"google.com/tpu", "nvidia.com/gpu"}, keys)
}

func TestAdapterCanBeSkipped(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:metrics", map[string]any{"installAdapter": false}))
	assert.Empty(t, rec.byType(tAPIService))
	assert.Len(t, rec.byType(tDeployment), 2, "the server and the gateway's endpoint picker")
	assert.Len(t, rec.byType(tProjectMember), 1, "the adapter already in the cluster still needs its grant")
	assert.Len(t, rec.byType(tHPA), 1)
}

func TestSkipAwaitAnnotatesEveryObject(t *testing.T) {
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:skipAwait", "true"))
	for _, a := range rec.res {
		if strings.HasPrefix(a.TypeToken, "kubernetes:") {
			assert.Equal(t, "true", dig(t, in(a), "metadata.annotations.pulumi.com/skipAwait"), a.Name)
		}
	}
	rec = mustRun(t, "dev", devConfig(t))
	for _, a := range rec.res {
		if strings.HasPrefix(a.TypeToken, "kubernetes:") {
			if ann, ok := dig(t, in(a), "metadata").(map[string]any)["annotations"].(map[string]any); ok {
				assert.NotContains(t, ann, "pulumi.com/skipAwait", a.Name)
			}
		}
	}
}
