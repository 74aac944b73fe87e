package lab

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
)

// LabBucket is the model bucket the lab's stack names. No GCP resource is created, and no
// pod in the lab reads it: kwok runs no containers.
const LabBucket = "lab-weights"

// labHFToken stands in for the Hugging Face token vLLM stacks require.
const labHFToken = "hf_lab_dummy_token"

// StackSettings is the dev stack in existing mode on the lab cluster: no GCP resource, the
// lab bucket, no kubelet to wait for, the Stackdriver adapter left out (the lab serves
// its metric names itself), and a dummy token.
func StackSettings(kubeconfig []byte, overrides map[string]any, scrapeInterval string) deploy.Settings {
	noGCP, noAdapter := false, false
	return deploy.Settings{
		GCPResources: &noGCP,
		Cluster:      stacks.ClusterConfig{Mode: "existing", Name: "lab", Kubeconfig: string(kubeconfig)},
		ModelStore:   stacks.ModelStoreConfig{Bucket: LabBucket},
		Metrics:      stacks.MetricsConfig{InstallAdapter: &noAdapter, ScrapeInterval: scrapeInterval},
		Overrides:    overrides,
		HFToken:      labHFToken,
		SkipAwait:    true,
	}
}

// ResolveConfig returns the typed, defaulted and validated config the program will deploy
// for these settings: the lab sizes its nodes and serves its metrics from it.
func ResolveConfig(t deploy.Target, s deploy.Settings) (*stacks.Config, error) {
	cfg, err := deploy.Check(t, s)
	if err != nil {
		return nil, fmt.Errorf("lab config: %w", err)
	}
	return cfg, nil
}

// openStack opens the lab's stack with its state in a file backend under dir: the stack
// lives exactly as long as the lab cluster, so the lab starts it from empty state.
func openStack(ctx context.Context, t deploy.Target, s deploy.Settings, dir, pulumiBin, k8sPluginDir string, progress io.Writer) (*deploy.Stack, error) {
	return deploy.Open(ctx, t, deploy.Options{
		Backend:    "file://" + filepath.Join(dir, "state"),
		Passphrase: "llmserve-lab",
		PulumiHome: filepath.Join(dir, "pulumi-home"),
		WorkDir:    filepath.Join(dir, "work"),
		PulumiBin:  pulumiBin,
		PluginDirs: []string{k8sPluginDir},
		Settings:   s,
		Progress:   progress,
		// No network: the provider plugin comes from PluginDirs, never a download.
		Env: map[string]string{"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"},
	})
}
