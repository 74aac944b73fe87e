package lab

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// DefaultClusterName is the kwokctl cluster the lab creates (and `make demo-down` deletes).
const DefaultClusterName = "llmserve-lab"

// DefaultHPASyncPeriod is how often the HPA controller re-evaluates: GKE runs it every 15s
// ("Horizontal Pod autoscaling", cloud.google.com/kubernetes-engine/docs/concepts/
// horizontalpodautoscaler: "checks the metrics every 15 seconds"), the upstream default.
const DefaultHPASyncPeriod = 15 * time.Second

// ClusterConfig says where the lab cluster's binaries and state are.
type ClusterConfig struct {
	Name    string // kwokctl cluster name; default DefaultClusterName
	WorkDir string // KWOK_WORKDIR: kwokctl keeps every cluster's state, logs and pids here
	// KubeBin, EtcdBin and KwokBin are the directories `make tools` builds into
	// ($LLMSERVE_KUBE_BIN, $LLMSERVE_ETCD_BIN, $LLMSERVE_KWOK_BIN).
	KubeBin, EtcdBin, KwokBin string
	// StagesDir holds kwok's stage YAMLs ({node,pod}/...); default KwokBin/../stages.
	StagesDir string
	// HPASyncPeriod is kube-controller-manager's --horizontal-pod-autoscaler-sync-period.
	HPASyncPeriod time.Duration
	// NodeProvisioning is how long a node the cluster-autoscaler adds stays NotReady, in
	// wall time: kwok's node-initialize stage waits this long for nodes without
	// AnnotationPreprovisioned.
	NodeProvisioning time.Duration
	Log              io.Writer // kwokctl's output; nil drops it
}

// Cluster is a running kwokctl cluster.
type Cluster struct {
	Name string
	// Kubeconfig is the admin kubeconfig file, and KubeconfigData the same, self-contained
	// (certificates inlined), for the Pulumi Kubernetes provider.
	Kubeconfig     string
	KubeconfigData []byte
	cfg            ClusterConfig
}

// StartCluster creates and starts the cluster; on error it deletes what it started. Every
// component listens on 127.0.0.1 only: kwokctl's defaults bind 0.0.0.0, so the lab passes
// its own ports and bind addresses as extra args (appended after kwokctl's, so they win).
func StartCluster(ctx context.Context, cfg ClusterConfig) (*Cluster, error) {
	if cfg.Name == "" {
		cfg.Name = DefaultClusterName
	}
	if cfg.HPASyncPeriod == 0 {
		cfg.HPASyncPeriod = DefaultHPASyncPeriod
	}
	if cfg.StagesDir == "" {
		cfg.StagesDir = filepath.Join(filepath.Dir(cfg.KwokBin), "stages")
	}
	bins := map[string]string{
		"etcd": filepath.Join(cfg.EtcdBin, "etcd"), "kube-apiserver": filepath.Join(cfg.KubeBin, "kube-apiserver"),
		"kube-controller-manager": filepath.Join(cfg.KubeBin, "kube-controller-manager"),
		"kube-scheduler":          filepath.Join(cfg.KubeBin, "kube-scheduler"), "kwok": filepath.Join(cfg.KwokBin, "kwok"),
		"kwokctl": filepath.Join(cfg.KwokBin, "kwokctl"),
	}
	for name, p := range bins {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("lab cluster: %s not built (run `make tools`): %w", name, err)
		}
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o700); err != nil {
		return nil, fmt.Errorf("lab cluster: work dir: %w", err)
	}
	c := &Cluster{Name: cfg.Name, cfg: cfg, Kubeconfig: filepath.Join(cfg.WorkDir, "kubeconfig")}
	// A cluster left by a killed run would hold the name: delete it first.
	_ = c.Stop(context.WithoutCancel(ctx))

	stages, err := stageConfig(cfg.StagesDir, cfg.NodeProvisioning)
	if err != nil {
		return nil, fmt.Errorf("lab cluster: %w", err)
	}
	stagesFile := filepath.Join(cfg.WorkDir, "kwok-stages.yaml")
	if err := os.WriteFile(stagesFile, stages, 0o600); err != nil {
		return nil, fmt.Errorf("lab cluster: %w", err)
	}
	ports, err := freePorts(6)
	if err != nil {
		return nil, fmt.Errorf("lab cluster: ports: %w", err)
	}
	etcdPort, peerPort, apiPort, kcmPort, schedPort, kwokPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	lo := "127.0.0.1"
	url := func(p int) string { return "http://" + lo + ":" + strconv.Itoa(p) }
	pki := filepath.Join(cfg.WorkDir, "clusters", cfg.Name, "pki")
	extra := []string{
		"etcd=listen-client-urls=" + url(etcdPort), "etcd=advertise-client-urls=" + url(etcdPort),
		"etcd=listen-peer-urls=" + url(peerPort), "etcd=initial-advertise-peer-urls=" + url(peerPort),
		"etcd=initial-cluster=node0=" + url(peerPort),
		"kube-apiserver=bind-address=" + lo,
		// The aggregation layer: the apiserver proxies custom.metrics.k8s.io to the adapter
		// with its proxy client certificate (kwokctl already passes --proxy-client-*), and
		// the adapter trusts the user headers only from a certificate of this CA
		// (kubernetes.io/docs/tasks/extend-kubernetes/configure-aggregation-layer).
		"kube-apiserver=requestheader-client-ca-file=" + filepath.Join(pki, "ca.crt"),
		"kube-apiserver=requestheader-username-headers=X-Remote-User",
		"kube-apiserver=requestheader-group-headers=X-Remote-Group",
		"kube-apiserver=requestheader-extra-headers-prefix=X-Remote-Extra-",
		"kube-controller-manager=bind-address=" + lo,
		"kube-controller-manager=horizontal-pod-autoscaler-sync-period=" + cfg.HPASyncPeriod.String(),
		"kube-scheduler=bind-address=" + lo,
		"kwok-controller=server-address=" + lo + ":" + strconv.Itoa(kwokPort),
		"kwok-controller=node-ip=" + lo,
	}
	args := []string{"create", "cluster", "--name", cfg.Name, "-c", stagesFile, "--runtime", "binary",
		"--kubeconfig", c.Kubeconfig, "--wait", "60s", "--timeout", "120s",
		"--etcd-binary", bins["etcd"], "--kube-apiserver-binary", bins["kube-apiserver"],
		"--kube-controller-manager-binary", bins["kube-controller-manager"],
		"--kube-scheduler-binary", bins["kube-scheduler"], "--kwok-controller-binary", bins["kwok"],
		"--etcd-port", strconv.Itoa(etcdPort), "--kube-apiserver-port", strconv.Itoa(apiPort),
		"--kube-controller-manager-port", strconv.Itoa(kcmPort), "--kube-scheduler-port", strconv.Itoa(schedPort),
		"--controller-port", strconv.Itoa(kwokPort),
	}
	for _, e := range orderExtraArgs(extra) {
		args = append(args, "--extra-args", e)
	}
	if err := c.kwokctl(ctx, args...); err != nil {
		_ = c.Stop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lab cluster: create: %w", err)
	}
	data, err := flatKubeconfig(filepath.Join(cfg.WorkDir, "clusters", cfg.Name, "kubeconfig.yaml"))
	if err != nil {
		_ = c.Stop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lab cluster: kubeconfig: %w", err)
	}
	c.KubeconfigData = data
	return c, nil
}

// Stop deletes the cluster: kwokctl stops every component it started and removes its state.
// It is safe to call when the cluster does not exist.
func (c *Cluster) Stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return c.kwokctl(ctx, "delete", "cluster", "--name", c.Name, "--kubeconfig", c.Kubeconfig)
}

// StopCluster deletes the named cluster of a work dir, as Stop does: for a lab whose
// process was killed (`make demo-down`).
func StopCluster(ctx context.Context, cfg ClusterConfig, name string) error {
	c := &Cluster{Name: name, cfg: cfg, Kubeconfig: filepath.Join(cfg.WorkDir, "kubeconfig")}
	return c.Stop(ctx)
}

// LogsDir is where kwokctl writes each component's log.
func (c *Cluster) LogsDir() string { return filepath.Join(c.cfg.WorkDir, "clusters", c.Name, "logs") }

func (c *Cluster) kwokctl(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.cfg.KwokBin, "kwokctl"), args...)
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+c.cfg.WorkDir)
	var out bytes.Buffer
	w := io.Writer(&out)
	if c.cfg.Log != nil {
		w = io.MultiWriter(&out, c.cfg.Log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kwokctl %s: %w\n%s", strings.Join(args[:2], " "), err, tail(out.String(), 2000))
	}
	return nil
}

// stageConfig builds kwok's stages. Passing stages replaces kwokctl's defaults, so all of
// them are listed:
//   - node-initialize, split in two: the pool's first nodes (AnnotationPreprovisioned) are
//     Ready at once, the ones the cluster-autoscaler adds after the provisioning delay;
//   - node heartbeat with leases;
//   - pod-start (new): a scheduled pod runs but is not Ready, as a replica loading its
//     image, weights and XLA programs is, until the lab sets AnnotationLoaded;
//   - pod-ready, only for pods with AnnotationLoaded;
//   - pod-complete and pod-delete as they are.
func stageConfig(dir string, provisioning time.Duration) ([]byte, error) {
	read := func(f string) (map[string]any, error) {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("kwok stages (run `make tools`): %w", err)
		}
		var st map[string]any
		if err := yaml.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("kwok stage %s: %w", f, err)
		}
		if _, ok := st["spec"].(map[string]any); !ok {
			return nil, fmt.Errorf("kwok stage %s: no spec", f)
		}
		return st, nil
	}
	annotation := func(key, op string, values ...string) map[string]any {
		e := map[string]any{"key": `.metadata.annotations["` + key + `"]`, "operator": op}
		if len(values) > 0 {
			e["values"] = values
		}
		return e
	}
	addSelector := func(st map[string]any, exprs ...map[string]any) {
		spec := st["spec"].(map[string]any)
		sel, _ := spec["selector"].(map[string]any)
		if sel == nil {
			sel = map[string]any{}
			spec["selector"] = sel
		}
		list, _ := sel["matchExpressions"].([]any)
		for _, e := range exprs {
			list = append(list, e)
		}
		sel["matchExpressions"] = list
	}
	var stages []map[string]any

	nodeNow, err := read("node/fast/node-initialize.yaml")
	if err != nil {
		return nil, err
	}
	nodeLater, _ := read("node/fast/node-initialize.yaml")
	nodeNow["metadata"] = map[string]any{"name": "node-initialize-preprovisioned"}
	addSelector(nodeNow, annotation(AnnotationPreprovisioned, "Exists"))
	addSelector(nodeLater, annotation(AnnotationPreprovisioned, "DoesNotExist"))
	if provisioning > 0 {
		// Counted from the node's creation, not from the last event: kwok restarts a pending
		// delay whenever the object changes, and kube-controller-manager's node lifecycle
		// controller updates a new node some seconds in, so a plain delay made nodes Ready
		// 20-25 s of wall time late (200-250 s of world time at speed 10).
		ms := provisioning.Milliseconds()
		nodeLater["spec"].(map[string]any)["delay"] = map[string]any{"durationMilliseconds": ms,
			"durationFrom": map[string]any{"cel": map[string]any{
				"expression": fmt.Sprintf(`timestamp(self.metadata.creationTimestamp) + duration("%dms") - Now()`, ms)}}}
	}
	heartbeat, err := read("node/heartbeat-with-lease/node-heartbeat-with-lease.yaml")
	if err != nil {
		return nil, err
	}
	stages = append(stages, nodeNow, nodeLater, heartbeat)

	ready, err := read("pod/fast/pod-ready.yaml")
	if err != nil {
		return nil, err
	}
	start, _ := read("pod/fast/pod-ready.yaml")
	start["metadata"] = map[string]any{"name": "pod-start"}
	addSelector(start, annotation(AnnotationLoaded, "DoesNotExist"))
	next := start["spec"].(map[string]any)["next"].(map[string]any)
	tmpl, _ := next["statusTemplate"].(string)
	notReady := notReadyCondition.ReplaceAllString(tmpl, "${1}\"False\"${2}")
	notReady = strings.Replace(notReady, "ready: true", "ready: false", 1)
	if notReady == tmpl || !strings.Contains(notReady, "ready: false") {
		return nil, fmt.Errorf("kwok stage pod-ready: its status template changed; cannot derive pod-start")
	}
	next["statusTemplate"] = notReady
	// pod-ready no longer needs the Pending phase: pod-start has made the pod Running.
	spec := ready["spec"].(map[string]any)
	sel := spec["selector"].(map[string]any)
	var keep []any
	for _, e := range sel["matchExpressions"].([]any) {
		if m, _ := e.(map[string]any); m["key"] != ".status.phase" {
			keep = append(keep, e)
		}
	}
	sel["matchExpressions"] = keep
	addSelector(ready, annotation(AnnotationLoaded, "In", "true"))
	// pod-start has set the pod's IPs and start time, which are immutable: pod-ready only
	// turns it Ready.
	rnext := spec["next"].(map[string]any)
	rt, _ := rnext["statusTemplate"].(string)
	cut := strings.Index(rt, "{{ $hostIPs")
	if cut < 0 {
		return nil, fmt.Errorf("kwok stage pod-ready: its status template changed; cannot derive the loaded stage")
	}
	rnext["statusTemplate"] = rt[:cut] + "phase: Running\n"
	stages = append(stages, start, ready)
	for _, f := range []string{"pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml"} {
		st, err := read(f)
		if err != nil {
			return nil, err
		}
		stages = append(stages, st)
	}
	var docs [][]byte
	for _, st := range stages {
		b, err := yaml.Marshal(st)
		if err != nil {
			return nil, err
		}
		docs = append(docs, b)
	}
	return bytes.Join(docs, []byte("\n---\n")), nil
}

// notReadyCondition matches the Ready and ContainersReady conditions of kwok's pod-ready
// status template, to turn them False.
var notReadyCondition = regexp.MustCompile(`(status: )"True"(\s*\n\s*type: (?:Ready|ContainersReady)\b)`)

// orderExtraArgs puts the first arg of every component first. kwokctl v0.8.0 files a
// component's later args under the index of its first arg in the whole list, not in its
// list of components (cmd/create/cluster mutationComponentPatches), so args interleaved
// any other way panic or land on the wrong component.
func orderExtraArgs(args []string) []string {
	var first, rest []string
	seen := map[string]bool{}
	for _, a := range args {
		comp, _, _ := strings.Cut(a, "=")
		if seen[comp] {
			rest = append(rest, a)
		} else {
			seen[comp] = true
			first = append(first, a)
		}
	}
	return append(first, rest...)
}

// flatKubeconfig reads a kubeconfig and inlines the files it points to.
func flatKubeconfig(path string) ([]byte, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, err
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return nil, err
	}
	return clientcmd.Write(*cfg)
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
