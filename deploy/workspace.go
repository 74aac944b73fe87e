package deploy

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/llmserve/llmserve/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

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
	// PulumiBin is the directory holding the pulumi binary; "" finds pulumi on PATH, else
	// the one `make tools` built (ToolsDir).
	PulumiBin string
	// PluginDirs are directories with provider plugins (pulumi-resource-kubernetes), put
	// first on the CLI's PATH: the engine uses plugins it finds there, with no download.
	// Empty adds the Kubernetes provider `make tools` built, when there is one.
	PluginDirs []string

	Settings Settings
	// Progress receives the engine's progress output, as `pulumi up` prints it; nil drops it.
	Progress io.Writer
	// Color is the progress output's colouring: "always", "never", "raw" or "" (auto, the
	// CLI's choice). "never" suits logs and pipes: no terminal escapes.
	Color string
	// Env adds environment variables for the CLI and the plugins; they win over the rest.
	Env map[string]string
}

// ws is what Open needs to open a stack: the workspace options, or which step failed.
type ws struct {
	opts   []auto.LocalWorkspaceOption
	failed string
}

// workspace resolves the backend, the secrets provider, the work dir and the CLI.
func (o Options) workspace() (ws, error) {
	backend, err := backendURL(o.Backend)
	if err != nil {
		return ws{failed: "backend"}, err
	}
	if len(o.PluginDirs) == 0 {
		if dir := builtTool("pulumi-kubernetes-v", "pulumi-resource-kubernetes"); dir != "" {
			o.PluginDirs = []string{dir}
		}
	}
	env, err := o.env(backend)
	if err != nil {
		return ws{failed: "secrets"}, err
	}
	workDir := o.WorkDir
	if workDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ws{failed: "work dir"}, err
		}
		workDir = filepath.Join(home, ".llmserve", "work", stacks.Slug(backend))
	}
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return ws{failed: "work dir"}, err
	}
	cmd, err := pulumiCommand(o.PulumiBin)
	if err != nil {
		return ws{failed: "pulumi CLI"}, err
	}
	opts := []auto.LocalWorkspaceOption{
		auto.Project(project(backend)), auto.WorkDir(workDir), auto.Pulumi(cmd), auto.EnvVars(env),
	}
	if o.PulumiHome != "" {
		opts = append(opts, auto.PulumiHome(o.PulumiHome))
	}
	if o.SecretsProvider != "" {
		opts = append(opts, auto.SecretsProvider(o.SecretsProvider))
	}
	return ws{opts: opts}, nil
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
// root with bin/pulumi), on PATH, or the one `make tools` built.
func pulumiCommand(dir string) (auto.PulumiCommand, error) {
	if dir == "" {
		if _, err := exec.LookPath("pulumi"); err != nil {
			dir = builtTool("pulumi-v", "pulumi")
		}
	}
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
		return nil, errors.New("no pulumi binary in " + abs + " or " + filepath.Join(abs, "bin"))
	}
	return auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
}

// ToolsDir is where `make tools` builds the pinned tools: $LLMSERVE_TOOLS, or
// ~/.cache/llmserve/tools.
func ToolsDir() string {
	if d := os.Getenv("LLMSERVE_TOOLS"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "llmserve", "tools")
}

// builtTool returns the bin directory of the newest finished build (a .done stamp) of a
// tool in ToolsDir whose directory starts with prefix and holds binary, or "".
func builtTool(prefix, binary string) string {
	dirs, _ := filepath.Glob(filepath.Join(ToolsDir(), prefix+"*"))
	slices.Sort(dirs)
	for _, d := range slices.Backward(dirs) {
		if isFile(filepath.Join(d, ".done")) && isFile(filepath.Join(d, "bin", binary)) {
			return filepath.Join(d, "bin")
		}
	}
	return ""
}
