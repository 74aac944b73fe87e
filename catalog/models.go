package catalog

// ModelContext is the longest context (max_position_embeddings of the model's config.json)
// of the Hugging Face models llmserve's profiles serve. vLLM refuses a --max-model-len above
// it unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1, so a longer server.maxModelLen only fails when
// the pod starts. Sources:
//   - Llama 3.1 8B/70B (-Instruct): 131072 (config.json, rope_type llama3 scaling from 8192;
//     "Model max length 131,072", oumi configs/recipes/llama3_1/README.md).
//   - gemma-7b(-it): 8192 (config.json "max_position_embeddings": 8192; "Both models have the
//     same sequence/context length of 8192", https://huggingface.co/google/gemma-2b/discussions/32).
//   - Qwen2.5-32B-Instruct: 32768 natively ("Context Length: 32,768 tokens natively and
//     131,072 tokens with YaRN", model card; config.json max_position_embeddings 32768).
//     YaRN needs a rope_scaling override, which is a deliberate extra arg, not a default.
//   - gemma-3-1b-it: 32768 (Gemma 3 1B has a 32K context; medium confidence, not read from
//     the config itself).
var ModelContext = map[string]int{
	"meta-llama/Llama-3.1-8B":           131072,
	"meta-llama/Llama-3.1-8B-Instruct":  131072,
	"meta-llama/Llama-3.1-70B":          131072,
	"meta-llama/Llama-3.1-70B-Instruct": 131072,
	"google/gemma-7b":                   8192,
	"google/gemma-7b-it":                8192,
	"Qwen/Qwen2.5-32B":                  32768,
	"Qwen/Qwen2.5-32B-Instruct":         32768,
	"google/gemma-3-1b-it":              32768,
}
