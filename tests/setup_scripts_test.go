package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The set-up scripts must stop, with the cause and the fix, when a download fails (issue 21,
// point 3). Before, tools/crds.sh ran `curl … && mv …`, which `set -e` does not stop on: a
// clone without ../shared and without GitHub printed "fetched from prometheus-engine@…" and
// exited 0, and the integration tests failed much later with `no matches for kind
// "PodMonitoring"`. These tests run the real script with a fake curl and a fake go first on
// PATH, so they need no network and run in `make test-unit`.

const (
	crdPodMonitoring    = "monitoring.googleapis.com_podmonitorings.yaml"
	crdServiceMonitor   = "monitoring.coreos.com_servicemonitors.yaml"
	crdPrometheusRule   = "monitoring.coreos.com_prometheusrules.yaml"
	prometheusOperator  = "github.com/prometheus-operator/prometheus-operator"
	fakeCurlUnreachable = `#!/bin/sh
echo "curl: (6) Could not resolve host: raw.githubusercontent.com" >&2
exit 6
`
	// A captive portal or proxy error page: curl succeeds, the file is not a CRD.
	fakeCurlHTML = `#!/bin/sh
while [ $# -gt 0 ]; do
  if [ "$1" = -o ]; then printf '<html><body>Sign in to the network</body></html>\n' > "$2"; fi
  shift
done
exit 0
`
)

// crdCase is one run of tools/crds.sh.
type crdCase struct {
	t       *testing.T
	dir     string // scratch: bin/, tools/ (the cache), shared/, mod/
	script  string
	env     []string
	useMake bool
}

// newCRDCase copies tools/crds.sh, crds-gateway.sh and the crds-lib.sh both source into a
// scratch clone (so no ../shared is beside it, as in a fresh clone) and puts a fake curl and
// go first on PATH.
func newCRDCase(t *testing.T, curl string, goOK bool) *crdCase {
	t.Helper()
	c := &crdCase{t: t, dir: t.TempDir()}
	bin := filepath.Join(c.dir, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "curl"), []byte(curl), 0o755))

	// The fake go answers `go mod download -json <module>@<version>` as the real one does:
	// the module's JSON with its Dir, or (exit 1) the same JSON with an Error field.
	mod := filepath.Join(c.dir, "mod")
	crdDir := filepath.Join(mod, "example", "prometheus-operator-crd")
	require.NoError(t, os.MkdirAll(crdDir, 0o755))
	for _, f := range []string{crdServiceMonitor, crdPrometheusRule} {
		require.NoError(t, os.WriteFile(filepath.Join(crdDir, f), []byte(fakeCRD(f)), 0o444))
	}
	fakeGo := "#!/bin/sh\n[ \"$1\" = env ] && { echo https://proxy.golang.org,direct; exit 0; }\n"
	if goOK {
		fakeGo += "printf '{\\n\\t\"Path\": \"" + prometheusOperator + "\",\\n\\t\"Version\": \"v0.85.0\",\\n\\t\"Dir\": \"" + mod + "\",\\n\\t\"Sum\": \"h1:x\"\\n}\\n'\nexit 0\n"
	} else {
		fakeGo += "printf '{\\n\\t\"Path\": \"" + prometheusOperator + "\",\\n\\t\"Version\": \"v0.85.0\",\\n\\t\"Error\": \"" +
			prometheusOperator + "@v0.85.0: Get \\\\\"https://proxy.golang.org/x\\\\\": dial tcp: lookup proxy.golang.org: no such host\"\\n}\\n'\nexit 1\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755))

	c.script = filepath.Join(c.dir, "clone", "tools", "crds.sh")
	require.NoError(t, os.MkdirAll(filepath.Dir(c.script), 0o755))
	for _, f := range []string{"crds.sh", "crds-gateway.sh", "crds-lib.sh"} {
		src, err := os.ReadFile(filepath.Join("..", "tools", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(c.script), f), src, 0o755))
	}
	c.env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LLMSERVE_TOOLS="+filepath.Join(c.dir, "tools"),
		"LLMSERVE_SHARED=", // unset: the script looks beside the clone
	)
	return c
}

// withShared points LLMSERVE_SHARED at a shared/ directory, holding the PodMonitoring CRD
// when withCRD.
func (c *crdCase) withShared(withCRD bool) string {
	shared := filepath.Join(c.dir, "elsewhere", "shared") // not beside the clone: only the setting finds it
	require.NoError(c.t, os.MkdirAll(filepath.Join(shared, "crds"), 0o755))
	if withCRD {
		require.NoError(c.t, os.WriteFile(filepath.Join(shared, "crds", crdPodMonitoring), []byte(fakeCRD(crdPodMonitoring)), 0o644))
	}
	c.env = append(c.env, "LLMSERVE_SHARED="+shared)
	return shared
}

// run runs the script (or `make crds` in this repository) and returns its exit code and stderr.
func (c *crdCase) run() (int, string) {
	var cmd *exec.Cmd
	if c.useMake {
		cmd = exec.Command("make", "-s", "-C", filepath.Join("..", "."), "crds")
	} else {
		cmd = exec.Command("bash", c.script)
	}
	cmd.Env = c.env
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(c.t, err)
	}
	return code, stderr.String()
}

func (c *crdCase) cached(file string) bool {
	_, err := os.Stat(filepath.Join(c.dir, "tools", "crds", file))
	return err == nil
}

// fakeCRD is the smallest file that passes the script's check that a download is the CRD.
func fakeCRD(file string) string {
	group, plural, _ := strings.Cut(strings.TrimSuffix(file, ".yaml"), "_")
	return "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: " + plural + "." + group + "\n"
}

// TestCRDsFailedFetchStops: a clone without ../shared whose curl cannot reach GitHub stops
// with the URL, the cause and both fixes, and caches nothing.
func TestCRDsFailedFetchStops(t *testing.T) {
	for _, viaMake := range []bool{false, true} {
		name := "crds.sh"
		if viaMake {
			name = "make crds"
		}
		t.Run(name, func(t *testing.T) {
			c := newCRDCase(t, fakeCurlUnreachable, true)
			if viaMake {
				if _, err := exec.LookPath("make"); err != nil {
					t.Skip("no make")
				}
				// The real repository may have ../shared beside it (CI does): point the
				// script at an empty one instead.
				c.useMake = true
				c.withShared(false)
			}
			code, out := c.run()
			t.Logf("exit %d:\n%s", code, out)
			assert.NotZero(t, code, "a failed download must stop the script")
			assert.NotContains(t, out, "fetched from", "it claims a download that failed")
			assert.Contains(t, out, "could not download "+crdPodMonitoring)
			assert.Contains(t, out, "https://raw.githubusercontent.com/GoogleCloudPlatform/prometheus-engine/")
			assert.Contains(t, out, "Could not resolve host", "curl's own error is shown")
			assert.Contains(t, out, "/crds/"+crdPodMonitoring, "it names where the file must be")
			assert.Contains(t, out, "LLMSERVE_SHARED", "it names the setting for shared/ elsewhere")
			assert.False(t, c.cached(crdPodMonitoring), "nothing is cached after a failed download")
			assert.False(t, c.cached(crdPodMonitoring+".tmp"), "no partial download is left")
		})
	}
}

// TestCRDsRefusesANonCRD: a download that is not the CRD (a proxy's or captive portal's HTML
// page) is refused, not cached for every later run.
func TestCRDsRefusesANonCRD(t *testing.T) {
	c := newCRDCase(t, fakeCurlHTML, true)
	code, out := c.run()
	t.Logf("exit %d:\n%s", code, out)
	assert.NotZero(t, code)
	assert.Contains(t, out, "is not the CustomResourceDefinition podmonitorings.monitoring.googleapis.com")
	assert.False(t, c.cached(crdPodMonitoring))
}

// TestCRDsGatewayRefusesANonCRD: tools/crds-gateway.sh checks its files as tools/crds.sh
// does (it once cached whatever shared/ or a download held): a GKE policy CRD in shared/
// that is not the CRD stops it, and nothing is cached. The module CRDs are cached already.
func TestCRDsGatewayRefusesANonCRD(t *testing.T) {
	c := newCRDCase(t, fakeCurlUnreachable, false)
	c.script = filepath.Join(filepath.Dir(c.script), "crds-gateway.sh")
	cache := filepath.Join(c.dir, "tools", "crds")
	require.NoError(t, os.MkdirAll(cache, 0o755))
	for _, f := range []string{"gateway.networking.k8s.io_gatewayclasses.yaml", "gateway.networking.k8s.io_gateways.yaml",
		"gateway.networking.k8s.io_httproutes.yaml", "gateway.networking.k8s.io_referencegrants.yaml",
		"inference.networking.k8s.io_inferencepools.yaml"} {
		require.NoError(t, os.WriteFile(filepath.Join(cache, f), []byte(fakeCRD(f)), 0o644))
	}
	shared := c.withShared(false)
	const policy = "networking.gke.io_healthcheckpolicies.yaml"
	require.NoError(t, os.WriteFile(filepath.Join(shared, "crds", policy), []byte("<html>proxy login</html>\n"), 0o644))
	code, out := c.run()
	t.Logf("exit %d:\n%s", code, out)
	assert.NotZero(t, code)
	assert.Contains(t, out, "inference.networking.k8s.io_inferencepools.yaml: cached in ", "the module CRDs came from the cache, not go")
	assert.Contains(t, out, "is not the CustomResourceDefinition healthcheckpolicies.networking.gke.io")
	assert.Contains(t, out, "LLMSERVE_SHARED", "it names the fix")
	assert.False(t, c.cached(policy))
}

// TestCRDsFailedModuleDownloadStops: the Prometheus Operator CRDs come from its Go module;
// when the module proxy cannot serve it, the script says which module, the go command's
// error, and what to check, instead of exiting 1 silently (its error went to sed).
func TestCRDsFailedModuleDownloadStops(t *testing.T) {
	c := newCRDCase(t, fakeCurlUnreachable, false)
	c.withShared(true)
	code, out := c.run()
	t.Logf("exit %d:\n%s", code, out)
	assert.NotZero(t, code)
	assert.Contains(t, out, crdPodMonitoring+": copied from ")
	assert.Contains(t, out, "could not download the Go module "+prometheusOperator+"@v0.85.0")
	assert.Contains(t, out, "lookup proxy.golang.org: no such host", "the go command's error is shown")
	assert.Contains(t, out, "GOPROXY")
	assert.False(t, c.cached(crdServiceMonitor))
}

// TestCRDsFromShared: the happy path still works: PodMonitoring from shared/ (no curl), the
// two others from the module, and a second run uses the cache.
func TestCRDsFromShared(t *testing.T) {
	c := newCRDCase(t, fakeCurlUnreachable, true)
	c.withShared(true)
	code, out := c.run()
	t.Logf("exit %d:\n%s", code, out)
	require.Zero(t, code)
	for _, f := range []string{crdPodMonitoring, crdServiceMonitor, crdPrometheusRule} {
		assert.True(t, c.cached(f), "%s not cached", f)
	}
	code, out = c.run()
	require.Zero(t, code, out)
	assert.Equal(t, 3, strings.Count(out, "cached in"), out)
}

// TestToolsBuildFailedModuleDownloadStops: tools/build.sh reads the provider's module
// directory from `go mod download -json`; when the proxy cannot serve it, the build stops
// with the go command's error and what to check. Before, the error (inside the JSON on
// stdout) went to sed, and the log said only "FAILED" with no reason.
func TestToolsBuildFailedModuleDownloadStops(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	fakeGo := `#!/bin/sh
[ "$1" = env ] && { echo https://proxy.golang.org,direct; exit 0; }
[ "$1 $2" = "mod download" ] || { echo "fake go: unexpected $*" >&2; exit 2; }
printf '{\n\t"Path": "m",\n\t"Error": "%s: Get \\"https://proxy.golang.org/x\\": dial tcp: lookup proxy.golang.org: no such host"\n}\n' "$4"
exit 1
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755))
	cmd := exec.Command("bash", filepath.Join("..", "tools", "build.sh"), "pulumi-kubernetes")
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LLMSERVE_TOOLS="+filepath.Join(dir, "tools"))
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	require.Error(t, err, "a failed module download must fail the build")
	const module = "github.com/pulumi/pulumi-kubernetes/provider/v4@"
	assert.Contains(t, string(out), "pulumi-kubernetes: FAILED")
	assert.Contains(t, string(out), "could not download the Go module "+module)
	assert.Contains(t, string(out), `go: `+module, "the go command's error is shown")
	assert.Contains(t, string(out), `Get "https://proxy.golang.org/x": dial tcp: lookup proxy.golang.org: no such host`)
	assert.Contains(t, string(out), "GOPROXY=https://proxy.golang.org,direct")
	assert.NoFileExists(t, filepath.Join(dir, "tools", "pulumi-kubernetes-v4.25.0", ".done"))
}

// TestMakeLintStopsWhenGoimportsFails: `make lint` captured goimports' list of unformatted
// files with out=$(...), and a goimports that failed (a parse error, a missing binary) left
// the list empty: lint passed. Now the recipe stops, with goimports' error and the fix.
func TestMakeLintStopsWhenGoimportsFails(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	bin := t.TempDir()
	for name, script := range map[string]string{
		"goimports":   "#!/bin/sh\necho 'main.go:1:1: expected package, found broken' >&2\nexit 2\n",
		"staticcheck": "#!/bin/sh\nexit 0\n",
		"go":          "#!/bin/sh\nexit 0\n", // go mod tidy -diff and go vet: pass
	} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755))
	}
	// -o tools-lint: the linters are the fakes above, nothing is built.
	cmd := exec.Command("make", "-s", "-C", "..", "-o", "tools-lint", "lint")
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LLMSERVE_LINT_BIN="+bin)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	require.Error(t, err, "lint passed although goimports failed")
	assert.Contains(t, string(out), "expected package, found broken", "goimports' own error is shown")
	assert.Contains(t, string(out), "goimports failed")
}

// requiredCRDs are the files `make crds` puts in $LLMSERVE_CRDS that the integration layers
// need; the apiserver layer refuses to start without them (envtest installs whatever the
// directory holds, so a missing one showed up only as `no matches for kind ...` later).
var requiredCRDs = []string{crdPodMonitoring, crdServiceMonitor, crdPrometheusRule,
	// The default vLLM stack routes through GKE Inference Gateway (tools/crds-gateway.sh).
	"gateway.networking.k8s.io_gateways.yaml", "gateway.networking.k8s.io_httproutes.yaml",
	"inference.networking.k8s.io_inferencepools.yaml",
	"networking.gke.io_healthcheckpolicies.yaml", "networking.gke.io_gcpbackendpolicies.yaml"}

// missingCRDs lists the required CRD files dir lacks (or holds empty).
func missingCRDs(dir string) []string {
	var missing []string
	for _, f := range requiredCRDs {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			missing = append(missing, f)
		}
	}
	return missing
}

func TestMissingCRDs(t *testing.T) {
	dir := t.TempDir()
	assert.Equal(t, requiredCRDs, missingCRDs(dir))
	for _, f := range requiredCRDs[1:] {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(fakeCRD(f)), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, crdPodMonitoring), nil, 0o644))
	assert.Equal(t, []string{crdPodMonitoring}, missingCRDs(dir), "an empty file is missing too")
}

// TestToolsBuildRefillsAFreedSlot: with two builds at a time, a third tool starts as soon as
// either running build ends. Before, build.sh waited on the oldest build, so a finished slot
// sat idle behind the longest (kube's build queued behind pulumi-kubernetes' for an hour on
// a cold cache). The fake go makes lint's build slow and etcd's and kwok's fast: kwok must
// be done before lint.
func TestToolsBuildRefillsAFreedSlot(t *testing.T) {
	dir := t.TempDir()
	bin, mod, events := filepath.Join(dir, "bin"), filepath.Join(dir, "kwokmod"), filepath.Join(dir, "events")
	for _, d := range []string{bin, filepath.Join(mod, "kustomize", "stage", "node"), filepath.Join(mod, "kustomize", "stage", "pod")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	fakeGo := `#!/bin/sh
if [ "$1 $2" = "mod download" ]; then printf '{\n\t"Dir": "%s"\n}\n' "` + mod + `"; exit 0; fi
[ "$1" = build ] || { echo "fake go: unexpected $*" >&2; exit 2; }
out=""
while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
name=$(basename "$out")
case $name in staticcheck) sleep 4 ;; esac
echo "$name" >> "` + events + `"
touch "$out"
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o755))
	cmd := exec.Command("bash", filepath.Join("..", "tools", "build.sh"), "-j", "2", "lint", "etcd", "kwok")
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LLMSERVE_TOOLS="+filepath.Join(dir, "tools"))
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err)
	got, err := os.ReadFile(events)
	require.NoError(t, err)
	order := strings.Fields(string(got))
	t.Logf("binaries in the order they were built: %v", order)
	require.Equal(t, []string{"etcd", "kwok", "kwokctl", "staticcheck", "goimports"}, order,
		"kwok's build waited for lint's instead of taking etcd's finished slot")
	for _, tool := range []string{"lint-staticcheck-v0.8.2", "etcd-v3.5.21", "kwok-v0.8.0"} {
		assert.FileExists(t, filepath.Join(dir, "tools", tool, ".done"))
	}
}
