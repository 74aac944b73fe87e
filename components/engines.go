package components

import (
	"fmt"
	"path"
	"strconv"

	"github.com/llmserve/llmserve/catalog"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Engine ports. vLLM serves the OpenAI API, /health and /metrics on one port; JetStream's
// maxengine-server speaks gRPC on 9000, its jetstream-http sidecar serves REST and
// /healthcheck on the HTTP port, and metrics come from prometheus_port (seed 000, ai-on-gke
// tutorials-and-examples/inference-servers/jetstream/maxtext/single-host-inference).
const (
	PortNameHTTP    = "http"
	PortNameGRPC    = "grpc"
	PortNameMetrics = "metrics"
	JetStreamGRPC   = 9000
)

// VLLMArgs are the vLLM server's flags.
type VLLMArgs struct {
	TensorParallelSize  int
	MaxModelLen         int
	MaxNumSeqs          int
	MaxNumBatchedTokens int
	ExtraArgs           []string
}

// JetStreamArgs are the MaxText maxengine-server settings.
type JetStreamArgs struct {
	// CheckpointSource is the Kaggle model handle the conversion Job downloads and turns
	// into the MaxText checkpoint at CheckpointPath ("" for none: the checkpoint is the
	// user's); ConverterImage runs it and KaggleSecret holds kaggle.json.
	CheckpointSource, ConverterImage, KaggleSecret string
	HTTPImage                                      string
	ModelName                                      string
	TokenizerPath                                  string
	CheckpointPath                                 string // inside the bucket
	PerDeviceBatchSize                             int
	MaxPrefillPredictLength                        int
	MaxTargetLength                                int
	WeightDType                                    string
	MetricsPort                                    int
	ExtraArgs                                      []string
}

// engineSpec is what an engine contributes to the pod.
type engineSpec struct {
	containers  corev1.ContainerArray
	healthPath  string
	metricsPort string // port name the PodMonitoring scrapes
	metricsPath string
	servicePort []corev1.ServicePortArgs
	// weightsReady is the bucket path whose existence means the weights are there.
	weightsReady string
}

func (a *ModelServerArgs) engine(env corev1.EnvVarArray, mounts corev1.VolumeMountArray) engineSpec {
	if a.Engine == catalog.EngineJetStream {
		return a.jetstream(env, mounts)
	}
	return a.vllm(env, mounts)
}

func (a *ModelServerArgs) vllm(env corev1.EnvVarArray, mounts corev1.VolumeMountArray) engineSpec {
	v := a.VLLM
	args := []string{
		"--host=0.0.0.0",
		fmt.Sprintf("--port=%d", a.Port),
		// The weights the download Job left in the bucket, served under the model's id.
		"--model=" + WeightsDir(a.GCSFuse.MountPath, a.Model),
		"--served-model-name=" + a.Model,
		fmt.Sprintf("--tensor-parallel-size=%d", v.TensorParallelSize),
		fmt.Sprintf("--max-model-len=%d", v.MaxModelLen),
		fmt.Sprintf("--max-num-seqs=%d", v.MaxNumSeqs),
		fmt.Sprintf("--max-num-batched-tokens=%d", v.MaxNumBatchedTokens),
	}
	args = append(args, v.ExtraArgs...)
	c := corev1.ContainerArgs{
		Name:            pulumi.String("server"),
		Image:           pulumi.String(a.Image),
		Command:         pulumi.ToStringArray([]string{"python3", "-m", "vllm.entrypoints.openai.api_server"}),
		Args:            pulumi.ToStringArray(args),
		Env:             env,
		Ports:           corev1.ContainerPortArray{port(PortNameHTTP, a.Port)},
		Resources:       a.resources(),
		VolumeMounts:    mounts,
		StartupProbe:    a.startupProbe("/health"),
		ReadinessProbe:  httpProbe("/health", 10, 3),
		LivenessProbe:   httpProbe("/health", 30, 5),
		SecurityContext: containerSecurity(rootImage),
	}
	return engineSpec{
		containers:   corev1.ContainerArray{c},
		healthPath:   "/health",
		weightsReady: path.Join(WeightsDir(a.GCSFuse.MountPath, a.Model), WeightsCompleteMarker),
		metricsPort:  PortNameHTTP,
		metricsPath:  "/metrics",
		servicePort:  []corev1.ServicePortArgs{svcPort(PortNameHTTP, a.Port)},
	}
}

func (a *ModelServerArgs) jetstream(env corev1.EnvVarArray, mounts corev1.VolumeMountArray) engineSpec {
	j := a.JetStream
	args := []string{
		"model_name=" + j.ModelName,
		"tokenizer_path=" + j.TokenizerPath,
		fmt.Sprintf("per_device_batch_size=%d", j.PerDeviceBatchSize),
		fmt.Sprintf("max_prefill_predict_length=%d", j.MaxPrefillPredictLength),
		fmt.Sprintf("max_target_length=%d", j.MaxTargetLength),
		"async_checkpointing=false",
		// All chips of the slice serve one model copy (seed 000's single-host settings).
		"ici_fsdp_parallelism=1",
		"ici_autoregressive_parallelism=-1",
		"ici_tensor_parallelism=1",
		"scan_layers=false",
		"weight_dtype=" + j.WeightDType,
		// The checkpoint is read through the GCS FUSE mount, with its parallel downloads.
		"load_parameters_path=" + path.Join(a.GCSFuse.MountPath, j.CheckpointPath),
		"attention=dot_product",
		"prometheus_port=" + strconv.Itoa(j.MetricsPort),
	}
	if a.XLACache.Mode != catalog.XLACacheOff {
		// MaxText's own key for the JAX compilation cache (see XLACacheArgs.env): without
		// it the cache lands in ~/jax_cache and the publish sidecar finds nothing.
		args = append(args, "jax_cache_dir="+XLACacheDir)
	}
	args = append(args, j.ExtraArgs...)
	server := corev1.ContainerArgs{
		Name:            pulumi.String("server"),
		Image:           pulumi.String(a.Image),
		Args:            pulumi.ToStringArray(args),
		Env:             env,
		Ports:           corev1.ContainerPortArray{port(PortNameGRPC, JetStreamGRPC), port(PortNameMetrics, j.MetricsPort)},
		Resources:       a.resources(),
		VolumeMounts:    mounts,
		SecurityContext: containerSecurity(rootImage),
	}
	// The HTTP sidecar answers /healthcheck by asking the server over gRPC, so its probes
	// tell whether the model is loaded.
	http := corev1.ContainerArgs{
		Name:           pulumi.String("jetstream-http"),
		Image:          pulumi.String(j.HTTPImage),
		Ports:          corev1.ContainerPortArray{port(PortNameHTTP, a.Port)},
		StartupProbe:   a.startupProbe("/healthcheck"),
		ReadinessProbe: httpProbe("/healthcheck", 10, 3),
		LivenessProbe:  httpProbe("/healthcheck", 30, 5),
		// jetstream-http is built FROM ubuntu:22.04 with no USER line: root (ai-on-gke
		// tutorials-and-examples/inference-servers/jetstream/http-server/Dockerfile @ 15ba1dc).
		SecurityContext: containerSecurity(rootImage),
	}
	return engineSpec{
		containers: corev1.ContainerArray{server, http},
		healthPath: "/healthcheck",
		// The conversion's output (checkpoint_converter.sh exits 0 even when it did
		// nothing, so the path, not the Job's success, is the gate).
		weightsReady: path.Join(a.GCSFuse.MountPath, j.CheckpointPath),
		// JetStream's prometheus_client server answers on any path; seed 000 scrapes "/".
		metricsPort: PortNameMetrics,
		metricsPath: "/",
		servicePort: []corev1.ServicePortArgs{svcPort(PortNameHTTP, a.Port), svcPort(PortNameGRPC, JetStreamGRPC)},
	}
}

// resources asks for every accelerator of the node: requests equal limits for extended
// resources.
func (a *ModelServerArgs) resources() *corev1.ResourceRequirementsArgs {
	units := pulumi.String(strconv.Itoa(a.Pool.PerNode))
	req := pulumi.StringMap{a.Pool.Resource: units}
	lim := pulumi.StringMap{a.Pool.Resource: units}
	if a.CPU != "" {
		req["cpu"] = pulumi.String(a.CPU)
	}
	if a.Memory != "" {
		req["memory"], lim["memory"] = pulumi.String(a.Memory), pulumi.String(a.Memory)
	}
	return &corev1.ResourceRequirementsArgs{Requests: req, Limits: lim}
}

// startupProbe allows StartupTimeoutSeconds for download and compilation before the
// kubelet restarts the container; liveness only starts counting after it succeeds.
func (a *ModelServerArgs) startupProbe(p string) *corev1.ProbeArgs {
	period := a.ProbePeriodSeconds
	failures := (a.StartupTimeoutSeconds + period - 1) / period
	return &corev1.ProbeArgs{
		HttpGet:          &corev1.HTTPGetActionArgs{Path: pulumi.String(p), Port: pulumi.String(PortNameHTTP)},
		PeriodSeconds:    pulumi.Int(period),
		FailureThreshold: pulumi.Int(failures),
	}
}

func httpProbe(p string, period, failures int) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		HttpGet:          &corev1.HTTPGetActionArgs{Path: pulumi.String(p), Port: pulumi.String(PortNameHTTP)},
		PeriodSeconds:    pulumi.Int(period),
		FailureThreshold: pulumi.Int(failures),
	}
}

func port(name string, n int) corev1.ContainerPortArgs {
	return corev1.ContainerPortArgs{Name: pulumi.String(name), ContainerPort: pulumi.Int(n), Protocol: pulumi.String("TCP")}
}

func svcPort(name string, n int) corev1.ServicePortArgs {
	return corev1.ServicePortArgs{Name: pulumi.String(name), Port: pulumi.Int(n), TargetPort: pulumi.String(name), Protocol: pulumi.String("TCP")}
}
