package catalog

// Routing (llmserve:serving.routing): how requests reach the server replicas.
const (
	// RoutingService is a Kubernetes Service: kube-proxy spreads connections at random
	// across ready pods. The default until the lab has measured the gateway (issue 20).
	RoutingService = "service"
	// RoutingGateway is GKE Inference Gateway: a Gateway and HTTPRoute in front of an
	// InferencePool whose endpoint picker chooses a replica per request by its queue and
	// KV-cache use.
	RoutingGateway = "gateway"
)

// The Gateway API Inference Extension release llmserve builds from. Everything below that
// names "v1.5.0" was read in the module sigs.k8s.io/gateway-api-inference-extension@v1.5.0
// (tag v1.5.0, commit df9f8909fe06fe2dfd4a6fc0bd0c01a0acabf849), the last release with the
// endpoint picker and its Helm chart in that repository (its README at v1.6.2 says they
// moved to llm-d/llm-d-router). It is also the version llm-d's GKE guide installs the
// CRDs from (llm-d.ai/docs/infrastructure/gateway/gke, GAIE_VERSION=v1.5.0).
const (
	InferenceExtensionVersion = "v1.5.0"
	InferenceExtensionCommit  = "df9f8909fe06fe2dfd4a6fc0bd0c01a0acabf849"
	// EPPImage is the endpoint picker at that release (config/charts/inferencepool/
	// values.yaml: registry.k8s.io, gateway-api-inference-extension/epp, tag v1.5.0). Its
	// Dockerfile builds on gcr.io/distroless/static:nonroot (Makefile BASE_IMAGE), user
	// 65532.
	EPPImage = "registry.k8s.io/gateway-api-inference-extension/epp:" + InferenceExtensionVersion
	// EPPUser is distroless's nonroot user.
	EPPUser = 65532
	// GatewayAPIVersion is the Gateway API release whose standard CRDs the apiserver tests
	// install (sigs.k8s.io/gateway-api config/crd/standard). GKE installs its own on
	// clusters with the Gateway API enabled.
	GatewayAPIVersion = "v1.4.1"
)

// API versions of the gateway objects.
const (
	// InferencePoolAPIVersion is the GA InferencePool (config/crd/bases/
	// inference.networking.k8s.io_inferencepools.yaml at v1.5.0: v1, served and stored).
	InferencePoolAPIVersion = "inference.networking.k8s.io/v1"
	InferencePoolGroup      = "inference.networking.k8s.io"
	// InferenceExperimentalGroup holds InferenceObjective and InferenceModelRewrite, which
	// the endpoint picker watches when their CRDs exist (pkg/epp/server/
	// controller_config.go at v1.5.0 asks discovery; absent CRDs are skipped).
	InferenceExperimentalGroup = "inference.networking.x-k8s.io"
	GatewayAPIGroup            = "gateway.networking.k8s.io"
	GatewayAPIVersionV1        = "gateway.networking.k8s.io/v1"
	// GKEPolicyAPIVersion is GKE's HealthCheckPolicy and GCPBackendPolicy (the CRDs in
	// GoogleCloudPlatform/gke-gateway-api config/crd at fc40d60 serve v1).
	GKEPolicyAPIVersion = "networking.gke.io/v1"
)

// GKE Gateway classes (GKE "GatewayClass capabilities"; llm-d's GKE guide uses both).
const (
	// GatewayClassInternal is a regional internal Application Load Balancer: reachable
	// from the VPC only. llmserve's default for routing gateway.
	GatewayClassInternal = "gke-l7-rilb"
	// GatewayClassExternal is a regional external Application Load Balancer: reachable from
	// the internet. Only with serving.exposure public and serving.allowPublic.
	GatewayClassExternal = "gke-l7-regional-external-managed"
)

// Endpoint picker ports (pkg/epp/server/options.go at v1.5.0: DefaultGrpcPort 9002,
// GRPCHealthPort 9003, MetricsPort 9090; the chart's container ports have the same).
const (
	EPPGRPCPort    = 9002
	EPPHealthPort  = 9003
	EPPMetricsPort = 9090
	// EPPHealthService is the gRPC health service a single-replica picker answers to
	// (epplib/templates/_deployment.yaml at v1.5.0: service inference-extension unless
	// replicas > 1).
	EPPHealthService = "inference-extension"
)

// EPPPluginsConfig is the endpoint picker's EndpointPickerConfig: the default the v1.5.0
// chart renders for vLLM over HTTP without the latency predictor (config/charts/epplib/
// templates/_config.yaml): queue, KV-cache and prefix-cache scorers weighted 2, 2 and 3,
// and the data layer scraping each pod's /metrics over http. core-metrics-extractor reads
// vLLM's metrics by default (pkg/epp/framework/plugins/datalayer/extractor/metrics/
// factories.go: vllm:num_requests_waiting, vllm:num_requests_running,
// vllm:kv_cache_usage_perc, vllm:lora_requests_info, vllm:cache_config_info).
const EPPPluginsConfig = `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: prefix-cache-scorer
- type: metrics-data-source
  parameters:
    scheme: "http"
    path: "/metrics"
    insecureSkipVerify: true
- type: core-metrics-extractor
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
    weight: 2
  - pluginRef: kv-cache-utilization-scorer
    weight: 2
  - pluginRef: prefix-cache-scorer
    weight: 3
`

// EPPConfigFile is the file name the picker reads its config from (the chart's
// pluginsConfigFile default, default-plugins.yaml, mounted at /config).
const EPPConfigFile = "default-plugins.yaml"

// EPPEngines are the engines whose metrics the v1.5.0 endpoint picker can read: its
// built-in engine configs are vllm, sglang, trtllm-serve and triton-tensorrt-llm
// (factories.go defaultEngineConfigs), and it scrapes each pod's serving port (pkg/epp/
// datastore/datastore.go: the metrics port is the target port unless the deprecated
// --model-server-metrics-port is set). JetStream is not one, and serves its metrics on a
// separate port (its prometheus_port), so a JetStream stack keeps the Service.
var EPPEngines = []string{EngineVLLM}

// GKE requirements for the Inference Gateway ("Deploy GKE Inference Gateway", GKE Gateway
// controller requirements: GKE 1.32.3, VPC-native clusters only, a proxy-only subnet, the
// HttpLoadBalancing add-on).
const (
	GatewayMinGKEVersion = "1.32.3"
	// ProxySubnetPurpose and ProxySubnetRole make a proxy-only subnet for regional
	// Envoy-based load balancers (compute Subnetwork: purpose REGIONAL_MANAGED_PROXY, role
	// ACTIVE; one active per region and VPC network).
	ProxySubnetPurpose = "REGIONAL_MANAGED_PROXY"
	ProxySubnetRole    = "ACTIVE"
	// DefaultProxySubnetRange is the range llmserve gives a proxy-only subnet it creates:
	// the example range of Google's "Proxy-only subnets for Envoy-based load balancers",
	// a /23, the size Google recommends there (at least 64 addresses, a /26, is required).
	// It must not overlap the network's other ranges: set serving.gateway.proxySubnetRange
	// on a network that uses it, or name an existing subnet with serving.gateway.proxySubnet.
	DefaultProxySubnetRange = "10.129.0.0/23"
	// GatewayBackendTimeoutSec is the load balancer's backend timeout on the InferencePool
	// (GCPBackendPolicy timeoutSec). An Application Load Balancer's backend service
	// timeout bounds the whole response, a streamed one included (Cloud Load Balancing
	// "Backend service timeout"); the chart's 300 s (gke.yaml at v1.5.0) cuts a long
	// generation on a busy replica, so llmserve allows 10 minutes. An assumption, not a
	// measurement: a 4096-token answer at 10 tokens/s takes about 7 minutes.
	GatewayBackendTimeoutSec = 600
)

// The endpoint picker's requests (memory is also its limit). The v1.5.0 chart requests
// 4 CPUs and 8Gi (config/charts/inferencepool/values.yaml), a whole e2-standard-4 system
// node; llmserve's single-model pools of a few replicas ask less of it. An assumption to
// revisit with the picker's own CPU use on a real cluster.
const (
	EPPCPU    = "1"
	EPPMemory = "2Gi"
)
