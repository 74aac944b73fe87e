package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/llmserve/llmserve/deploy"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// engineFlags say where state lives and which pulumi CLI runs.
type engineFlags struct {
	backend, pulumiBin, pluginDir string
}

func (e *engineFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&e.backend, "backend", "", "state backend: file://DIR (default ~/.llmserve/state), gs://BUCKET or https://api.pulumi.com")
	e.registerTools(cmd)
}

// registerTools registers where the CLI and the provider are; render keeps no state, so it
// takes only these.
func (e *engineFlags) registerTools(cmd *cobra.Command) {
	cmd.Flags().StringVar(&e.pulumiBin, "pulumi-bin", os.Getenv("LLMSERVE_PULUMI_BIN"), "directory holding the pulumi CLI (default: PATH, else the one `make tools` built)")
	cmd.Flags().StringVar(&e.pluginDir, "plugin-dir", os.Getenv("LLMSERVE_PULUMI_K8S_BIN"), "directory holding provider plugins to use first")
}

// open opens the stack with progress shown as the terminal allows.
func (e *engineFlags) open(cmd *cobra.Command, target deploy.Target, settings deploy.Settings, progress io.Writer) (*deploy.Stack, error) {
	opts := deploy.Options{Backend: e.backend, PulumiBin: e.pulumiBin, Settings: settings, Progress: progress, Color: progressColor(progress)}
	if e.pluginDir != "" {
		opts.PluginDirs = []string{e.pluginDir}
	}
	st, err := deploy.Open(cmd.Context(), target, opts)
	if errors.Is(err, deploy.ErrInvalidConfig) {
		return nil, invalid(err)
	}
	if err != nil {
		return nil, failed(err)
	}
	return st, nil
}

// progressColor is the engine's colouring for w: the CLI's own choice on a terminal, none
// in CI logs and pipes.
func progressColor(w io.Writer) string {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return ""
	}
	return "never"
}

func newOpCommands(stderr io.Writer) []*cobra.Command {
	type op struct {
		use, short string
		run        func(cmd *cobra.Command, st *deploy.Stack) (deploy.Result, error)
	}
	ops := []op{
		{"preview", "Show what up would change", func(cmd *cobra.Command, st *deploy.Stack) (deploy.Result, error) { return st.Preview(cmd.Context()) }},
		{"up", "Create or update the stack", func(cmd *cobra.Command, st *deploy.Stack) (deploy.Result, error) { return st.Up(cmd.Context()) }},
		{"destroy", "Delete everything the stack created", func(cmd *cobra.Command, st *deploy.Stack) (deploy.Result, error) { return st.Destroy(cmd.Context()) }},
		{"refresh", "Read the real state of the stack's resources", func(cmd *cobra.Command, st *deploy.Stack) (deploy.Result, error) { return st.Refresh(cmd.Context()) }},
	}
	var cmds []*cobra.Command
	for _, o := range ops {
		o := o
		var f stackFlags
		var e engineFlags
		cmd := &cobra.Command{
			Use: o.use, Short: o.short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				target, settings, err := f.load()
				if err != nil {
					return err
				}
				st, err := e.open(cmd, target, settings, stderr)
				if err != nil {
					return err
				}
				res, err := o.run(cmd, st)
				if err != nil {
					return failed(err)
				}
				printResult(cmd.OutOrStdout(), st.Name(), o.use, res)
				return nil
			},
		}
		f.register(cmd)
		e.register(cmd)
		cmds = append(cmds, cmd)
	}
	return append(cmds, newOutputsCommand(), newRenderCommand(stderr))
}

func newOutputsCommand() *cobra.Command {
	var f stackFlags
	var e engineFlags
	cmd := &cobra.Command{
		Use: "outputs", Short: "Print the stack's outputs as JSON (secrets masked)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target, settings, err := f.load()
			if err != nil {
				return err
			}
			st, err := e.open(cmd, target, settings, io.Discard)
			if err != nil {
				return err
			}
			out, err := st.Outputs(cmd.Context())
			if err != nil {
				return failed(err)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	f.register(cmd)
	e.register(cmd)
	return cmd
}

// newRenderCommand writes the manifests of a stack to a directory instead of applying
// them, for GitOps. It runs offline (deploy.Render): names as the stack <env>-<model> would
// give them, no GCP resource, no credentials, no passphrase, and a throwaway state.
func newRenderCommand(stderr io.Writer) *cobra.Command {
	var f stackFlags
	var e engineFlags
	var out string
	cmd := &cobra.Command{
		Use: "render", Short: "Write the Kubernetes manifests to --out, offline (the token Secret is left out)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target, settings, err := f.load()
			if err != nil {
				return err
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				return invalid(err)
			}
			opts := deploy.Options{PulumiBin: e.pulumiBin, Progress: stderr, Color: progressColor(stderr), Settings: settings}
			if e.pluginDir != "" {
				opts.PluginDirs = []string{e.pluginDir}
			}
			res, err := deploy.Render(cmd.Context(), target, abs, opts)
			if errors.Is(err, deploy.ErrInvalidConfig) {
				return invalid(err)
			}
			if err != nil {
				return failed(err)
			}
			printResult(cmd.OutOrStdout(), target.StackName(), "render", res)
			fmt.Fprintf(cmd.OutOrStdout(), "manifests in %s\n", abs)
			return nil
		},
	}
	f.register(cmd)
	e.registerTools(cmd)
	cmd.Flags().StringVar(&out, "out", "rendered", "directory for the manifests")
	return cmd
}

// printResult prints one summary line: "dev-llama-3.1-8b: up: create 30".
func printResult(w io.Writer, stack, op string, r deploy.Result) {
	var parts []string
	keys := make([]string, 0, len(r.Summary))
	for k := range r.Summary {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, r.Summary[k]))
	}
	fmt.Fprintf(w, "%s: %s: %s\n", stack, op, strings.Join(parts, ", "))
}
