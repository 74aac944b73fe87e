// Command llmserve-lab runs the local autoscaling lab (`make demo`): a kwok cluster with fake
// TPU v6e nodes that the real cluster-autoscaler adds and removes, the dev stack deployed
// onto it through the embedding API, replicas with a modelled cold start, a simulated
// request load, and the real HPA scaling it. It ends by itself and stops everything it
// started; -down stops a lab left by a killed run (`make demo-down`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

// options are the run's flags beyond the lab's Config.
type options struct {
	speed    float64
	slo      time.Duration
	chipHour float64
	settle   bool
}

func run() error {
	cfg, envErr := lab.ConfigFromEnv()
	scenario := flag.String("scenario", "short", "load scenario: "+strings.Join(lab.ScenarioNames(), ", ")+"; several, comma-separated, with -compare")
	model := flag.String("model", cfg.Target.Model, "model profile (stacks/models)")
	speed := flag.Float64("speed", 1, "run the world this many times faster than the wall clock (HPA sync and behavior, autoscaler timing, node provisioning and cold starts are divided by it)")
	tps := flag.Float64("tokens-per-second", cfg.TokensPerSecond, "decode tokens/s of one replica at a full batch (assumption kept from the issue-8 lab)")
	prefill := flag.Float64("prefill-tokens-per-second", 0, "prompt tokens/s one slot prefills (0: the slice's bf16 peak x 40% MFU / 2 x parameters)")
	kvBytes := flag.Float64("kv-bytes-per-token", lab.DefaultKVBytesPerToken, "KV cache bytes per token (default: Llama 3.1 8B's 128 KiB)")
	inTok := flag.Float64("input-tokens", lab.DefaultLengths.InputMean, "mean prompt tokens of generated requests")
	outTok := flag.Float64("output-tokens", lab.DefaultLengths.OutputMean, "mean generated tokens of generated requests")
	sigma := flag.Float64("length-sigma", lab.DefaultLengths.Sigma, "log-normal sigma of generated request lengths (0: every request at the means)")
	timeout := flag.Duration("client-timeout", lab.DefaultClientTimeout, "a request waiting longer for a slot is dropped (default: the OpenAI Python client's 10 min)")
	routing := flag.String("routing", string(lab.DefaultRouting.Mode), "how requests reach the replicas: gateway (GKE Inference Gateway's endpoint picker, per request by queue and KV cache: what a vLLM stack deploys on GKE), service (a ClusterIP Service, random per connection: JetStream, existing clusters, exposure cluster) or fifo (one shared queue, the lab before issue 20)")
	conns := flag.Int("connections", lab.DefaultConnections, "with -routing service: client connections the load is spread over, each pinned to a replica (default: the OpenAI Python client's 100 keep-alive connections; an assumption)")
	connLife := flag.Duration("connection-lifetime", lab.DefaultConnectionLifetime, "with -routing service: mean lifetime of a connection before the client reconnects to a random replica, 0 never (an assumption: nothing closes a busy connection)")
	slo := flag.Duration("slo", lab.DefaultTTFTSLO, "TTFT objective for SLO attainment (default: MLPerf Inference's 2 s server TTFT limit for Llama 3.1 8B)")
	chipHour := flag.Float64("chip-hour-usd", lab.DefaultChipHourUSD, "TPU v6e price per chip-hour (default: on-demand, us-east1)")
	provisioning := flag.Duration("node-provisioning", lab.DefaultNodeProvisioning, "time a node the cluster-autoscaler adds takes to be Ready")
	caScan := flag.Duration("ca-scan-interval", lab.DefaultCAScanInterval, "cluster-autoscaler --scan-interval")
	caUnneeded := flag.Duration("ca-scale-down-unneeded-time", lab.DefaultCAScaleDownUnneededTime, "cluster-autoscaler --scale-down-unneeded-time")
	caAfterAdd := flag.Duration("ca-scale-down-delay-after-add", lab.DefaultCAScaleDownDelayAfterAdd, "cluster-autoscaler --scale-down-delay-after-add")
	imageGB := flag.Float64("image-gb", lab.DefaultImageGB, "model server image size")
	pullGBps := flag.Float64("pull-gbps", lab.DefaultPullGBps, "image pull throughput (assumption); 0: no pull, as on nodes with the image preloaded by pool.imageCacheDisk "+
		"(GKE's blog \"Data loading best practices for AI/ML inference on GKE\", 2024-11-13: a 16 GB image cached on a secondary boot disk loads up to 29x faster than pulled, ~5 s here)")
	weightsGB := flag.Float64("weights-gb", 0, "weights size (0: the profile's parameters x dtype bytes)")
	fuseGBps := flag.Float64("fuse-gbps", lab.DefaultFUSEGBps, "GCS FUSE read throughput for the weights")
	engine := flag.Duration("engine-start", lab.DefaultEngineStart, "engine start before compilation")
	xlaCold := flag.Duration("xla-cold", lab.DefaultXLACold, "XLA compilation without a published cache")
	xlaWarm := flag.Duration("xla-warm", lab.DefaultXLAWarm, "XLA compilation from a published cache")
	fresh := flag.Bool("fresh", false, "start right after the deployment: the first replicas compile cold, no XLA cache published")
	settle := flag.Bool("settle", true, "before measuring, serve the scenario's starting load until the HPA and the pool settle on it (false: the scenario starts from minReplicas ready, its load arriving from nothing; true starts with the replicas the starting load needs, lab.StartReplicas); not with -fresh")
	nodes := flag.Int("nodes", 0, "a fixed pool of this many TPU nodes and no cluster-autoscaler (0: the autoscaler on the pool's minNodes..maxNodes)")
	maxReplicas := flag.Int("max-replicas", 0, "override autoscaling.maxReplicas (0: the profile's); the pool's maxNodes follows it")
	peak := flag.Float64("peak", 0, "scale every scenario's load so that its peak is this many replicas' worth, its shape kept (a replayed trace is resampled); 0: as defined. The scale runs: -scenario day,trace,bursts -peak 12 -max-replicas 16")
	overrides := flag.String("overrides", "", "YAML of profile keys laid over every run's policy (llmserve:overrides), e.g. '{autoscaling: {minReplicas: 2}}': try a policy of your own")
	trace := flag.String("trace", "", "CSV trace to replay (arrival_seconds,input_tokens,output_tokens) as the trace scenario")
	genTrace := flag.String("gen-trace", "", "write the scenario's generated requests as a CSV trace to this file and exit")
	seed := flag.Uint64("seed", 1, "seed of the generated load and the ingestion delays")
	policy := flag.String("policy", "llmserve", "HPA policy of a single run: llmserve, seed003, seed001 or llm-d")
	compare := flag.Bool("compare", false, "run every scenario for each policy (-policies) one after the other, print one table per scenario and write one plot per policy plus a combined one")
	parallel := flag.Int("parallel", 1, "with -compare: how many scenario x policy runs at once, each in its own cluster under <work dir>/runs/<scenario>-<policy> with its live view in run.log there")
	policies := flag.String("policies", "llmserve,seed003,seed001,llm-d", "policies -compare runs ('' with -variant: only those)")
	var own []lab.Variant
	flag.Func("variant", "with -compare, a policy of your own run beside -policies: name={yaml of profile keys, as -overrides}, e.g. 'buffer2={autoscaling: {buffer: {replicas: 2}}}'; repeatable", func(s string) error {
		v, err := lab.ParseVariant(s)
		if err == nil {
			own = append(own, v)
		}
		return err
	})
	verbose := flag.Bool("verbose", false, "show kwokctl and Pulumi output")
	down := flag.Bool("down", false, "stop a lab left running (delete its cluster) and exit")
	flag.Parse()

	pidFile := filepath.Join(cfg.WorkDir, "lab.pid")
	if *down {
		stopRunning(pidFile)
		// The single run's cluster, and those of a -parallel comparison (runs/*/kwok).
		dirs, _ := filepath.Glob(filepath.Join(cfg.WorkDir, "runs", "*"))
		var errs []error
		for _, d := range append([]string{cfg.WorkDir}, dirs...) {
			errs = append(errs, lab.StopCluster(context.Background(), lab.ClusterConfig{WorkDir: filepath.Join(d, "kwok"), KwokBin: cfg.KwokBin, Log: cfg.Log}, lab.DefaultClusterName))
		}
		return errors.Join(errs...)
	}
	cfg.Target.Model, cfg.TokensPerSecond, cfg.PrefillTokensPerSecond, cfg.KVBytesPerToken = *model, *tps, *prefill, *kvBytes
	cfg.Lengths = lab.Lengths{InputMean: *inTok, OutputMean: *outTok, Sigma: *sigma, Max: lab.DefaultLengths.Max}
	cfg.ClientTimeout, cfg.NodeProvisioning, cfg.Nodes, cfg.FreshStack, cfg.Seed, cfg.Speed = *timeout, *provisioning, *nodes, *fresh, *seed, *speed
	cfg.Routing = lab.Routing{Mode: lab.RoutingMode(*routing), Connections: *conns, ConnectionLifetime: *connLife}
	if err := cfg.Routing.Validate(); err != nil {
		return err
	}
	cfg.CA = lab.CA{ScanInterval: *caScan, ScaleDownUnneededTime: *caUnneeded, ScaleDownDelayAfterAdd: *caAfterAdd,
		MaxNodeProvisionTime: lab.DefaultCAMaxNodeProvisionTime, UnremovableRecheck: lab.DefaultCAUnremovableRecheck}
	cfg.ColdStart = lab.ColdStart{ImageGB: *imageGB, PullGBps: *pullGBps, WeightsGB: *weightsGB, FUSEGBps: *fuseGBps,
		EngineStart: *engine, XLACold: *xlaCold, XLAWarm: *xlaWarm}
	if *verbose {
		cfg.Log = os.Stderr
	}
	names := strings.Split(*scenario, ",")
	var (
		scs []lab.Scenario
		err error
	)
	for _, n := range names {
		sc, err := lab.LookupScenario(strings.TrimSpace(n))
		if err != nil {
			return err
		}
		if sc.Name == "trace" && *trace != "" {
			reqs, err := lab.ReadTraceFile(*trace)
			if err != nil {
				return err
			}
			sc = lab.Scenario{Name: "trace", Trace: reqs}
		}
		scs = append(scs, sc)
	}
	if *peak > 0 {
		if scs, err = scaleAll(cfg, scs, *peak); err != nil {
			return err
		}
	}
	if *genTrace != "" {
		return writeTrace(*genTrace, cfg, scs[0])
	}
	if envErr != nil {
		return envErr
	}
	var vs []lab.Variant
	list := *policy
	if *compare {
		list = *policies
	}
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n == "" && *compare {
			continue // -policies '' with -variant: only the user's own policies
		}
		v, ok := lab.LookupVariant(n)
		if !ok {
			return fmt.Errorf("policy %q: want llmserve, seed003, seed001 or llm-d", n)
		}
		vs = append(vs, v)
	}
	if len(own) > 0 && !*compare {
		return fmt.Errorf("-variant needs -compare (a single run takes -overrides)")
	}
	vs = append(vs, own...)
	if len(vs) == 0 {
		return fmt.Errorf("-compare: no policy to run: name some in -policies or add a -variant")
	}
	if !*compare && len(scs) > 1 {
		return fmt.Errorf("several scenarios need -compare")
	}

	// Ctrl-C and SIGTERM cancel the run; the deferred Close still deletes the cluster.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var total time.Duration
	for _, sc := range scs {
		total += time.Duration(len(vs)) * (time.Duration(float64(sc.Duration())/cfg.Speed) + 10*time.Minute)
	}
	if *parallel > 1 {
		total = total/time.Duration(*parallel) + 20*time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, total)
	defer cancel()
	if err := os.MkdirAll(cfg.WorkDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return err
	}
	defer os.Remove(pidFile)
	if *overrides != "" {
		extra, err := lab.ParseOverrides(*overrides)
		if err != nil {
			return err
		}
		for i := range vs {
			vs[i].Overrides = lab.MergeOverrides(vs[i].Overrides, extra)
		}
	}
	if *maxReplicas > 0 {
		for i := range vs {
			vs[i].Overrides = lab.MergeOverrides(vs[i].Overrides, map[string]any{"autoscaling": map[string]any{"maxReplicas": *maxReplicas}})
		}
	}
	opts := options{speed: *speed, slo: *slo, chipHour: *chipHour, settle: *settle && !*fresh}

	f, err := os.Create(filepath.Join(cfg.WorkDir, "compare.md"))
	if err != nil {
		return err
	}
	defer f.Close()
	results := runAll(ctx, cfg, scs, vs, *compare, max(1, *parallel), opts)
	var errs []error
	for i, sc := range scs {
		var sums []lab.Summary
		var runs []lab.Run
		for j, v := range vs {
			r := results[i][j]
			if r.err != nil {
				errs = append(errs, fmt.Errorf("%s on %s: %w", v.Name, sc.Name, r.err))
				continue
			}
			sums, runs = append(sums, r.sum), append(runs, lab.Run{Name: v.Name, Rows: r.rows})
		}
		if len(sums) == 0 {
			continue
		}
		header := fmt.Sprintf("Scenario %s (%s of world time at speed %g), model %s, seed %d, routing %s.\n\n", sc.Name, sc.Duration(), cfg.Speed, cfg.Target.Model, cfg.Seed, routingName(cfg.Routing))
		fmt.Fprint(f, header)
		lab.WriteTable(f, sums)
		fmt.Fprintln(f)
		fmt.Print("\n" + header)
		lab.WriteTable(os.Stdout, sums)
		if *compare {
			png := filepath.Join(cfg.WorkDir, "compare-"+sc.Name+".png")
			if err := lab.WriteComparePNG(png, sc.Name, runs); err != nil {
				return err
			}
			fmt.Printf("llmserve lab: combined plot %s\n", png)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Printf("llmserve lab: table %s\n", f.Name())
	return nil
}

// result is one run of the comparison grid.
type result struct {
	sum  lab.Summary
	rows []lab.Row
	err  error
}

// runAll runs every scenario for every policy, parallel at a time: one at a time with its
// live view on stdout, or several, each in its own cluster and work dir (ports are picked
// free per cluster) with its live view in run.log there. Timelines go to the work dir.
func runAll(ctx context.Context, cfg lab.Config, scs []lab.Scenario, vs []lab.Variant, compare bool, parallel int, o options) [][]result {
	results := make([][]result, len(scs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, sc := range scs {
		results[i] = make([]result, len(vs))
		for j, v := range vs {
			c := cfg
			c.Overrides, c.ScrapeInterval = v.Overrides, v.ScrapeInterval
			name := "timeline"
			if compare {
				name = "timeline-" + sc.Name + "-" + v.Name
			}
			run := func(out io.Writer) {
				r := &results[i][j]
				r.sum, r.rows, r.err = runOnce(ctx, out, cfg.WorkDir, c, sc, v.Name, name, o)
			}
			if parallel == 1 {
				if compare {
					fmt.Printf("llmserve lab: compare: %s on %s\n", v.Name, sc.Name)
				}
				run(os.Stdout)
				continue
			}
			c.WorkDir = filepath.Join(cfg.WorkDir, "runs", sc.Name+"-"+v.Name)
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				if err := os.MkdirAll(c.WorkDir, 0o700); err != nil {
					results[i][j].err = err
					return
				}
				logf, err := os.Create(filepath.Join(c.WorkDir, "run.log"))
				if err != nil {
					results[i][j].err = err
					return
				}
				defer logf.Close()
				fmt.Printf("llmserve lab: compare: %s on %s started (live view in %s)\n", v.Name, sc.Name, logf.Name())
				run(logf)
				fmt.Printf("llmserve lab: compare: %s on %s done\n", v.Name, sc.Name)
			}()
		}
	}
	wg.Wait()
	return results
}

// runOnce starts a lab, runs the scenario with the live view, writes <name>.csv and
// <name>.png, and stops the lab. It returns the run's summary and rows.
func runOnce(ctx context.Context, out io.Writer, outDir string, cfg lab.Config, sc lab.Scenario, policy, name string, o options) (lab.Summary, []lab.Row, error) {
	fmt.Fprintf(out, "llmserve lab: starting a kwok cluster and deploying %s (work dir %s)\n", cfg.Target.StackName(), cfg.WorkDir)
	t0 := time.Now()
	if o.settle {
		cfg.StartScenario = &sc // start with the replicas its starting load needs
	}
	l, err := lab.Start(ctx, cfg)
	if err != nil {
		return lab.Summary{}, nil, err
	}
	defer func() {
		fmt.Fprintln(out, "llmserve lab: stopping the cluster")
		if err := l.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "llmserve-lab: stop:", err)
		}
	}()
	as := l.Stack.Profile.Autoscaling
	ca := "the cluster-autoscaler (log " + l.CALog() + ")"
	if l.CALog() == "" {
		ca = "a fixed pool"
	}
	fmt.Fprintf(out, "llmserve lab: up in %s: TPU pool %d..%d nodes of %s under %s; HPA %s/%s on %v targets %v, replicas %d-%d\n",
		time.Since(t0).Round(time.Second), l.MinNodes, l.MaxNodes, l.Stack.Profile.Accelerator.Topology, ca,
		l.Namespace, l.Name, l.HPAMetrics, l.Targets, as.MinReplicas, as.MaxReplicas)
	fmt.Fprintf(out, "llmserve lab: a replica serves %.1f req/s (maxNumSeqs %d, decode %.0f tokens/s, prefill %.0f tokens/s a slot, %.0f/%.0f tokens a request); cold start %s; node provisioning %s\n",
		l.Model.Capacity(), l.Model.MaxNumSeqs, l.Model.TokensPerSecond, l.Model.PrefillTokensPerSecond, l.Model.InputTokens, l.Model.OutputTokens, l.ColdStart, cfg.NodeProvisioning)
	fmt.Fprintf(out, "llmserve lab: scenario %s, %s of world time at speed %g (%s of wall time)\n", sc.Name, sc.Duration(), o.speed,
		time.Duration(float64(sc.Duration())/o.speed).Round(time.Second))
	view := lab.NewView(out, as.MaxReplicas)
	if o.settle {
		fmt.Fprintf(out, "llmserve lab: settling: serving the scenario's starting load until the HPA and the pool are at rest (not measured)\n")
		s, err := l.Settle(ctx, sc, view.Show)
		if err != nil {
			return lab.Summary{}, nil, err
		}
		if s.OK {
			fmt.Fprintf(out, "llmserve lab: settled at %.1f replicas' worth: %d replicas ready after %s of world time\n", s.Load, s.Replicas, s.After.Round(time.Second))
		} else {
			fmt.Fprintf(out, "llmserve lab: not at rest after %s of world time at %.1f replicas' worth: the scenario starts with %d replicas ready\n", s.After.Round(time.Second), s.Load, s.Replicas)
		}
	}
	rows, runErr := l.Run(ctx, sc, view.Show)
	outcomes, queued := l.Outcomes()
	sum := lab.Summarize(policy, rows, outcomes, queued, o.slo, lab.Pricing{ChipHourUSD: o.chipHour, ChipsPerNode: l.ChipsPerNode})
	sum.Oracle = l.Oracle(sc)
	fmt.Fprintf(out, "llmserve lab: oracle %.1f replica-min (peak need %d); %s paid %.1f node-min, %.2fx the oracle\n",
		sum.Oracle.ReplicaMinutes, sum.Oracle.PeakNeed, policy, sum.NodeMinutes, sum.Oracle.Times(sum.NodeMinutes))
	csvPath, pngPath := filepath.Join(outDir, name+".csv"), filepath.Join(outDir, name+".png")
	err = errors.Join(runErr, lab.WriteCSV(csvPath, rows), lab.WritePNG(pngPath, policy+" "+sc.Name, rows))
	fmt.Fprintf(out, "llmserve lab: timeline %s, plot %s\n", csvPath, pngPath)
	return sum, rows, err
}

// routingName says how requests were routed, with the service's connection assumptions.
func routingName(r lab.Routing) string {
	if r.Mode != lab.RoutingService {
		return string(r.Mode)
	}
	return fmt.Sprintf("service (%d connections, mean lifetime %s)", r.Connections, r.ConnectionLifetime)
}

// scaleAll scales every scenario to a peak of peak replicas' worth (lab.ScaleTo), on the
// server model of the profile, which a replayed trace's peak is measured in.
func scaleAll(cfg lab.Config, scs []lab.Scenario, peak float64) ([]lab.Scenario, error) {
	st, err := lab.ResolveConfig(cfg.Target, lab.StackSettings(nil, nil, ""))
	if err != nil {
		return nil, err
	}
	m := lab.ModelFor(*st, cfg)
	out := make([]lab.Scenario, len(scs))
	for i, sc := range scs {
		if out[i], err = lab.ScaleTo(sc, peak, m, cfg.Seed); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writeTrace saves a scenario's requests as a CSV trace (its replayed trace, scaled if
// -peak, or its generated load) and prints their oracle.
func writeTrace(path string, cfg lab.Config, sc lab.Scenario) error {
	st, err := lab.ResolveConfig(cfg.Target, lab.StackSettings(nil, nil, ""))
	if err != nil {
		return err
	}
	m := lab.ModelFor(*st, cfg)
	reqs := sc.Trace // a replayed trace (-trace), scaled by -peak
	if len(reqs) == 0 {
		reqs = lab.GenerateTrace(sc, m.Capacity(), cfg.Lengths, cfg.Seed)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := lab.WriteTrace(f, reqs); err != nil {
		_ = f.Close()
		return err
	}
	o := lab.OracleFor(reqs, m, sc.Duration(), lab.NeedWindow)
	fmt.Printf("llmserve lab: %d requests of %s (%s) written to %s; peak need %d replicas, oracle %.1f replica-min, static pool %.1f\n",
		len(reqs), sc.Name, sc.Duration(), path, o.PeakNeed, o.ReplicaMinutes, o.StaticMinutes)
	return f.Close()
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
