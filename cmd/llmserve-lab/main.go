// Command llmserve-lab runs the local autoscaling lab (`make demo`): a kwok cluster with fake
// TPU v6e nodes, the dev stack deployed onto it through the embedding API, a simulated server
// load, and the real HPA scaling it. It ends by itself and stops everything it started;
// -down stops a lab left by a killed run (`make demo-down`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/llmserve/llmserve/lab"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "llmserve-lab:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, envErr := lab.ConfigFromEnv()
	scenario := flag.String("scenario", "short", "load scenario: short (about 4 min) or long")
	model := flag.String("model", cfg.Target.Model, "model profile (stacks/models)")
	loadDelay := flag.Duration("model-load-delay", cfg.ModelLoadDelay, "time a scheduled replica takes to become ready")
	tps := flag.Float64("tokens-per-second", cfg.TokensPerSecond, "decode tokens/s of one replica at a full batch")
	nodes := flag.Int("nodes", 0, "fake TPU nodes (0: the pool's maxNodes)")
	maxReplicas := flag.Int("max-replicas", 0, "override autoscaling.maxReplicas (0: the profile's)")
	verbose := flag.Bool("verbose", false, "show kwokctl and Pulumi output")
	down := flag.Bool("down", false, "stop a lab left running (delete its cluster) and exit")
	compare := flag.Bool("compare", false, "run the scenario for llmserve's HPA defaults and the seeds' HPAs, one after the other, and print a table")
	flag.Parse()
	if envErr != nil {
		return envErr
	}
	cfg.Target.Model, cfg.ModelLoadDelay, cfg.TokensPerSecond, cfg.Nodes = *model, *loadDelay, *tps, *nodes
	if *maxReplicas > 0 {
		cfg.Overrides = map[string]any{"autoscaling": map[string]any{"maxReplicas": *maxReplicas}}
	}
	if *verbose {
		cfg.Log = os.Stderr
	}
	pidFile := filepath.Join(cfg.WorkDir, "lab.pid")
	if *down {
		stopRunning(pidFile)
		return lab.StopCluster(context.Background(), lab.ClusterConfig{WorkDir: filepath.Join(cfg.WorkDir, "kwok"), KwokBin: cfg.KwokBin, Log: cfg.Log}, lab.DefaultClusterName)
	}
	sc, err := lab.LookupScenario(*scenario)
	if err != nil {
		return err
	}
	// Ctrl-C and SIGTERM cancel the run; the deferred Close still deletes the cluster.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runs := 1
	if *compare {
		runs = len(lab.SeedVariants)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(runs)*(sc.Duration()+10*time.Minute))
	defer cancel()
	if err := os.MkdirAll(cfg.WorkDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return err
	}
	defer os.Remove(pidFile)

	if !*compare {
		_, _, err := runOnce(ctx, cfg, sc, "timeline")
		return err
	}
	// -compare: the same scenario for llmserve's defaults and the seeds' HPAs, one after
	// the other (in parallel they would share the CPU and skew each other).
	var sums []lab.Summary
	for _, v := range lab.SeedVariants {
		c := cfg
		c.Overrides, c.ScrapeInterval = v.Overrides, v.ScrapeInterval
		fmt.Printf("llmserve lab: compare: %s\n", v.Name)
		rows, predicted, err := runOnce(ctx, c, sc, "timeline-"+v.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", v.Name, err)
		}
		sums = append(sums, lab.Summarize(v.Name, rows, sc, predicted))
	}
	f, err := os.Create(filepath.Join(cfg.WorkDir, "compare.md"))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "Scenario %s (%s), model %s, %.1f req/s per replica, ingestion 3-7 s, HPA sync 15 s.\n\n", sc.Name, sc.Duration(), cfg.Target.Model, cfg.TokensPerSecond/cfg.OutputTokens)
	lab.WriteTable(f, sums)
	lab.WriteTable(os.Stdout, sums)
	fmt.Printf("llmserve lab: table %s\n", f.Name())
	return nil
}

// runOnce starts a lab, runs the scenario with the live view, writes <name>.csv and
// <name>.png, and stops the lab. It returns the rows and the replica count the model
// predicts for the scenario's step.
func runOnce(ctx context.Context, cfg lab.Config, sc lab.Scenario, name string) ([]lab.Row, int, error) {
	fmt.Printf("llmserve lab: starting a kwok cluster and deploying %s (work dir %s)\n", cfg.Target.StackName(), cfg.WorkDir)
	t0 := time.Now()
	l, err := lab.Start(ctx, cfg)
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		fmt.Println("llmserve lab: stopping the cluster")
		if err := l.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "llmserve-lab: stop:", err)
		}
	}()
	as := l.Stack.Profile.Autoscaling
	fmt.Printf("llmserve lab: up in %s: %d fake %s nodes (%s), HPA %s/%s on %s target %.2g, replicas %d-%d\n",
		time.Since(t0).Round(time.Second), l.Nodes, l.Stack.Profile.Accelerator.Topology, lab.NodePoolName,
		l.Namespace, l.Name, l.HPAMetrics[0], l.Targets[0], as.MinReplicas, as.MaxReplicas)
	fmt.Printf("llmserve lab: one replica serves %.1f req/s (maxNumSeqs %d, %.0f tokens/s, %.0f tokens/request); scenario %s, %s\n",
		l.Model.Capacity(), l.Model.MaxNumSeqs, l.Model.TokensPerSecond, l.Model.OutputTokens, sc.Name, sc.Duration())
	predicted := 0
	for _, p := range sc.Phases {
		if p.Name == "step" {
			predicted = lab.PredictReplicas(l.Model, p.Load*l.Model.Capacity(), as.MinReplicas, as.MaxReplicas)
		}
	}
	view := lab.NewView(os.Stdout, as.MaxReplicas)
	rows, runErr := l.Run(ctx, sc, view.Show)
	csvPath, pngPath := filepath.Join(cfg.WorkDir, name+".csv"), filepath.Join(cfg.WorkDir, name+".png")
	err = errors.Join(runErr, lab.WriteCSV(csvPath, rows), lab.WritePNG(pngPath, l.Name+" "+sc.Name, rows))
	fmt.Printf("llmserve lab: timeline %s, plot %s\n", csvPath, pngPath)
	return rows, predicted, err
}

// stopRunning sends SIGTERM to the lab whose pid the file holds, if it is still an
// llmserve-lab process, and waits up to 30s for it to stop its cluster and exit.
func stopRunning(pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 || pid == os.Getpid() {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "llmserve-lab") {
		return // gone, or the pid now belongs to another program
	}
	fmt.Printf("llmserve lab: stopping the running lab (pid %d)\n", pid)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return
	}
	for range 60 {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}
