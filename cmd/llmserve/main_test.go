package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// llmserve runs the command in-process from the repository root's env files.
func llmserve(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append(args, dirFlag(args)...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// dirFlag points stack commands at the repository's Pulumi.<env>.yaml files.
func dirFlag(args []string) []string {
	if len(args) == 0 || args[0] == "models" || args[0] == "metrics" {
		return nil
	}
	return []string{"--dir", filepath.Join("..", "..")}
}

func TestListingsGolden(t *testing.T) {
	for _, cmd := range []string{"models", "metrics"} {
		t.Run(cmd, func(t *testing.T) {
			code, out, errOut := llmserve(t, cmd)
			require.Equal(t, exitOK, code, errOut)
			file := filepath.Join("testdata", cmd+".golden")
			if *update {
				require.NoError(t, os.WriteFile(file, []byte(out), 0o644))
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err, "run go test ./cmd/llmserve -update and review the file")
			assert.Equal(t, string(want), out)
		})
	}
}

func TestValidateEveryProfileAndEnvironment(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test")
	code, out, errOut := llmserve(t, "validate", "--all")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, 15, strings.Count(out, ": ok\n"), "3 environments x 5 profiles:\n%s", out)
	assert.Contains(t, out, "prod-llama-3.1-70b: ok")
}

// TestValidateWarnsOfUnprovenStacks (issue 11, point 4): what upstream does not show to work
// is said by validate, under the stack's ok line, not only in the program's log during up.
func TestValidateWarnsOfUnprovenStacks(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test")
	code, out, errOut := llmserve(t, "validate", "--env", "dev", "--model", "gemma-7b")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "dev-gemma-7b: ok\n  warning: JetStream us-docker.pkg.dev/cloud-tpu-images/inference/maxengine-server:v0.2.2 on tpu-v6e is not shown to work")
	assert.Contains(t, out, "jetstream_slots_used_percentage (v0.3)")

	code, out, errOut = llmserve(t, "validate", "--env", "dev", "--model", "llama-3.1-8b")
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, out, "warning:", "vLLM on v6e is shown upstream")
	// The routing default is said too, with its reason (issue 20).
	assert.Contains(t, out, "dev-llama-3.1-8b: ok\n  note: serving.routing gateway (the default here: vLLM on a GKE cluster llmserve creates")
}

// TestValidateBadProfilesAndOverrides: each row is a --set that must fail validation with
// exit 1 and exactly this line among the problems.
func TestValidateBadProfilesAndOverrides(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"70b on 2x2", []string{"--model", "llama-3.1-70b", "--set", "overrides.accelerator.topology=2x2", "--set", "overrides.server.tensorParallelSize=4"},
			`accelerator.topology "2x2": llama-3.1-70b needs 169 GB (141 GB of bfloat16 weights + 20% KV-cache headroom) but a 2x2 slice has 128 GB of accelerator memory; needs 2x4`},
		{"qwen on 1x1", []string{"--model", "qwen2.5-32b", "--set", "overrides.accelerator.topology=1x1", "--set", "overrides.server.tensorParallelSize=1"},
			`accelerator.topology "1x1": qwen2.5-32b needs 79 GB (66 GB of bfloat16 weights + 20% KV-cache headroom) but a 1x1 slice has 32 GB of accelerator memory; needs 2x2`},
		{"tp mismatch", []string{"--model", "llama-3.1-70b", "--set", "overrides.server.tensorParallelSize=4"},
			"server.tensorParallelSize 4: must equal the 8 chips of a 2x4 slice"},
		{"gpu too small", []string{"--model", "gemma-3-1b-it", "--set", "overrides.paramsBillions=27"},
			"accelerator.count 1: gemma-3-1b-it needs 65 GB (54 GB of bfloat16 weights + 20% KV-cache headroom) but 1 x nvidia-l4 has 24 GB of accelerator memory; needs accelerator.count 4"},
		{"removed metric", []string{"--set", `overrides.autoscaling.metrics=[{metric: "vllm:gpu_cache_usage_perc", target: 0.8}]`},
			`autoscaling.metrics[0]: "vllm:gpu_cache_usage_perc" was removed from vLLM (deprecated in 0.9, removed in vllm-project/vllm#29330); use "vllm:kv_cache_usage_perc"`},
		{"slots as percent", []string{"--model", "gemma-7b", "--set", "overrides.autoscaling.metrics=[{metric: jetstream_slots_used_percentage, target: 90}]"},
			`autoscaling.metrics[0]: target 90 for "jetstream_slots_used_percentage" is out of range: the metric is a 0..1 fraction, so write 90% as 0.9`},
		{"capacity", []string{"--set", "pool.maxNodes=1"},
			"autoscaling.maxReplicas 2: needs 2 TPU chips but llmserve:pool.maxNodes 1 holds 1; raise pool.maxNodes to 2 or lower maxReplicas"},
		{"min over max", []string{"--set", "overrides.autoscaling.minReplicas=3"},
			"autoscaling.maxReplicas 2: must be at least minReplicas 3"},
		{"override typo", []string{"--set", "overrides.server.maxNumSeq=4"},
			"llmserve:overrides.server.maxNumSeq is not a field; did you mean maxNumSeqs? want one of cpu, env, extraArgs, maxModelLen, maxNumBatchedTokens, maxNumSeqs, memory, port, tensorParallelSize"},
		{"unknown profile", []string{"--model", "mixtral"},
			`llmserve:model "mixtral": no such profile; want one of gemma-3-1b-it, gemma-7b, llama-3.1-70b, llama-3.1-8b, qwen2.5-32b`},
		{"latest image", []string{"--set", "overrides.image=vllm/vllm-tpu:latest"},
			`image "vllm/vllm-tpu:latest": pin a version tag or digest (not latest), so every replica runs the same server`},
		{"jetstream on gpu", []string{"--model", "gemma-7b", "--set", "overrides.accelerator={type: nvidia-h100-80gb, count: 8}"},
			"engine jetstream: JetStream (MaxText) serves on TPUs; use vllm on nvidia-h100-80gb"},
		{"public endpoint", []string{"--set", "serving.exposure=public"},
			"llmserve:serving.exposure public: puts an unauthenticated LLM on a public IP; set serving.allowPublic: true to mean it, or use internal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := llmserve(t, append([]string{"validate", "--env", "dev"}, tc.args...)...)
			assert.Equal(t, exitInvalid, code)
			assert.Contains(t, problemLines(errOut), tc.want, errOut)
		})
	}
}

func TestValidateMissingTokenListsEveryProblem(t *testing.T) {
	t.Setenv("HF_TOKEN", "")
	code, _, errOut := llmserve(t, "validate", "--env", "dev", "--set", "cluster.mode=gke")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, `llmserve:cluster.mode "gke": want one of standard, autopilot, existing`)
	assert.Contains(t, errOut, "llmserve:hfToken: required")
}

func TestUsageErrors(t *testing.T) {
	code, _, errOut := llmserve(t, "validate", "--no-such-flag")
	assert.Equal(t, exitUsage, code, errOut)
	code, _, _ = llmserve(t, "frobnicate")
	assert.Equal(t, exitUsage, code)
	code, _, errOut = llmserve(t, "validate", "--env", "staging")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "Pulumi.staging.yaml")
	code, _, errOut = llmserve(t, "validate", "--set", "novalue")
	assert.Equal(t, exitUsage, code, "a --set without = is a usage error")
	assert.Contains(t, errOut, `--set "novalue": want key=value`)
}

func TestApplySet(t *testing.T) {
	values := map[string]string{"llmserve:cluster": `{"mode":"standard","name":"x"}`}
	require.NoError(t, applySet(values, "cluster.mode=existing"))
	require.NoError(t, applySet(values, "overrides.autoscaling.maxReplicas=3"))
	require.NoError(t, applySet(values, "gcp.project=p1"))
	require.NoError(t, applySet(values, "model=gemma-7b"))
	assert.JSONEq(t, `{"mode":"existing","name":"x"}`, values["llmserve:cluster"])
	assert.JSONEq(t, `{"autoscaling":{"maxReplicas":3}}`, values["llmserve:overrides"])
	assert.Equal(t, "p1", values["gcp:project"])
	assert.Equal(t, "gemma-7b", values["llmserve:model"])
	assert.Error(t, applySet(values, "gcp.project.x=1"))
}

func TestProgressColor(t *testing.T) {
	var buf bytes.Buffer
	assert.Equal(t, "never", progressColor(&buf), "a pipe or log gets no terminal escapes")
	f, err := os.CreateTemp(t.TempDir(), "log")
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, "never", progressColor(f), "a file is not a terminal")
}

func TestExitCodes(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test")
	t.Run("interrupted operation is 130, not 3", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errOut bytes.Buffer
		code := run(ctx, []string{"preview", "--env", "dev", "--dir", filepath.Join("..", ".."),
			"--backend", "file://" + t.TempDir(), "--pulumi-bin", t.TempDir()}, &out, &errOut)
		assert.Equal(t, exitInterrupted, code, errOut.String())
	})
	t.Run("panic is internal, 70", func(t *testing.T) {
		var errOut bytes.Buffer
		boom := &cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error { panic("boom") }}
		code := execute(context.Background(), boom, nil, &errOut)
		assert.Equal(t, exitInternal, code)
		assert.Contains(t, errOut.String(), "llmserve: internal error (please report it): boom")
		for _, documented := range []int{exitOK, exitInvalid, exitUsage, exitFailed, exitInterrupted} {
			assert.NotEqual(t, documented, exitInternal)
		}
	})
	t.Run("malformed --set is usage", func(t *testing.T) {
		for _, bad := range []string{"novalue", "=3", "pool..maxNodes=1", "gcp.zone=us-central1-b", "pool.maxNodes=[1", "a b=1"} {
			code, _, errOut := llmserve(t, "validate", "--env", "dev", "--set", bad)
			assert.Equal(t, exitUsage, code, "%s: %s", bad, errOut)
		}
	})
}

// fileLine is the "<env file>:<line>: " prefix llmserve puts before a problem set in a file.
var fileLine = regexp.MustCompile(`^\S+\.yaml:[0-9]+: `)

// problemLines are the lines of the command's error output without their file:line prefix.
func problemLines(errOut string) []string {
	var out []string
	for _, l := range strings.Split(errOut, "\n") {
		out = append(out, fileLine.ReplaceAllString(l, ""))
	}
	return out
}
