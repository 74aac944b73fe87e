package components

// Type tokens: llmserve:<area>:<Component>. Renaming one changes every child's URN, so
// a rename must come with pulumi.Aliases.
const (
	TypeCluster            = "llmserve:gke:Cluster"
	TypeTPUNodePool        = "llmserve:gke:TPUNodePool"
	TypeGPUNodePool        = "llmserve:gke:GPUNodePool"
	TypeModelStore         = "llmserve:storage:ModelStore"
	TypeAdapterIAM         = "llmserve:monitoring:AdapterIAM"
	TypeServingNamespace   = "llmserve:serving:ServingNamespace"
	TypeModelServer        = "llmserve:serving:ModelServer"
	TypePodMonitoring      = "llmserve:monitoring:PodMonitoring"
	TypeStackdriverAdapter = "llmserve:monitoring:StackdriverAdapter"
	TypePrometheusAdapter  = "llmserve:monitoring:PrometheusAdapter"
	TypePrometheusFrontend = "llmserve:monitoring:PrometheusFrontend"
	TypeDCGMExporter       = "llmserve:monitoring:DCGMExporter"
	TypeOperatorMonitoring = "llmserve:monitoring:OperatorMonitoring"
	TypeAutoscaler         = "llmserve:autoscaling:Autoscaler"
	TypeCapacityBuffer     = "llmserve:autoscaling:CapacityBuffer"
	// TypeInferenceGateway is GKE Inference Gateway for one model (serving.routing gateway).
	TypeInferenceGateway = "llmserve:serving:InferenceGateway"
	// TypeProxySubnet is the region's proxy-only subnet the gateway's load balancer needs.
	TypeProxySubnet = "llmserve:gke:ProxySubnet"
)

// typeServingAccountOld is ServingNamespace's token before its rename: its alias.
const typeServingAccountOld = "llmserve:serving:ServingAccount"
