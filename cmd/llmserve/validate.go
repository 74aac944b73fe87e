package main

import (
	"errors"
	"fmt"

	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
	"github.com/spf13/cobra"
)

func newValidateCommand() *cobra.Command {
	var f stackFlags
	var all bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a stack's whole configuration (every problem at once), with no cloud call",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			targets := []stackFlags{f}
			if all {
				envs, err := envFiles(f.dir)
				if err != nil || len(envs) == 0 {
					return invalid(fmt.Errorf("--all: no Pulumi.<env>.yaml in %s", f.dir))
				}
				targets = nil
				for _, env := range envs {
					for _, model := range stacks.ProfileNames() {
						targets = append(targets, stackFlags{env: env, model: model, dir: f.dir, sets: f.sets})
					}
				}
			}
			var bad []error
			for _, t := range targets {
				target, settings, err := t.load()
				if isUsage(err) {
					return err // the command line is wrong, not the config
				}
				var cfg *stacks.Config
				if err == nil {
					if cfg, err = deploy.Check(target, settings); err != nil {
						err = errors.New(t.annotate(err))
					}
				}
				if err != nil {
					bad = append(bad, fmt.Errorf("%s: invalid:\n%w", stackLabel(t), err))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", target.StackName())
				for _, caveat := range cfg.Caveats() {
					fmt.Fprintf(cmd.OutOrStdout(), "  warning: %s\n", caveat)
				}
				for _, note := range cfg.Notes() {
					fmt.Fprintf(cmd.OutOrStdout(), "  note: %s\n", note)
				}
			}
			if len(bad) > 0 {
				return invalid(errors.Join(bad...))
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "every environment in --dir times every model profile")
	return cmd
}

func stackLabel(f stackFlags) string {
	if f.model == "" {
		return f.env
	}
	return deploy.Target{Env: f.env, Model: f.model}.StackName()
}

// isUsage says whether err is a usage error (exit 2).
func isUsage(err error) bool {
	var coded *exitError
	return errors.As(err, &coded) && coded.code == exitUsage
}
