package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
	"github.com/spf13/cobra"
)

// stackFlags are the flags every stack command takes.
type stackFlags struct {
	env, model, dir string
	sets            []string
}

func (f *stackFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.env, "env", "dev", "environment: reads Pulumi.<env>.yaml from --dir")
	cmd.Flags().StringVar(&f.model, "model", "", "model profile (default: the env file's llmserve:model)")
	cmd.Flags().StringVar(&f.dir, "dir", ".", "directory holding the Pulumi.<env>.yaml files")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a config value: cluster.mode=existing, overrides.autoscaling.maxReplicas=3, gcp.project=p (repeatable)")
}

// load builds the target and typed settings from the env file, --model and --set.
// The HF token, encrypted in env files, comes from $HF_TOKEN.
func (f *stackFlags) load() (deploy.Target, deploy.Settings, error) {
	path := filepath.Join(f.dir, "Pulumi."+f.env+".yaml")
	values, encrypted, err := deploy.ReadStackFile(path)
	if err != nil {
		return deploy.Target{}, deploy.Settings{}, invalid(fmt.Errorf("--env %s: %w", f.env, err))
	}
	for _, s := range f.sets {
		if err := applySet(values, s); err != nil {
			return deploy.Target{}, deploy.Settings{}, err
		}
	}
	if f.model != "" {
		values[stacks.Namespace+":model"] = f.model
	}
	for _, k := range encrypted {
		if k == stacks.Namespace+":hfToken" {
			continue // replaced by $HF_TOKEN below
		}
		return deploy.Target{}, deploy.Settings{}, invalid(fmt.Errorf("%s: %s is encrypted for `pulumi up`; pass it with --set", path, k))
	}
	if tok := os.Getenv("HF_TOKEN"); tok != "" {
		values[stacks.Namespace+":hfToken"] = tok
	}
	settings, model, err := deploy.SettingsFromConfig(values)
	if err != nil {
		return deploy.Target{}, deploy.Settings{}, invalid(fmt.Errorf("%s: %w", path, err))
	}
	return deploy.Target{Env: f.env, Model: model}, settings, nil
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "llmserve",
		Short:         "Autoscaled LLM inference on GKE: one stack per environment and model",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newModelsCommand(), newMetricsCommand(), newValidateCommand())
	root.AddCommand(newOpCommands(stderr)...)
	return root
}

// envFiles lists the environments in dir (Pulumi.<env>.yaml), sorted.
func envFiles(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var envs []string
	for _, m := range matches {
		envs = append(envs, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "Pulumi."), ".yaml"))
	}
	sort.Strings(envs)
	return envs, nil
}
