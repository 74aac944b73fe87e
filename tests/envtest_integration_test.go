//go:build integration

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The integration layer runs against one real kube-apiserver + etcd (envtest), started once
// for the package from the pinned binaries `make tools` builds, with the PodMonitoring CRD
// (`make crds`) installed.
var apiServer struct {
	env        *envtest.Environment
	cfg        *rest.Config
	kubeconfig []byte // admin kubeconfig, for the Pulumi Kubernetes provider
}

func TestMain(m *testing.M) {
	os.Exit(runWithAPIServer(m))
}

func runWithAPIServer(m *testing.M) int {
	assets, err := assetDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration tests:", err, "(run `make tools crds`, or `make test-integration`)")
		return 1
	}
	defer os.RemoveAll(assets)
	crds := requireEnv("LLMSERVE_CRDS")
	if missing := missingCRDs(crds); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "integration tests: %s lacks %s: run `make crds` (it says what failed and how to fix it)\n",
			crds, strings.Join(missing, ", "))
		return 1
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{crds},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration tests: starting kube-apiserver:", err)
		return 1
	}
	defer env.Stop()
	user, err := env.AddUser(envtest.User{Name: "llmserve-test", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration tests: admin user:", err)
		return 1
	}
	kc, err := user.KubeConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration tests: kubeconfig:", err)
		return 1
	}
	apiServer.env, apiServer.cfg, apiServer.kubeconfig = env, cfg, kc
	return m.Run()
}

// assetDir links the pinned binaries into one directory, the layout envtest expects.
func assetDir() (string, error) {
	dir, err := os.MkdirTemp("", "llmserve-envtest-")
	if err != nil {
		return "", err
	}
	links := map[string]string{
		"kube-apiserver": filepath.Join(requireEnv("LLMSERVE_KUBE_BIN"), "kube-apiserver"),
		"kubectl":        filepath.Join(requireEnv("LLMSERVE_KUBE_BIN"), "kubectl"),
		"etcd":           filepath.Join(requireEnv("LLMSERVE_ETCD_BIN"), "etcd"),
	}
	for name, target := range links {
		if _, err := os.Stat(target); err != nil {
			return "", fmt.Errorf("%s not built: %w", name, err)
		}
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// requireEnv reads a path the Makefile exports; without it the layer cannot run.
func requireEnv(name string) string {
	v := os.Getenv(name)
	if v == "" {
		fmt.Fprintf(os.Stderr, "integration tests: %s is not set; run them with `make test-integration`\n", name)
		os.Exit(1)
	}
	return v
}
