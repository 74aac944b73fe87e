package stacks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The embedding API: other Go programs deploy llmserve through the Automation API with
// Program as an inline program, so they need no Pulumi project on disk and no Go language
// host, only the pulumi CLI and the provider plugins. Config goes in as typed Settings,
// is checked by the same Load that the program runs, and results come back typed.

// ProjectName is the Pulumi project every llmserve stack belongs to (Pulumi.yaml's name).
const ProjectName = "llmserve"

// SecretMask replaces the value of every secret stack output this API returns.
const SecretMask = "[secret]"

// ErrInvalidConfig marks errors about the target or settings, found before the engine runs:
// errors.Is(err, ErrInvalidConfig) tells a caller to fix its input rather than retry.
var ErrInvalidConfig = errors.New("invalid configuration")

// Target names one deployment: a model in an environment. Its stack is "<env>-<model>",
// so every model of an environment has its own stack, state and lock.
type Target struct {
	Env   string // dev, prod, ...
	Model string // a profile in stacks/models/ (llama-3.1-8b); becomes llmserve:model
}

// stackNameBad matches what Pulumi stack names may not hold: they are at most 100 of
// letters, digits, '-', '_' and '.' (pulumi/pulumi sdk/go/common/tokens ValidateStackName).
var stackNameBad = regexp.MustCompile(`[^a-z0-9._-]+`)

// StackName returns the stack of the target: "<env>-<model>", lower-cased, with every run
// of characters a stack name cannot hold turned into one "-" ("dev-llama-3.1-8b").
func (t Target) StackName() string {
	clean := func(s string) string {
		return strings.Trim(stackNameBad.ReplaceAllString(strings.ToLower(strings.TrimSpace(s)), "-"), "-")
	}
	return clean(t.Env) + "-" + clean(t.Model)
}

func (t Target) validate() error {
	var errs []error
	if strings.Trim(stackNameBad.ReplaceAllString(strings.ToLower(t.Env), ""), "-") == "" {
		errs = append(errs, fmt.Errorf("target env %q: want a name such as dev or prod", t.Env))
	}
	if t.Model == "" {
		errs = append(errs, fmt.Errorf("target model: required; want one of %s", strings.Join(ProfileNames(), ", ")))
	}
	if n := len(t.StackName()); n > 100 {
		errs = append(errs, fmt.Errorf("target %s/%s: stack name is %d characters; Pulumi allows 100", t.Env, t.Model, n))
	}
	return errors.Join(errs...)
}

// Settings is the whole configuration of one stack, as typed values: Open makes the stack's
// config exactly this (keys it does not set are removed). The sections use the types Load
// decodes them into, so a key name here can never drift from the one Load reads; unset
// (zero) fields are left out and take Load's defaults.
type Settings struct {
	Project       string // gcp:project
	Region        string // gcp:region
	ProjectNumber string // llmserve:projectNumber (saves the project lookup)
	// GCPResources false creates no GCP resource at all (llmserve:gcpResources); nil is
	// Load's default, true.
	GCPResources *bool

	// Cluster is llmserve:cluster. Cluster.Kubeconfig (a path or the file's contents)
	// becomes llmserve:kubeconfig, set as a secret.
	Cluster    ClusterConfig
	Pool       PoolConfig       // llmserve:pool
	ModelStore ModelStoreConfig // llmserve:modelStore
	Serving    ServingConfig    // llmserve:serving
	Metrics    MetricsConfig    // llmserve:metrics
	// Overrides is llmserve:overrides: any profile field (stacks/models/*.yaml), merged over
	// the target model's profile. It is a document, not a Profile, because only the fields
	// it names are merged: {"autoscaling": {"maxReplicas": 2}}.
	Overrides map[string]any

	HFToken   string // llmserve:hfToken, set as a secret
	SkipAwait bool   // llmserve:skipAwait: for clusters with no kubelet
	RenderDir string // llmserve:renderDir: write manifests there instead of applying them
}

// Options says where the state lives, how secrets are encrypted, which pulumi CLI runs, and
// what the stack's configuration is.
type Options struct {
	// Backend is the state backend: "" is file:// under ~/.llmserve/state; or "file://<dir>",
	// "gs://<bucket>", "https://api.pulumi.com".
	Backend string
	// SecretsProvider encrypts secrets in config and state: "" is the backend's default, a
	// passphrase for file:// and gs:// (Passphrase, else $PULUMI_CONFIG_PASSPHRASE or
	// $PULUMI_CONFIG_PASSPHRASE_FILE) and the service's key for Pulumi Cloud; or
	// "gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K". It applies when the stack is
	// created.
	SecretsProvider string
	Passphrase      string
	// PulumiHome is PULUMI_HOME (plugins, credentials); "" is the CLI's default, ~/.pulumi.
	PulumiHome string
	// WorkDir holds Pulumi.yaml and Pulumi.<stack>.yaml, which keep the passphrase salt: keep
	// it between runs. "" is ~/.llmserve/work/<backend>.
	WorkDir string
	// PulumiBin is the directory holding the pulumi binary; "" finds pulumi on PATH.
	PulumiBin string
	// PluginDirs are directories with provider plugins (pulumi-resource-kubernetes), put
	// first on the CLI's PATH: the engine uses plugins it finds there, with no download.
	PluginDirs []string

	Settings Settings
	// Progress receives the engine's progress output, as `pulumi up` prints it; nil drops it.
	Progress io.Writer
	// Env adds environment variables for the CLI and the plugins; they win over the rest.
	Env map[string]string
}

// Stack is one llmserve stack, opened by Open.
type Stack struct {
	name     string
	stack    auto.Stack
	progress io.Writer
}

// Result is what an operation did.
type Result struct {
	// Summary counts resources by operation: "create", "update", "delete", "same",
	// "replace", ... as the engine reports them.
	Summary map[string]int
	// Outputs are the stack outputs after up (nil for the other operations); secret values
	// are SecretMask.
	Outputs map[string]any
}

// Changes is the number of resources the operation changed or would change: every count
// but "same".
func (r Result) Changes() int {
	n := 0
	for op, c := range r.Summary {
		if op != string(apitype.OpSame) {
			n += c
		}
	}
	return n
}

// OpError is a failed operation on a stack. Its text is the engine's own error diagnostics
// (what `pulumi up` prints under "Diagnostics"), not the CLI's whole output; the CLI's error
// (an auto error with stdout and stderr) stays reachable through errors.As.
type OpError struct {
	Stack, Op   string
	Diagnostics []string // error diagnostics of the engine, the resources and the program
	Err         error
	canceled    error // the context's error, when it was canceled
}

// Error reads "llmserve <stack>: <op>: <diagnostics>", with "context canceled" after the
// operation when the context ended it.
func (e *OpError) Error() string {
	what := fmt.Sprintf("llmserve %s: %s", e.Stack, e.Op)
	if e.canceled != nil {
		what += ": " + e.canceled.Error()
	}
	if len(e.Diagnostics) > 0 {
		return what + ": " + strings.Join(e.Diagnostics, "\n")
	}
	return fmt.Sprintf("%s: %v", what, e.Err)
}

// Unwrap gives errors.Is and errors.As the CLI's error and, after a cancellation,
// context.Canceled or context.DeadlineExceeded.
func (e *OpError) Unwrap() []error {
	if e.canceled != nil {
		return []error{e.canceled, e.Err}
	}
	return []error{e.Err}
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
	if err := checkConfig(name, cm); err != nil {
		return fail("config", fmt.Errorf("%w:\n%w", ErrInvalidConfig, err))
	}
	backend, err := backendURL(o.Backend)
	if err != nil {
		return fail("backend", err)
	}
	env, err := o.env(backend)
	if err != nil {
		return fail("secrets", err)
	}
	workDir := o.WorkDir
	if workDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return fail("work dir", err)
		}
		workDir = filepath.Join(home, ".llmserve", "work", slug(backend))
	}
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return fail("work dir", err)
	}
	cmd, err := pulumiCommand(o.PulumiBin)
	if err != nil {
		return fail("pulumi CLI", err)
	}
	wsOpts := []auto.LocalWorkspaceOption{
		auto.Project(project(backend)), auto.WorkDir(workDir), auto.Pulumi(cmd), auto.EnvVars(env),
	}
	if o.PulumiHome != "" {
		wsOpts = append(wsOpts, auto.PulumiHome(o.PulumiHome))
	}
	if o.SecretsProvider != "" {
		wsOpts = append(wsOpts, auto.SecretsProvider(o.SecretsProvider))
	}
	st, err := auto.UpsertStackInlineSource(ctx, name, ProjectName, Program, wsOpts...)
	if err != nil {
		return fail("open stack", withCanceled(ctx, err))
	}
	if err := syncConfig(ctx, st, cm); err != nil {
		return fail("set config", withCanceled(ctx, err))
	}
	return &Stack{name: name, stack: st, progress: o.Progress}, nil
}

// Name is the stack's name, "<env>-<model>".
func (s *Stack) Name() string { return s.name }

// Up deploys the stack and returns what changed and the outputs.
func (s *Stack) Up(ctx context.Context) (Result, error) {
	var r Result
	err := s.run(ctx, "up", func(ch chan<- events.EngineEvent) error {
		opts := []optup.Option{optup.EventStreams(ch)}
		if s.progress != nil {
			opts = append(opts, optup.ProgressStreams(s.progress), optup.ErrorProgressStreams(s.progress))
		}
		res, err := s.stack.Up(ctx, opts...)
		if err != nil {
			return err
		}
		r = Result{Summary: changes(res.Summary.ResourceChanges), Outputs: masked(res.Outputs)}
		return nil
	})
	return r, err
}

// Preview computes what Up would change, changing nothing.
func (s *Stack) Preview(ctx context.Context) (Result, error) {
	var r Result
	err := s.run(ctx, "preview", func(ch chan<- events.EngineEvent) error {
		opts := []optpreview.Option{optpreview.EventStreams(ch)}
		if s.progress != nil {
			opts = append(opts, optpreview.ProgressStreams(s.progress), optpreview.ErrorProgressStreams(s.progress))
		}
		res, err := s.stack.Preview(ctx, opts...)
		if err != nil {
			return err
		}
		r.Summary = map[string]int{}
		for op, n := range res.ChangeSummary {
			r.Summary[string(op)] = n
		}
		return nil
	})
	return r, err
}

// Refresh reads every resource back from the cloud and the cluster into the state.
func (s *Stack) Refresh(ctx context.Context) (Result, error) {
	var r Result
	err := s.run(ctx, "refresh", func(ch chan<- events.EngineEvent) error {
		opts := []optrefresh.Option{optrefresh.EventStreams(ch)}
		if s.progress != nil {
			opts = append(opts, optrefresh.ProgressStreams(s.progress), optrefresh.ErrorProgressStreams(s.progress))
		}
		res, err := s.stack.Refresh(ctx, opts...)
		if err != nil {
			return err
		}
		r.Summary = changes(res.Summary.ResourceChanges)
		return nil
	})
	return r, err
}

// Destroy deletes every resource of the stack. The stack and its history stay.
func (s *Stack) Destroy(ctx context.Context) (Result, error) {
	var r Result
	err := s.run(ctx, "destroy", func(ch chan<- events.EngineEvent) error {
		opts := []optdestroy.Option{optdestroy.EventStreams(ch)}
		if s.progress != nil {
			opts = append(opts, optdestroy.ProgressStreams(s.progress), optdestroy.ErrorProgressStreams(s.progress))
		}
		res, err := s.stack.Destroy(ctx, opts...)
		if err != nil {
			return err
		}
		r.Summary = changes(res.Summary.ResourceChanges)
		return nil
	})
	return r, err
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

// run runs one engine operation, collecting the engine's error diagnostics from its event
// stream so that a failure reads as the engine's message.
func (s *Stack) run(ctx context.Context, op string, do func(chan<- events.EngineEvent) error) error {
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
				diags = append(diags, msg)
				mu.Unlock()
			}
		}
	}()
	err := do(ch)
	if err == nil {
		return nil
	}
	// The events server closes the channel when the CLI ends its stream; a CLI that never
	// started never opens it.
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	return &OpError{Stack: s.name, Op: op, Diagnostics: dedupe(diags), Err: err, canceled: ctx.Err()}
}

// StackConfig is the stack config Open sets for the settings and target: strings as they
// are, objects as JSON (which Load reads as YAML), the token and the kubeconfig as secrets.
func (s Settings) StackConfig(t Target) (auto.ConfigMap, error) {
	m := auto.ConfigMap{}
	str := func(key, v string, secret bool) {
		if v != "" {
			m[key] = auto.ConfigValue{Value: v, Secret: secret}
		}
	}
	str("gcp:project", s.Project, false)
	str("gcp:region", s.Region, false)
	str(Namespace+":model", t.Model, false)
	str(Namespace+":projectNumber", s.ProjectNumber, false)
	str(Namespace+":hfToken", s.HFToken, true)
	str(Namespace+":kubeconfig", s.Cluster.Kubeconfig, true)
	str(Namespace+":renderDir", s.RenderDir, false)
	if s.GCPResources != nil {
		str(Namespace+":gcpResources", strconv.FormatBool(*s.GCPResources), false)
	}
	if s.SkipAwait {
		str(Namespace+":skipAwait", "true", false)
	}
	objects := []struct {
		key string
		v   any
	}{
		{"cluster", s.Cluster}, {"pool", s.Pool}, {"modelStore", s.ModelStore},
		{"serving", s.Serving}, {"metrics", s.Metrics},
	}
	if len(s.Overrides) > 0 {
		// A document to merge, kept whole: an explicit 0 or false in it means something.
		objects = append(objects, struct {
			key string
			v   any
		}{"overrides", s.Overrides})
	}
	for _, o := range objects {
		doc, ok := o.v, true
		if o.key != "overrides" {
			doc, ok = configDoc(reflect.ValueOf(o.v))
		}
		if !ok {
			continue
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("%s:%s: %w", Namespace, o.key, err)
		}
		m[Namespace+":"+o.key] = auto.ConfigValue{Value: string(b)}
	}
	return m, nil
}

// configDoc turns a config value into the document Load decodes, named by the yaml tags
// Load decodes with. Zero values are left out: for Load an absent field and a zero one are
// the same, and both take the default. A non-nil pointer is kept even when it points to a
// zero (deletionProtection: false). ok is false when nothing is left.
func configDoc(v reflect.Value) (doc any, ok bool) {
	switch v.Kind() {
	case reflect.Invalid:
		return nil, false
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		if d, ok := configDoc(v.Elem()); ok {
			return d, true
		}
		if v.Kind() == reflect.Pointer {
			return reflect.Zero(v.Elem().Type()).Interface(), true
		}
		return nil, false
	case reflect.Struct:
		out := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			if d, ok := configDoc(v.Field(i)); ok {
				out[name] = d
			}
		}
		return out, len(out) > 0
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			return nil, false
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i], _ = configDoc(v.Index(i))
		}
		return out, true
	case reflect.Map:
		if v.Len() == 0 {
			return nil, false
		}
		out := map[string]any{}
		iter := v.MapRange()
		for iter.Next() {
			d, _ := configDoc(iter.Value())
			out[fmt.Sprint(iter.Key().Interface())] = d
		}
		return out, true
	default:
		if v.IsZero() {
			return nil, false
		}
		return v.Interface(), true
	}
}

// checkConfig runs Load on the config values exactly as the program would receive them,
// so bad settings fail before the engine starts.
func checkConfig(stack string, cm auto.ConfigMap) error {
	_, err := loadConfigMap(stack, cm)
	return err
}

// noMocks answers the mock engine of checkConfig: Load registers and calls nothing.
type noMocks struct{}

func (noMocks) NewResource(a pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return a.Name, a.Inputs, nil
}

func (noMocks) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

// syncConfig makes the stack's llmserve: and gcp: config exactly cm.
func syncConfig(ctx context.Context, st auto.Stack, cm auto.ConfigMap) error {
	cur, err := st.GetAllConfig(ctx)
	if err != nil {
		return err
	}
	var stale []string
	for k := range cur {
		if _, keep := cm[k]; !keep && (strings.HasPrefix(k, Namespace+":") || strings.HasPrefix(k, "gcp:")) {
			stale = append(stale, k)
		}
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		if err := st.RemoveAllConfig(ctx, stale); err != nil {
			return err
		}
	}
	if len(cm) == 0 {
		return nil
	}
	return st.SetAllConfig(ctx, cm)
}

// project is Pulumi.yaml for the inline program. Like the file at the repository root, it
// disables the default Kubernetes provider, so that a resource without an explicit provider
// fails instead of deploying to whatever kubeconfig context is current (pulumi/pulumi#2059).
func project(backend string) workspace.Project {
	return workspace.Project{
		Name:    ProjectName,
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		Backend: &workspace.ProjectBackend{URL: backend},
		Config: map[string]workspace.ProjectConfigType{
			"pulumi:disable-default-providers": {Value: []any{"kubernetes"}},
		},
	}
}

// backendURL returns the state backend's URL, creating a local backend's directory.
func backendURL(b string) (string, error) {
	if b == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		b = "file://" + filepath.Join(home, ".llmserve", "state")
	}
	if dir, ok := strings.CutPrefix(b, "file://"); ok {
		if rest, ok := strings.CutPrefix(dir, "~"); ok {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			dir = filepath.Join(home, rest)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", err
		}
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return "", err
		}
		b = "file://" + filepath.ToSlash(abs)
	}
	return b, nil
}

// env is the CLI's environment: the backend, the passphrase, the plugin directories first on
// PATH, no update check (it would reach the network), then the caller's variables.
func (o Options) env(backend string) (map[string]string, error) {
	env := map[string]string{
		"PULUMI_BACKEND_URL":       backend,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
	}
	// Pulumi Cloud keeps the secrets key itself; the other backends need a secrets provider,
	// by default a passphrase.
	cloud := strings.HasPrefix(backend, "https://") || strings.HasPrefix(backend, "http://")
	if (o.SecretsProvider == "" && !cloud) || o.SecretsProvider == "passphrase" {
		_, inEnv := os.LookupEnv("PULUMI_CONFIG_PASSPHRASE")
		_, fileInEnv := os.LookupEnv("PULUMI_CONFIG_PASSPHRASE_FILE")
		_, inOpts := o.Env["PULUMI_CONFIG_PASSPHRASE"]
		_, fileInOpts := o.Env["PULUMI_CONFIG_PASSPHRASE_FILE"]
		switch {
		case o.Passphrase != "":
			env["PULUMI_CONFIG_PASSPHRASE"] = o.Passphrase
		case inEnv || fileInEnv || inOpts || fileInOpts:
		default:
			return nil, errors.New("the passphrase secrets provider needs Options.Passphrase, PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE (or set Options.SecretsProvider, such as gcpkms://...)")
		}
	}
	if len(o.PluginDirs) > 0 {
		path := strings.Join(o.PluginDirs, string(os.PathListSeparator))
		if p := os.Getenv("PATH"); p != "" {
			path += string(os.PathListSeparator) + p
		}
		env["PATH"] = path
	}
	for k, v := range o.Env {
		env[k] = v
	}
	return env, nil
}

// pulumiCommand finds the CLI: in dir (the Automation API wants its parent, the install
// root with bin/pulumi), or on PATH.
func pulumiCommand(dir string) (auto.PulumiCommand, error) {
	if dir == "" {
		return auto.NewPulumiCommand(nil)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root := ""
	switch {
	case filepath.Base(abs) == "bin" && isFile(filepath.Join(abs, "pulumi")):
		root = filepath.Dir(abs)
	case isFile(filepath.Join(abs, "bin", "pulumi")):
		root = abs
	default:
		return nil, fmt.Errorf("no pulumi binary in %s or %s", abs, filepath.Join(abs, "bin"))
	}
	return auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func changes(m *map[string]int) map[string]int {
	out := map[string]int{}
	if m != nil {
		for k, v := range *m {
			out[k] = v
		}
	}
	return out
}

func masked(out auto.OutputMap) map[string]any {
	m := make(map[string]any, len(out))
	for k, v := range out {
		if v.Secret {
			m[k] = SecretMask
		} else {
			m[k] = v.Value
		}
	}
	return m
}

func withCanceled(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
