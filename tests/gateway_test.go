package tests

import (
	"strings"
	"testing"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// Type tokens of the gateway objects (issue 20, point 1).
const (
	tGateway           = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
	tHTTPRoute         = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
	tInferencePool     = "kubernetes:inference.networking.k8s.io/v1:InferencePool"
	tHealthCheckPolicy = "kubernetes:networking.gke.io/v1:HealthCheckPolicy"
	tGCPBackendPolicy  = "kubernetes:networking.gke.io/v1:GCPBackendPolicy"
	tRole              = "kubernetes:rbac.authorization.k8s.io/v1:Role"
	tRoleBinding       = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	tGKECluster        = "gcp:container/cluster:Cluster"
	tSubnetwork        = "gcp:compute/subnetwork:Subnetwork"
	tInferenceGateway  = "llmserve:serving:InferenceGateway"
)

// gatewayConfig is the dev stack routed through GKE Inference Gateway, internal.
func gatewayConfig(t testing.TB) stackConfig {
	return devConfig(t).with("llmserve:serving", m{"routing": "gateway", "exposure": "internal"})
}

// only returns the one recorded resource of a type, by its inputs.
func only(t *testing.T, rec *recorder, token string) map[string]any {
	t.Helper()
	return in(rec.one(t, token))
}

// pickerDeployment is the endpoint picker's Deployment (named <model>-epp).
func pickerDeployment(t *testing.T, rec *recorder) map[string]any {
	t.Helper()
	for _, a := range rec.byType(tDeployment) {
		if strings.HasSuffix(dig(t, in(a), "metadata.name").(string), "-epp") {
			return in(a)
		}
	}
	t.Fatal("no endpoint picker deployment")
	return nil
}

// TestRoutingDefault: with serving.routing left out, vLLM on a cluster llmserve creates is
// routed through the gateway (internal); every case the gateway cannot serve, or that the
// user's own words rule out, keeps the plain Service and registers no gateway object.
func TestRoutingDefault(t *testing.T) {
	dev := devConfig(t)
	zones := []any{"us-central1-b"}
	cases := []struct {
		name     string
		cfg      stackConfig
		gateway  bool
		exposure string // the Service's spec.type
	}{
		{"vLLM standard", dev, true, "ClusterIP"},
		{"vLLM autopilot", dev.with("llmserve:cluster", m{"mode": "autopilot", "name": "llm-dev"}), true, "ClusterIP"},
		{"exposure internal written", dev.with("llmserve:serving", m{"exposure": "internal"}), true, "ClusterIP"},
		{"exposure cluster written", dev.with("llmserve:serving", m{"exposure": "cluster"}), false, "ClusterIP"},
		{"version below the gateway's", dev.with("llmserve:cluster", m{"mode": "standard", "name": "llm-dev", "zones": zones, "version": "1.32.2-gke.1297000"}), false, "ClusterIP"},
		{"version at the gateway's", dev.with("llmserve:cluster", m{"mode": "standard", "name": "llm-dev", "zones": zones, "version": "1.32.3-gke.1170000"}), true, "ClusterIP"},
		{"JetStream", dev.with("llmserve:model", "gemma-7b").without("llmserve:overrides"), false, "ClusterIP"},
		{"routing service written, exposure internal", dev.with("llmserve:serving", m{"routing": "service", "exposure": "internal"}), false, "LoadBalancer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := mustRun(t, "dev", tc.cfg)
			for _, token := range []string{tGateway, tHTTPRoute, tInferencePool, tHealthCheckPolicy, tGCPBackendPolicy, tSubnetwork, tInferenceGateway} {
				if tc.gateway {
					assert.Len(t, rec.byType(token), 1, token)
				} else {
					assert.Empty(t, rec.byType(token), token)
				}
			}
			cl := only(t, rec, tGKECluster)
			if tc.gateway {
				// Internal unless the user consented to public: never a public default.
				assert.Equal(t, catalog.GatewayClassInternal, dig(t, only(t, rec, tGateway), "spec.gatewayClassName"))
				assert.Contains(t, cl, "gatewayApiConfig")
			} else {
				assert.NotContains(t, cl, "gatewayApiConfig", "the Gateway API is turned on only for routing gateway")
			}
			for _, svc := range rec.byType(tService) {
				if strings.HasSuffix(svc.Name, "-vllm-service") || strings.HasSuffix(svc.Name, "-jetstream-service") {
					assert.Equal(t, tc.exposure, dig(t, in(svc), "spec.type"), svc.Name)
				}
			}
		})
	}
}

// TestRoutingDefaultNotes: `llmserve validate`'s note says which routing the default chose
// and why (an existing cluster keeps the Service: llmserve did not enable its Gateway API);
// a written routing gets no note.
func TestRoutingDefaultNotes(t *testing.T) {
	std := func(model string, serving stacks.ServingConfig) (deploy.Target, deploy.Settings) {
		return deploy.Target{Env: "dev", Model: model}, deploy.Settings{
			Project: "my-project", Region: "us-central1", HFToken: testToken, Serving: serving,
			Cluster: stacks.ClusterConfig{Mode: "standard", Name: "llm-dev", Zones: []string{"us-central1-b"}},
		}
	}
	noGCP := false
	type tcase struct {
		target   deploy.Target
		settings deploy.Settings
		want     string
	}
	var cases []tcase
	add := func(want string, tg deploy.Target, s deploy.Settings) { cases = append(cases, tcase{tg, s, want}) }
	tg, s := std("llama-3.1-8b", stacks.ServingConfig{})
	add("serving.routing gateway (the default here: vLLM on a GKE cluster llmserve creates", tg, s)
	tg, s = std("gemma-7b", stacks.ServingConfig{})
	add("serving.routing service (the default here: engine jetstream", tg, s)
	tg, s = std("llama-3.1-8b", stacks.ServingConfig{Routing: "service"})
	add("", tg, s)
	add("serving.routing service (the default here: an existing cluster", deploy.Target{Env: "lab", Model: "llama-3.1-8b"}, deploy.Settings{
		Project: "my-project", Region: "us-central1", GCPResources: &noGCP, HFToken: testToken,
		Cluster: stacks.ClusterConfig{Mode: "existing", Name: "mine"}, ModelStore: stacks.ModelStoreConfig{Bucket: "my-weights"},
	})
	for _, tc := range cases {
		cfg, err := deploy.Check(tc.target, tc.settings)
		require.NoError(t, err, tc.target.StackName())
		if tc.want == "" {
			assert.Empty(t, cfg.Notes(), tc.target.StackName())
			continue
		}
		require.Len(t, cfg.Notes(), 1, tc.target.StackName())
		assert.Contains(t, cfg.Notes()[0], tc.want)
	}
}

// TestGatewayRoutesToThePool follows every reference from the Gateway to the server pods:
// names, ports and selectors come from the objects they point at, never retyped.
func TestGatewayRoutesToThePool(t *testing.T) {
	rec := mustRun(t, "dev", gatewayConfig(t))
	gw, route, pool := only(t, rec, tGateway), only(t, rec, tHTTPRoute), only(t, rec, tInferencePool)
	srv := server(t, rec)
	ns := dig(t, srv, "metadata.namespace")
	for _, o := range []map[string]any{gw, route, pool} {
		assert.Equal(t, ns, dig(t, o, "metadata.namespace"), "gateway objects live with the server")
	}

	assert.Equal(t, catalog.GatewayClassInternal, dig(t, gw, "spec.gatewayClassName"), "internal unless the public consent is given")
	parent := dig(t, route, "spec.parentRefs").([]any)[0].(map[string]any)
	assert.Equal(t, m{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": dig(t, gw, "metadata.name")}, parent)
	rule := dig(t, route, "spec.rules").([]any)[0].(map[string]any)
	assert.Equal(t, []any{m{"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": dig(t, pool, "metadata.name")}}, rule["backendRefs"])

	// The pool selects exactly the server's pods, on the server's container port.
	assert.Equal(t, dig(t, srv, "spec.selector.matchLabels"), dig(t, pool, "spec.selector.matchLabels"))
	serverPort := dig(t, container(t, srv, "server"), "ports").([]any)[0].(map[string]any)["containerPort"]
	assert.Equal(t, []any{m{"number": serverPort}}, dig(t, pool, "spec.targetPorts"))

	// The pool's picker is the picker Service, on its ext-proc port, which reaches the
	// picker container's grpc port.
	pickerSvc := in(rec.named(t, tService, "llama-3-1-8b-vllm-routing-epp-service"))
	ref := dig(t, pool, "spec.endpointPickerRef").(map[string]any)
	assert.Equal(t, dig(t, pickerSvc, "metadata.name"), ref["name"])
	var extProc map[string]any
	for _, p := range dig(t, pickerSvc, "spec.ports").([]any) {
		if p.(map[string]any)["name"] == "grpc-ext-proc" {
			extProc = p.(map[string]any)
		}
	}
	require.NotNil(t, extProc, "picker Service has no grpc-ext-proc port")
	assert.Equal(t, m{"number": extProc["port"]}, ref["port"])
	picker := pickerDeployment(t, rec)
	assert.Equal(t, dig(t, picker, "spec.selector.matchLabels"), dig(t, pickerSvc, "spec.selector"))
	ports := map[string]any{}
	for _, p := range dig(t, container(t, picker, "epp"), "ports").([]any) {
		ports[p.(map[string]any)["name"].(string)] = p.(map[string]any)["containerPort"]
	}
	assert.Equal(t, extProc["port"], ports[extProc["targetPort"].(string)])

	// The server's own Service stays inside the cluster: the Gateway is the one load balancer.
	assert.Equal(t, "ClusterIP", dig(t, in(rec.named(t, tService, "llama-3-1-8b-vllm-service")), "spec.type"))
}

// TestGKEPolicies: the health check is built from the current CRD (portSpecification with
// port), on the server's port and health path; the backend timeout is long enough for a
// long generation.
func TestGKEPolicies(t *testing.T) {
	rec := mustRun(t, "dev", gatewayConfig(t))
	pool := only(t, rec, tInferencePool)
	target := m{"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": dig(t, pool, "metadata.name")}
	hc, be := only(t, rec, tHealthCheckPolicy), only(t, rec, tGCPBackendPolicy)
	assert.Equal(t, target, dig(t, hc, "spec.targetRef"))
	assert.Equal(t, target, dig(t, be, "spec.targetRef"))
	http := dig(t, hc, "spec.default.config.httpHealthCheck").(map[string]any)
	assert.Equal(t, "USE_FIXED_PORT", http["portSpecification"], "the CRD's CEL rule: a port needs USE_FIXED_PORT")
	assert.Equal(t, dig(t, pool, "spec.targetPorts").([]any)[0].(map[string]any)["number"], http["port"])
	readiness := dig(t, container(t, server(t, rec), "server"), "readinessProbe.httpGet.path")
	assert.Equal(t, readiness, http["requestPath"], "the load balancer checks what the kubelet checks")
	assert.LessOrEqual(t, dig(t, hc, "spec.default.timeoutSec"), dig(t, hc, "spec.default.checkIntervalSec"))
	assert.GreaterOrEqual(t, dig(t, be, "spec.default.timeoutSec"), 300.0, "at least the chart's 5 minutes")
}

func TestPublicGatewayNeedsConsent(t *testing.T) {
	_, err := run(t, "dev", devConfig(t).with("llmserve:serving", m{"routing": "gateway", "exposure": "public"}))
	require.ErrorContains(t, err, "serving.allowPublic: true")
	rec := mustRun(t, "dev", devConfig(t).with("llmserve:serving", m{"routing": "gateway", "exposure": "public", "allowPublic": true}))
	assert.Equal(t, catalog.GatewayClassExternal, dig(t, only(t, rec, tGateway), "spec.gatewayClassName"))
	assert.Equal(t, "ClusterIP", dig(t, in(rec.named(t, tService, "llama-3-1-8b-vllm-service")), "spec.type"), "no second, public, load balancer")
}

// TestEndpointPicker: its config is the file its flag names, it finds its pool by name and
// namespace, it stays off the accelerators, and it may only read.
func TestEndpointPicker(t *testing.T) {
	rec := mustRun(t, "dev", gatewayConfig(t))
	dep := pickerDeployment(t, rec)
	c := container(t, dep, "epp")
	assert.Equal(t, catalog.EPPImage, c["image"])
	args := map[string]string{}
	list := dig(t, c, "args").([]any)
	for i := 0; i < len(list); i++ {
		a := list[i].(string)
		if k, v, ok := strings.Cut(a, "="); ok {
			args[k] = v
		} else if i+1 < len(list) && !strings.HasPrefix(list[i+1].(string), "--") {
			args[a] = list[i+1].(string)
			i++
		}
	}
	pool := only(t, rec, tInferencePool)
	assert.Equal(t, dig(t, pool, "metadata.name"), args["--pool-name"])
	assert.Equal(t, "$(NAMESPACE)", args["--pool-namespace"])
	assert.Contains(t, envMap(c), "NAMESPACE", "--pool-namespace expands $(NAMESPACE)")
	assert.Equal(t, "inference.networking.k8s.io", args["--pool-group"])
	assert.Equal(t, "false", args["--tracing"], "no OTLP collector to export to")

	// --config-file is a key of the ConfigMap mounted at its directory.
	mount := dig(t, c, "volumeMounts").([]any)[0].(map[string]any)
	require.True(t, strings.HasPrefix(args["--config-file"], mount["mountPath"].(string)+"/"))
	key := strings.TrimPrefix(args["--config-file"], mount["mountPath"].(string)+"/")
	cm := in(rec.named(t, tConfigMap, "llama-3-1-8b-vllm-routing-epp-config"))
	vol := dig(t, dep, "spec.template.spec.volumes").([]any)[0].(map[string]any)
	assert.Equal(t, dig(t, cm, "metadata.name"), dig(t, vol, "configMap.name"))
	raw, ok := dig(t, cm, "data").(map[string]any)[key].(string)
	require.True(t, ok, "ConfigMap has no %s", key)
	var conf struct {
		Kind    string `yaml:"kind"`
		Plugins []struct {
			Type string `yaml:"type"`
		} `yaml:"plugins"`
		Profiles []struct {
			Plugins []struct {
				PluginRef string `yaml:"pluginRef"`
				Weight    int    `yaml:"weight"`
			} `yaml:"plugins"`
		} `yaml:"schedulingProfiles"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(raw), &conf))
	assert.Equal(t, "EndpointPickerConfig", conf.Kind)
	declared := map[string]bool{}
	for _, p := range conf.Plugins {
		declared[p.Type] = true
	}
	require.Len(t, conf.Profiles, 1)
	for _, ref := range conf.Profiles[0].Plugins {
		assert.True(t, declared[ref.PluginRef], "profile uses undeclared plugin %s", ref.PluginRef)
		assert.Positive(t, ref.Weight, ref.PluginRef)
	}
	assert.True(t, declared["queue-scorer"] && declared["kv-cache-utilization-scorer"], "routes by queue and KV-cache use")

	// Off the accelerator pool: no accelerator toleration or selector, and an affinity
	// that refuses TPU and GPU nodes.
	spec := dig(t, dep, "spec.template.spec").(map[string]any)
	assert.NotContains(t, spec, "tolerations")
	assert.NotContains(t, spec, "nodeSelector")
	var refused []string
	for _, term := range dig(t, spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms").([]any) {
		for _, e := range term.(map[string]any)["matchExpressions"].([]any) {
			if e.(map[string]any)["operator"] == "DoesNotExist" {
				refused = append(refused, e.(map[string]any)["key"].(string))
			}
		}
	}
	assert.ElementsMatch(t, []string{catalog.LabelTPUAccelerator, catalog.LabelGKEAccelerator}, refused)
	sc := c["securityContext"].(map[string]any)
	assert.Equal(t, true, sc["runAsNonRoot"])
	assert.Equal(t, true, sc["readOnlyRootFilesystem"])
	assert.Equal(t, "Recreate", dig(t, dep, "spec.strategy.type"), "one active picker")

	// Read-only, namespaced RBAC bound to the picker's own service account.
	role := in(rec.named(t, tRole, "llama-3-1-8b-vllm-routing-epp-role"))
	resources := map[string]bool{}
	for _, r := range dig(t, role, "rules").([]any) {
		rule := r.(map[string]any)
		assert.ElementsMatch(t, []any{"get", "watch", "list"}, rule["verbs"], "picker rule %v", rule)
		for _, res := range rule["resources"].([]any) {
			resources[res.(string)] = true
		}
	}
	assert.True(t, resources["pods"] && resources["inferencepools"], "the picker watches pods and its pool: %v", resources)
	binding := in(rec.named(t, tRoleBinding, "llama-3-1-8b-vllm-routing-epp-rolebinding"))
	assert.Equal(t, dig(t, role, "metadata.name"), dig(t, binding, "roleRef.name"))
	subject := dig(t, binding, "subjects").([]any)[0].(map[string]any)
	assert.Equal(t, dig(t, spec, "serviceAccountName"), subject["name"])
	for _, cr := range rec.byType(tClusterRole) {
		assert.NotContains(t, cr.Name, "epp", "the picker needs no cluster-wide access")
	}
}

// TestGatewayGCPHalf: the cluster gets the Gateway API and HttpLoadBalancing, and the
// region a proxy-only subnet unless one is named.
func TestGatewayGCPHalf(t *testing.T) {
	rec := mustRun(t, "dev", gatewayConfig(t))
	cl := only(t, rec, tGKECluster)
	assert.Equal(t, "CHANNEL_STANDARD", dig(t, cl, "gatewayApiConfig.channel"))
	assert.Equal(t, false, dig(t, cl, "addonsConfig.httpLoadBalancing.disabled"))
	sn := only(t, rec, tSubnetwork)
	assert.Equal(t, "REGIONAL_MANAGED_PROXY", sn["purpose"])
	assert.Equal(t, "ACTIVE", sn["role"])
	assert.Equal(t, "us-central1", sn["region"], "the cluster's region")
	assert.Equal(t, "default", sn["network"], "the cluster's network")
	assert.Equal(t, catalog.DefaultProxySubnetRange, sn["ipCidrRange"])

	rec = mustRun(t, "dev", devConfig(t).
		with("llmserve:serving", m{"routing": "gateway", "exposure": "internal", "gateway": m{"proxySubnetRange": "10.200.0.0/24"}}).
		with("llmserve:cluster", m{"mode": "standard", "name": "llm-dev", "zones": []string{"us-central1-b"}, "network": "vpc1"}))
	sn = only(t, rec, tSubnetwork)
	assert.Equal(t, "10.200.0.0/24", sn["ipCidrRange"])
	assert.Equal(t, "vpc1", sn["network"])

	rec = mustRun(t, "dev", devConfig(t).with("llmserve:serving", m{"routing": "gateway", "exposure": "internal", "gateway": m{"proxySubnet": "proxy-us-central1"}}))
	assert.Empty(t, rec.byType(tSubnetwork), "a named proxy-only subnet is used, not created")
	assert.NotEmpty(t, rec.byType(tGateway))

	rec = mustRun(t, "dev", gatewayConfig(t).with("llmserve:cluster", m{"mode": "autopilot", "name": "llm-dev"}))
	cl = only(t, rec, tGKECluster)
	assert.Equal(t, "CHANNEL_STANDARD", dig(t, cl, "gatewayApiConfig.channel"))
	assert.NotContains(t, cl, "addonsConfig", "Autopilot manages its add-ons")
}

// routingInvalidCases are the invalid routing configs, each with its exact message; the
// same check as TestInvalidConfig's table.
var routingInvalidCases = []invalidCase{
	{"bad routing", set("llmserve:serving", m{"routing": "mesh"}),
		`llmserve:serving.routing "mesh": want gateway (GKE Inference Gateway, the default where it can run) or service (a Kubernetes Service)`},
	{"gateway on cluster exposure", set("llmserve:serving", m{"routing": "gateway", "exposure": "cluster"}),
		"llmserve:serving.routing gateway: a GKE Gateway is a load balancer reachable from the whole VPC, wider than exposure cluster; set serving.exposure internal (gke-l7-rilb), or public with serving.allowPublic (gke-l7-regional-external-managed)"},
	{"gateway with jetstream", set("llmserve:model", "gemma-7b").andThen(func(c stackConfig) stackConfig { return c.without("llmserve:overrides") }).
		andThen(set("llmserve:serving", m{"routing": "gateway", "exposure": "internal"})),
		"llmserve:serving.routing gateway: the endpoint picker (registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0) reads vLLM's queue and KV-cache metrics on the serving port, and engine jetstream exports none there; keep serving.routing service for gemma-7b"},
	{"gateway on old gke", set("llmserve:serving", m{"routing": "gateway", "exposure": "internal"}).
		andThen(set("llmserve:cluster", m{"mode": "standard", "name": "llm-dev", "zones": []string{"us-central1-b"}, "version": "1.31"})),
		`llmserve:cluster.version "1.31": GKE Inference Gateway needs GKE 1.32.3 or later; use 1.32.3 or a later version, or leave it to the release channel`},
	{"gateway settings without gateway", set("llmserve:serving", m{"routing": "service", "gateway": m{"proxySubnet": "p"}}),
		"llmserve:serving.gateway: only used with serving.routing gateway (routing is service); remove it or set serving.routing gateway"},
	{"proxy subnet and range", set("llmserve:serving", m{"routing": "gateway", "exposure": "internal", "gateway": m{"proxySubnet": "p", "proxySubnetRange": "10.129.0.0/23"}}),
		`llmserve:serving.gateway: proxySubnet "p" names an existing subnet and proxySubnetRange "10.129.0.0/23" asks for a new one; set one of them`},
	{"proxy range not cidr", set("llmserve:serving", m{"routing": "gateway", "exposure": "internal", "gateway": m{"proxySubnetRange": "10.129.0.1/23"}}),
		`llmserve:serving.gateway.proxySubnetRange "10.129.0.1/23": want an IPv4 network in CIDR form such as 10.129.0.0/23`},
	{"proxy range too small", set("llmserve:serving", m{"routing": "gateway", "exposure": "internal", "gateway": m{"proxySubnetRange": "10.129.0.0/27"}}),
		`llmserve:serving.gateway.proxySubnetRange "10.129.0.0/27": a proxy-only subnet needs at least 64 addresses (a /26); Google recommends a /23`},
	{"proxy range on existing", set("llmserve:cluster", m{"mode": "existing", "name": "mine"}).andThen(set("llmserve:kubeconfig", testKubeconfig)).
		andThen(set("llmserve:serving", m{"routing": "gateway", "exposure": "internal", "gateway": m{"proxySubnetRange": "10.129.0.0/23"}})),
		"llmserve:serving.gateway.proxySubnetRange: llmserve creates no proxy-only subnet for an existing cluster; remove it, and make sure the cluster's region and network have one (gcloud compute networks subnets create NAME --purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE --region=REGION --network=NETWORK --range=RANGE)"},
}

func TestInvalidRoutingConfig(t *testing.T) {
	for _, tc := range routingInvalidCases {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := run(t, "dev", tc.cfg(devConfig(t)))
			require.Error(t, err)
			assert.Contains(t, strings.Split(err.Error(), "\n"), tc.want, "every line:\n%s", err)
			assert.Empty(t, rec.res, "nothing may be registered when the config is invalid")
		})
	}
}
