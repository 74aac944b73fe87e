package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// renderPassphrase encrypts the throwaway state of a render. It protects nothing: the state
// lives in a temporary directory deleted when Render returns, and holds no secret (render
// drops the token and the kubeconfig). A fixed value means no prompt and no variable.
const renderPassphrase = "llmserve-render-throwaway-state"

// renderLayout are the directories the Kubernetes provider's renderYamlToDirectory writes
// (CRDs first, then everything else).
var renderLayout = []string{"0-crd", "1-manifest"}

// Render writes the Kubernetes manifests of the target's stack (o.Settings) to dir, exactly as `up` of
// the stack "<env>-<model>" would apply them, and deploys nothing. It works offline: no GCP
// resource is registered and no cloud API called (the bucket and cluster keep the names
// the real stack gives them), no credentials are read, and the engine runs on a state in a
// temporary directory under a fixed passphrase, so nothing prompts and the user's backend
// is never touched. The token Secret is left out, as manifests get committed. o.Backend,
// o.WorkDir and o.Passphrase are ignored; the CLI and provider are found as for Open.
func Render(ctx context.Context, t Target, dir string, o Options) (Result, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Result{}, fmt.Errorf("llmserve %s: render: %w", t.StackName(), err)
	}
	// A fresh state renders every object: remove what an earlier render wrote, so that an
	// object the configuration no longer has does not linger in dir.
	for _, sub := range renderLayout {
		if err := os.RemoveAll(filepath.Join(abs, sub)); err != nil {
			return Result{}, fmt.Errorf("llmserve %s: render: %w", t.StackName(), err)
		}
	}
	tmp, err := os.MkdirTemp("", "llmserve-render-")
	if err != nil {
		return Result{}, fmt.Errorf("llmserve %s: render: %w", t.StackName(), err)
	}
	defer os.RemoveAll(tmp)
	s := o.Settings
	s.RenderDir, s.HFToken = abs, ""
	s.Cluster.Kubeconfig = "" // the provider refuses a kubeconfig alongside renderYamlToDirectory
	o.Settings = s
	o.Backend = "file://" + filepath.Join(tmp, "state")
	o.WorkDir = filepath.Join(tmp, "work")
	o.SecretsProvider, o.Passphrase = "passphrase", renderPassphrase
	env := map[string]string{"PULUMI_CONFIG_PASSPHRASE": renderPassphrase}
	for k, v := range o.Env {
		env[k] = v
	}
	o.Env = env
	st, err := Open(ctx, t, o)
	if err != nil {
		return Result{}, err
	}
	return st.Up(ctx)
}
