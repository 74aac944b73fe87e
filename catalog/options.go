package catalog

// The values of llmserve's enumerated config keys. Validation, defaults, components and the
// llmserve command all name them through these constants.

// Engine names, as written in config.
const (
	EngineVLLM      = "vllm"
	EngineJetStream = "jetstream"
)

// Metrics adapters and backends, as written in config.
const (
	AdapterStackdriver = "stackdriver"
	AdapterPrometheus  = "prometheus-adapter"
	AdapterNone        = "none"

	BackendManaged  = "managed-prometheus"
	BackendOperator = "prometheus-operator"
)

// Cluster modes (llmserve:cluster.mode).
const (
	ModeStandard  = "standard"
	ModeAutopilot = "autopilot"
	ModeExisting  = "existing"
)

// XLA compilation cache modes (storage.xlaCache of a profile).
const (
	// XLACacheShared compiles into a pod-local directory, restores the first complete
	// published cache before the server starts and publishes its own only if none exists.
	XLACacheShared = "shared"
	// XLACachePerPod keeps a pod-local cache and shares nothing.
	XLACachePerPod = "per-pod"
	// XLACacheOff sets no cache path.
	XLACacheOff = "off"
)

// Exposure of the inference endpoint (llmserve:serving.exposure).
const (
	ExposureCluster  = "cluster"  // ClusterIP: reachable only inside the cluster
	ExposureInternal = "internal" // GKE internal passthrough load balancer in the VPC
	ExposurePublic   = "public"   // external load balancer: an unauthenticated LLM on the internet
)
