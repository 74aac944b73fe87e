package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
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

	// file and setKeys, filled by load, point messages at the env file's lines, except
	// for keys the command line set.
	file    *deploy.EnvFile
	setKeys []string
}

func (f *stackFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.env, "env", "dev", "environment: reads Pulumi.<env>.yaml from --dir")
	cmd.Flags().StringVar(&f.model, "model", "", "model profile (default: the env file's llmserve:model)")
	cmd.Flags().StringVar(&f.dir, "dir", ".", "directory holding the Pulumi.<env>.yaml files")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a config value: cluster.mode=existing, overrides.autoscaling.maxReplicas=3, gcp.project=p (repeatable)")
}

// envNameRe is what --env may be: a stack name part and a file name, never a path.
var envNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// load builds the target and typed settings from the env file, --model and --set.
// The HF token, encrypted in env files, comes from $HF_TOKEN.
func (f *stackFlags) load() (deploy.Target, deploy.Settings, error) {
	if !envNameRe.MatchString(f.env) || strings.Contains(f.env, "..") {
		return deploy.Target{}, deploy.Settings{}, usage(fmt.Errorf("--env %q: want an environment name such as dev (it names Pulumi.<env>.yaml and the stack), not a path", f.env))
	}
	path := filepath.Join(f.dir, "Pulumi."+f.env+".yaml")
	file, err := deploy.ReadEnvFile(path)
	if err != nil {
		return deploy.Target{}, deploy.Settings{}, invalid(fmt.Errorf("--env %s: %w", f.env, err))
	}
	f.file, f.setKeys = file, nil
	values := file.Values
	for _, s := range f.sets {
		if err := applySet(values, s); err != nil {
			return deploy.Target{}, deploy.Settings{}, err
		}
		p, _, _ := strings.Cut(s, "=")
		if gcp, ok := strings.CutPrefix(p, "gcp."); ok {
			f.setKeys = append(f.setKeys, "gcp:"+gcp)
		} else {
			f.setKeys = append(f.setKeys, stacks.Namespace+":"+p)
		}
	}
	if _, ok := values[stacks.Namespace+":hfToken"]; ok {
		// Only --set can have put it there: the env file reader refuses a plain token.
		return deploy.Target{}, deploy.Settings{}, invalid(fmt.Errorf("--set hfToken: a token on the command line is in the shell history and the process list; export HF_TOKEN instead"))
	}
	if f.model != "" {
		values[stacks.Namespace+":model"] = f.model
		f.setKeys = append(f.setKeys, stacks.Namespace+":model")
	}
	for _, k := range file.Encrypted {
		if k == stacks.Namespace+":hfToken" {
			continue // replaced by $HF_TOKEN below
		}
		return deploy.Target{}, deploy.Settings{}, invalid(fmt.Errorf("%s: %s is encrypted for `pulumi up`; pass it with --set", path, k))
	}
	if tok := os.Getenv("HF_TOKEN"); tok != "" {
		values[stacks.Namespace+":hfToken"] = tok
	}
	// Keys written with no value are refused here, on the values as written: the typed
	// Settings below leave an empty string out, and Load would then apply the default.
	empty := stacks.CheckWritten(values)
	settings, model, err := deploy.SettingsFromConfig(values)
	if err != nil {
		return deploy.Target{}, deploy.Settings{}, invalid(errors.New(f.annotate(errors.Join(empty, err))))
	}
	target := deploy.Target{Env: f.env, Model: model}
	if empty != nil {
		// Every other problem too, in the same report: one validation, all at once.
		_, cerr := deploy.Check(target, settings)
		return deploy.Target{}, deploy.Settings{}, invalid(errors.New(f.annotate(errors.Join(empty, cerr))))
	}
	return target, settings, nil
}

// annotate points each line of err that names a key at the env file's line for it.
func (f *stackFlags) annotate(err error) string {
	return f.file.Annotate(err.Error(), f.setKeys)
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
