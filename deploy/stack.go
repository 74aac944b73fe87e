package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/llmserve/llmserve/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// ProjectName is the Pulumi project every llmserve stack belongs to (Pulumi.yaml's name).
const ProjectName = stacks.ProjectName

// Stack is one llmserve stack, opened by Open.
type Stack struct {
	name     string
	stack    auto.Stack
	progress io.Writer
	color    string
}

// Open validates the settings locally, with the same Load the program runs, then creates the
// target's stack or selects it, and sets its configuration to the settings. Nothing is
// deployed until Up.
func Open(ctx context.Context, t Target, o Options) (*Stack, error) {
	name := t.StackName()
	fail := func(what string, err error) (*Stack, error) {
		return nil, fmt.Errorf("llmserve %s: %s: %w", name, what, err)
	}
	if err := t.validate(); err != nil {
		return fail("target", fmt.Errorf("%w: %w", ErrInvalidConfig, err))
	}
	cm, err := o.Settings.StackConfig(t)
	if err != nil {
		return fail("settings", fmt.Errorf("%w: %w", ErrInvalidConfig, err))
	}
	if _, err := loadConfigMap(name, cm); err != nil {
		return fail("config", fmt.Errorf("%w:\n%w", ErrInvalidConfig, err))
	}
	ws, err := o.workspace()
	if err != nil {
		return fail(ws.failed, err)
	}
	st, err := auto.UpsertStackInlineSource(ctx, name, ProjectName, stacks.Program, ws.opts...)
	if err != nil {
		return fail("open stack", withCanceled(ctx, err))
	}
	if err := syncConfig(ctx, st, cm); err != nil {
		return fail("set config", withCanceled(ctx, err))
	}
	return &Stack{name: name, stack: st, progress: o.Progress, color: o.Color}, nil
}

// Name is the stack's name, "<env>-<model>".
func (s *Stack) Name() string { return s.name }

// Up deploys the stack and returns what changed and the outputs.
func (s *Stack) Up(ctx context.Context) (Result, error) {
	return run(ctx, s, "up", s.stack.Up, operation[optup.Option]{optup.EventStreams, optup.ProgressStreams, optup.ErrorProgressStreams, optup.Color},
		func(r auto.UpResult) Result {
			return Result{Summary: changes(r.Summary.ResourceChanges), Outputs: masked(r.Outputs)}
		})
}

// Preview computes what Up would change, changing nothing.
func (s *Stack) Preview(ctx context.Context) (Result, error) {
	return run(ctx, s, "preview", s.stack.Preview, operation[optpreview.Option]{optpreview.EventStreams, optpreview.ProgressStreams, optpreview.ErrorProgressStreams, optpreview.Color},
		func(r auto.PreviewResult) Result {
			sum := map[string]int{}
			for op, n := range r.ChangeSummary {
				sum[string(op)] = n
			}
			return Result{Summary: sum}
		})
}

// Refresh reads every resource back from the cloud and the cluster into the state.
func (s *Stack) Refresh(ctx context.Context) (Result, error) {
	return run(ctx, s, "refresh", s.stack.Refresh, operation[optrefresh.Option]{optrefresh.EventStreams, optrefresh.ProgressStreams, optrefresh.ErrorProgressStreams, optrefresh.Color},
		func(r auto.RefreshResult) Result { return Result{Summary: changes(r.Summary.ResourceChanges)} })
}

// Destroy deletes every resource of the stack. The stack and its history stay.
func (s *Stack) Destroy(ctx context.Context) (Result, error) {
	return run(ctx, s, "destroy", s.stack.Destroy, operation[optdestroy.Option]{optdestroy.EventStreams, optdestroy.ProgressStreams, optdestroy.ErrorProgressStreams, optdestroy.Color},
		func(r auto.DestroyResult) Result { return Result{Summary: changes(r.Summary.ResourceChanges)} })
}

// Outputs returns the stack's outputs; secret values are SecretMask.
func (s *Stack) Outputs(ctx context.Context) (map[string]any, error) {
	out, err := s.stack.Outputs(ctx)
	if err != nil {
		return nil, fmt.Errorf("llmserve %s: outputs: %w", s.name, withCanceled(ctx, err))
	}
	return masked(out), nil
}

// Export returns the stack's state as `pulumi stack export` prints it (JSON), secrets as
// ciphertext: what a backup or an audit reads. (The Automation API's ExportStack runs
// `stack export --show-secrets`, which would print every secret in plaintext.)
func (s *Stack) Export(ctx context.Context) ([]byte, error) {
	ws := s.stack.Workspace()
	var env []string
	for k, v := range ws.GetEnvVars() {
		env = append(env, k+"="+v)
	}
	if h := ws.PulumiHome(); h != "" {
		env = append(env, "PULUMI_HOME="+h)
	}
	stdout, stderr, _, err := ws.PulumiCommand().Run(ctx, ws.WorkDir(), nil, nil, nil, env,
		"stack", "export", "--stack", s.name)
	if err != nil {
		return nil, fmt.Errorf("llmserve %s: export: %w: %s", s.name, withCanceled(ctx, err), strings.TrimSpace(stderr))
	}
	if !json.Valid([]byte(stdout)) {
		return nil, fmt.Errorf("llmserve %s: export: the CLI printed no JSON: %.200s", s.name, stdout)
	}
	return []byte(stdout), nil
}

// operation holds the option constructors every engine operation has, each in its own
// option type (optup, optpreview, optrefresh, optdestroy).
type operation[O any] struct {
	events      func(...chan<- events.EngineEvent) O
	progress    func(...io.Writer) O
	errProgress func(...io.Writer) O
	color       func(string) O
}

// run runs one engine operation, collecting the engine's error diagnostics from its event
// stream so that a failure reads as the engine's message, and turns its result into a
// Result.
func run[O, R any](ctx context.Context, s *Stack, op string, exec func(context.Context, ...O) (R, error), o operation[O], result func(R) Result) (Result, error) {
	ch := make(chan events.EngineEvent)
	var (
		mu    sync.Mutex
		diags []string
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			if d := ev.DiagnosticEvent; d != nil && d.Severity == "error" {
				msg := strings.TrimSpace(d.Message)
				if d.URN != "" {
					msg = resource.URN(d.URN).Name() + ": " + msg
				}
				mu.Lock()
				if !slices.Contains(diags, msg) {
					diags = append(diags, msg)
				}
				mu.Unlock()
			}
		}
	}()
	opts := []O{o.events(ch)}
	if s.progress != nil {
		opts = append(opts, o.progress(s.progress), o.errProgress(s.progress))
	}
	if s.color != "" {
		opts = append(opts, o.color(s.color))
	}
	res, err := exec(ctx, opts...)
	if err == nil {
		return result(res), nil
	}
	// The events server closes the channel when the CLI ends its stream; a CLI that never
	// started never opens it.
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	return Result{}, &OpError{Stack: s.name, Op: op, Diagnostics: diags, Err: err, canceled: ctx.Err()}
}

// syncConfig makes the stack's llmserve: and gcp: config exactly cm.
func syncConfig(ctx context.Context, st auto.Stack, cm auto.ConfigMap) error {
	cur, err := st.GetAllConfig(ctx)
	if err != nil {
		return err
	}
	var stale []string
	for k := range cur {
		if _, keep := cm[k]; !keep && (strings.HasPrefix(k, stacks.Namespace+":") || strings.HasPrefix(k, "gcp:")) {
			stale = append(stale, k)
		}
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		if err := st.RemoveAllConfig(ctx, stale); err != nil {
			return err
		}
	}
	if len(cm) == 0 {
		return nil
	}
	return st.SetAllConfig(ctx, cm)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
