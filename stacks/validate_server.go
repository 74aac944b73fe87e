package stacks

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/llmserve/llmserve/catalog"
)

var (
	// hfRepoIDRe is a Hugging Face model id, <owner>/<name>: letters, digits, '-', '_' and
	// '.', at most 96 characters (huggingface_hub validate_repo_id). llmserve downloads it
	// into the bucket; a path or URL would bypass that.
	hfRepoIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$`)
	// hfTokenRe: Hugging Face user access tokens start with hf_ (HF_TOKEN=hf_xxx).
	hfTokenRe = regexp.MustCompile(`hf_[A-Za-z0-9]{20,}`)
	// secretNameRe: env names that hold credentials.
	secretNameRe = regexp.MustCompile(`(?i)(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|CREDENTIAL)`)
	// envNameRe is what Kubernetes takes as an env var name (apimachinery IsEnvVarName).
	envNameRe = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)
)

// reservedEnv are the variables llmserve sets on the server itself (components/model_server.go
// and components/xla_cache.go): overriding them defeats the token Secret or the shared XLA
// cache. Sources: huggingface_hub environment variables (HF_TOKEN, HUGGING_FACE_HUB_TOKEN);
// vllm/envs.py (VLLM_XLA_CACHE_PATH: "Path to the XLA persistent cache directory"); JAX
// (JAX_COMPILATION_CACHE_DIR).
var reservedEnv = map[string]string{
	"HF_TOKEN":                  "llmserve passes the token from a Kubernetes Secret (llmserve:hfToken); a value here is plain text in the Deployment and the state; remove it and use `pulumi config set --secret llmserve:hfToken` ($HF_TOKEN for the llmserve command)",
	"HUGGING_FACE_HUB_TOKEN":    "llmserve passes the token from a Kubernetes Secret (llmserve:hfToken); a value here is plain text in the Deployment and the state; remove it and use `pulumi config set --secret llmserve:hfToken` ($HF_TOKEN for the llmserve command)",
	"VLLM_XLA_CACHE_PATH":       "llmserve points it at its XLA compilation cache (storage.xlaCache); set storage.xlaCache instead",
	"JAX_COMPILATION_CACHE_DIR": "llmserve points it at its XLA compilation cache (storage.xlaCache); set storage.xlaCache instead",
	"XLA_CACHE_DIR":             "llmserve's cache restore and publish containers use it (storage.xlaCache); set storage.xlaCache instead",
}

// vllmOwnedArgs are the vLLM flags llmserve sets from the profile (components/engines.go),
// with the field to set instead. -tp is vLLM's short form of --tensor-parallel-size.
var vllmOwnedArgs = map[string]string{
	"--model": "model", "--port": "server.port", "--host": "(llmserve listens on 0.0.0.0 for the Service)",
	"--tensor-parallel-size": "server.tensorParallelSize", "-tp": "server.tensorParallelSize",
	"--max-model-len": "server.maxModelLen", "--max-num-seqs": "server.maxNumSeqs",
	"--max-num-batched-tokens": "server.maxNumBatchedTokens", "--download-dir": "storage.mountPath",
}

// jetstreamOwnedArgs are the MaxText key=value settings llmserve sets (components/engines.go).
var jetstreamOwnedArgs = map[string]string{
	"model_name": "jetstream.modelName", "tokenizer_path": "jetstream.tokenizerPath",
	"per_device_batch_size": "jetstream.perDeviceBatchSize", "max_prefill_predict_length": "jetstream.maxPrefillPredictLength",
	"max_target_length": "jetstream.maxTargetLength", "load_parameters_path": "jetstream.checkpointPath",
	"prometheus_port": "jetstream.metricsPort", "weight_dtype": "dtype",
}

// validateServer checks the model id, the context length, and that env and extra args
// neither leak a secret nor override what llmserve manages.
func (c *Config) validateServer(p *problems) {
	pr := c.Profile
	if pr.Model != "" && (!hfRepoIDRe.MatchString(pr.Model) || strings.Contains(pr.Model, "..")) {
		p.addf("model %q: want a Hugging Face model id such as meta-llama/Llama-3.1-8B-Instruct (llmserve downloads it into the bucket; paths and URLs are not read)", pr.Model)
	}
	if ctxLen, ok := catalog.ModelContext[pr.Model]; ok {
		if pr.Engine == catalog.EngineVLLM && pr.Server.MaxModelLen > ctxLen {
			p.addf("server.maxModelLen %d: %s has a context of %d tokens (max_position_embeddings) and vLLM refuses a longer --max-model-len; use %d or less", pr.Server.MaxModelLen, pr.Model, ctxLen, ctxLen)
		}
		if pr.Engine == catalog.EngineJetStream && pr.JetStream.MaxTargetLength > ctxLen {
			p.addf("jetstream.maxTargetLength %d: %s has a context of %d tokens; use %d or less", pr.JetStream.MaxTargetLength, pr.Model, ctxLen, ctxLen)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(pr.Server.Env)) {
		v := pr.Server.Env[k]
		key := "server.env." + k
		switch {
		case !envNameRe.MatchString(k):
			p.addf("%s: not an environment variable name (letters, digits, '_', '-' and '.', not starting with a digit)", key)
		case reservedEnv[k] != "":
			p.addf("%s: %s", key, reservedEnv[k])
		case hfTokenRe.MatchString(v):
			p.addf("%s: holds what looks like a Hugging Face token (hf_...), which would be plain text in the Deployment and the stack's state; remove it, revoke the token, and set it with `pulumi config set --secret llmserve:hfToken`", key)
		case secretNameRe.MatchString(k) && v != "":
			p.addf("%s: looks like a credential, which would be plain text in the Deployment and the stack's state; llmserve takes only the Hugging Face token, as a secret (`pulumi config set --secret llmserve:hfToken`); remove it", key)
		}
	}
	checkArgs(p, "server.extraArgs", pr.Server.ExtraArgs, pr.Engine == catalog.EngineVLLM)
	checkArgs(p, "jetstream.extraArgs", pr.JetStream.ExtraArgs, false)
	if pr.Engine == catalog.EngineJetStream {
		for i, a := range pr.JetStream.ExtraArgs {
			name, _, _ := strings.Cut(a, "=")
			if field, ok := jetstreamOwnedArgs[name]; ok {
				p.addf("jetstream.extraArgs[%d] %q: llmserve sets %s from %s; set that field instead", i, a, name, field)
			}
		}
	}
}

// checkArgs refuses tokens in arguments, and for vLLM the flags llmserve owns.
func checkArgs(p *problems, key string, args []string, vllm bool) {
	for i, a := range args {
		name, _, _ := strings.Cut(a, "=")
		switch {
		case hfTokenRe.MatchString(a) || name == "--hf-token" || name == "--api-key":
			p.addf("%s[%d]: passes a token on the command line, where it is plain text in the Deployment and the stack's state; remove it and set the Hugging Face token with `pulumi config set --secret llmserve:hfToken`", key, i)
		case vllm && vllmOwnedArgs[name] != "":
			if strings.HasPrefix(vllmOwnedArgs[name], "(") {
				p.addf("%s[%d] %q: llmserve sets %s %s; remove it", key, i, a, name, vllmOwnedArgs[name])
			} else {
				p.addf("%s[%d] %q: llmserve sets %s from %s; set that field instead", key, i, a, name, vllmOwnedArgs[name])
			}
		}
	}
}

// validateTargets checks what a metric's unit alone cannot: a count above what the server
// can ever report, a byte target above the node's accelerator memory.
func (c *Config) validateTargets(p *problems) {
	for i, m := range c.Profile.Autoscaling.Metrics {
		key := fmt.Sprintf("autoscaling.metrics[%d]", i)
		if m.Metric == "vllm:num_requests_running" && c.Profile.Server.MaxNumSeqs > 0 && m.Target > float64(c.Profile.Server.MaxNumSeqs) {
			p.addf("%s: target %v for %q can never be reached: the running batch holds at most server.maxNumSeqs %d; use a target below it", key, m.Target, m.Metric, c.Profile.Server.MaxNumSeqs)
		}
		km, ok := catalog.LookupMetric(m.Metric)
		if !ok || km.Unit != catalog.UnitBytes {
			continue
		}
		if mem := c.nodeAcceleratorBytes(); mem > 0 && m.Target > mem {
			p.addf("%s: target %v for %q can never be reached: a node of this profile has %.0f bytes of accelerator memory; use a target below it, such as %.0f", key, m.Target, m.Metric, mem, 0.8*mem)
		}
	}
}

// nodeAcceleratorBytes is the accelerator memory of one replica's node, in bytes.
func (c *Config) nodeAcceleratorBytes() float64 {
	a := c.Profile.Accelerator
	if catalog.IsTPU(a.Type) {
		if s, ok := catalog.LookupTPUSlice(a.Topology); ok {
			return float64(s.Chips) * catalog.TPUv6eHBMGB * (1 << 30)
		}
		return 0
	}
	if g, ok := catalog.LookupGPU(a.Type); ok {
		return float64(a.Count*g.MemoryGB) * (1 << 30)
	}
	return 0
}
