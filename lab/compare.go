package lab

import (
	"fmt"
	"io"
	"math"
	"sort"
	"time"
)

// Variant is one HPA configuration of a comparison run (-compare): overrides of the
// profile and the scrape interval.
type Variant struct {
	Name           string
	Overrides      map[string]any
	ScrapeInterval string // llmserve:metrics.scrapeInterval; "" is the default (5s)
}

// k8sDefaultBehavior is the HPA's behavior when a manifest has no behavior block
// (kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale: "Default Behavior"):
// scale up at once by 100% or 4 pods per 15 s, scale down after a 300 s window.
var k8sDefaultBehavior = map[string]any{
	"scaleUp": map[string]any{"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": []any{
		map[string]any{"type": "Percent", "value": 100, "periodSeconds": 15},
		map[string]any{"type": "Pods", "value": 4, "periodSeconds": 15}}},
	"scaleDown": map[string]any{"stabilizationWindowSeconds": 300, "selectPolicy": "Max", "policies": []any{
		map[string]any{"type": "Percent", "value": 100, "periodSeconds": 15}}},
}

// seed001Behavior is seed 001's HPA behavior block: scale up at once by 4 pods or 100% per
// 15 s, scale down after a 30 s window by 100% per 15 s.
var seed001Behavior = map[string]any{
	"scaleUp": map[string]any{"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": []any{
		map[string]any{"type": "Pods", "value": 4, "periodSeconds": 15},
		map[string]any{"type": "Percent", "value": 100, "periodSeconds": 15}}},
	"scaleDown": map[string]any{"stabilizationWindowSeconds": 30, "selectPolicy": "Max", "policies": []any{
		map[string]any{"type": "Percent", "value": 100, "periodSeconds": 15}}},
}

// seedMinReplicas is the minReplicas of the seeds' HPAs (seed 001's describe output and
// seed 003's manifest both say 1; seed 000 recommends 1), and of llm-d's analyzer as an HPA:
// the compared policies are the ones users run today, floor included. maxReplicas stays the
// profile's for every policy: the scenarios are sized in its replicas.
const seedMinReplicas = 1

// Variants are the policies -compare runs on the same scenario and seed:
//   - llmserve: the profile's defaults, as shipped;
//   - seed003: seed 003's HPA, vllm:num_requests_waiting target 10, no behavior block
//     (Kubernetes' defaults), a 15 s scrape, minReplicas 1;
//   - seed001: seed 001's HPA, vllm:num_requests_running target 4 with its behavior block,
//     minReplicas 1;
//   - llm-d: a saturation policy in the style of llm-d's analyzer as an HPA multi-metric:
//     KV-cache usage 0.80 and queue 5 (its kvCacheThreshold and queueLengthThreshold), with
//     Kubernetes' default behavior, minReplicas 1. The analyzer's spare-capacity triggers and
//     its hold on scale-up while replicas are pending have no HPA equivalent.
var Variants = []Variant{
	{Name: "llmserve"},
	{Name: "seed003", ScrapeInterval: "15s", Overrides: map[string]any{"autoscaling": map[string]any{
		"minReplicas": seedMinReplicas,
		"metrics":     []any{map[string]any{"metric": "vllm:num_requests_waiting", "target": 10}},
		"behavior":    k8sDefaultBehavior}}},
	{Name: "seed001", Overrides: map[string]any{"autoscaling": map[string]any{
		"minReplicas": seedMinReplicas,
		"metrics":     []any{map[string]any{"metric": "vllm:num_requests_running", "target": 4}},
		"behavior":    seed001Behavior}}},
	{Name: "llm-d", Overrides: map[string]any{"autoscaling": map[string]any{
		"minReplicas": seedMinReplicas,
		"metrics": []any{map[string]any{"metric": "vllm:kv_cache_usage_perc", "target": 0.8},
			map[string]any{"metric": "vllm:num_requests_waiting", "target": 5}},
		"behavior": k8sDefaultBehavior}}},
}

// LookupVariant returns a named variant.
func LookupVariant(name string) (Variant, bool) {
	for _, v := range Variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}

// Pricing turns node-minutes into dollars.
type Pricing struct {
	// ChipHourUSD is the price of one TPU chip-hour.
	ChipHourUSD  float64
	ChipsPerNode int
}

// DefaultChipHourUSD is Cloud TPU v6e's on-demand price per chip-hour in us-east1 and
// us-east5, $2.70 (cloud.google.com/tpu/pricing, 2025). A flag: committed-use and spot
// prices are lower.
const DefaultChipHourUSD = 2.70

// DefaultTTFTSLO is the time-to-first-token objective SLO attainment counts against: 2 s,
// MLPerf Inference v5.1's server-scenario TTFT limit for Llama 3.1 8B (MLCommons inference
// rules). A flag.
const DefaultTTFTSLO = 2 * time.Second

// Summary is one run of one policy, in what the endpoint's users feel and what it costs.
type Summary struct {
	Variant string
	// Requests arrived; Served got a first token; TimedOut gave up waiting for a slot;
	// Refused arrived while no replica was ready; Queued were still waiting at the end.
	Requests, Served, TimedOut, Refused, Queued int
	TTFTp50, TTFTp95, TTFTp99                   time.Duration
	// SLOAttainment is the share of all requests served with TTFT <= SLO (timed-out,
	// refused and still-queued requests count as misses).
	SLOAttainment float64
	SLO           time.Duration
	// ReplicaMinutes are pods held (each holds a TPU slice), NodeMinutes TPU nodes up,
	// Cost the node-minutes' chip-hours at the price.
	ReplicaMinutes, NodeMinutes, CostUSD float64
	// ScaleUps and ScaleDowns count changes of the Deployment's replicas; EarlyDowns are the
	// scale-downs to fewer replicas than the arriving load needed at that moment.
	ScaleUps, ScaleDowns, EarlyDowns int
	// ShortSeconds are the seconds with fewer ready replicas than the load needed, after
	// having had them.
	ShortSeconds float64
	PeakQueue    float64
	// Oracle is what the run's arrivals needed (OracleFor): the reference the table gives
	// replica- and node-minutes against. Zero when not computed.
	Oracle Oracle
}

// Summarize computes a policy's summary from its rows and request outcomes.
func Summarize(name string, rows []Row, outcomes []Outcome, queued int, slo time.Duration, pr Pricing) Summary {
	s := Summary{Variant: name, SLO: slo, Queued: queued}
	var ttfts []time.Duration
	met := 0
	for _, o := range outcomes {
		switch {
		case o.TimedOut:
			s.TimedOut++
			continue
		case o.Refused:
			s.Refused++
			continue
		}
		s.Served++
		ttfts = append(ttfts, o.TTFT)
		if o.TTFT <= slo {
			met++
		}
	}
	s.Requests = s.Served + s.TimedOut + s.Refused + queued
	if s.Requests > 0 {
		s.SLOAttainment = float64(met) / float64(s.Requests)
	}
	sort.Slice(ttfts, func(i, j int) bool { return ttfts[i] < ttfts[j] })
	s.TTFTp50, s.TTFTp95, s.TTFTp99 = quantile(ttfts, 0.50), quantile(ttfts, 0.95), quantile(ttfts, 0.99)
	maxReady := 0
	for i, r := range rows {
		s.PeakQueue = math.Max(s.PeakQueue, r.Waiting)
		if i == 0 {
			maxReady = r.Ready
			continue
		}
		prev := rows[i-1]
		dt := (r.T - prev.T).Minutes()
		s.ReplicaMinutes += float64(r.Pods) * dt
		s.NodeMinutes += float64(r.Nodes) * dt
		switch {
		case r.Spec > prev.Spec:
			s.ScaleUps++
		case r.Spec < prev.Spec:
			s.ScaleDowns++
			if r.Spec < r.Need {
				s.EarlyDowns++
			}
		}
		if r.Ready < min(r.Need, maxReady) {
			s.ShortSeconds += dt * 60
		}
		maxReady = max(maxReady, r.Ready)
	}
	s.CostUSD = s.NodeMinutes / 60 * float64(pr.ChipsPerNode) * pr.ChipHourUSD
	return s
}

// quantile is the q-quantile of sorted durations (nearest rank), 0 for none.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(len(sorted)-1, i))]
}

// WriteTable writes the summaries as a Markdown table: per policy, what users felt, then
// what it paid. Replica-minutes and node-minutes (every TPU node up: serving, spare,
// provisioning or draining) are given as multiples of the oracle's replica-minutes, and
// node-minutes as the share saved against a static pool sized for the peak need (negative:
// more than static); the oracle and the static pool close the table, from the first
// summary's arrivals (every policy of a comparison replays the same ones).
func WriteTable(w io.Writer, sums []Summary) {
	if len(sums) == 0 {
		return
	}
	fmt.Fprintf(w, "| policy | SLO attainment (TTFT <= %s) | p50 / p95 / p99 TTFT | timed out | replica-min (x oracle) | node-min paid (x oracle) | node-min vs static | cost | scale ups / downs | downs below need | s short of need | peak queue |\n", sums[0].SLO)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	d := func(t time.Duration) string {
		if t >= 10*time.Second {
			return fmt.Sprintf("%.0fs", t.Seconds())
		}
		return fmt.Sprintf("%.2fs", t.Seconds())
	}
	for _, s := range sums {
		lost := fmt.Sprint(s.TimedOut + s.Queued)
		if s.Refused > 0 {
			lost += fmt.Sprintf(" (+%d refused: no replica ready)", s.Refused)
		}
		fmt.Fprintf(w, "| %s | %.1f%% of %d | %s / %s / %s | %s | %s | %s | %s | $%.2f | %d / %d | %d | %.0f | %.0f |\n",
			s.Variant, 100*s.SLOAttainment, s.Requests, d(s.TTFTp50), d(s.TTFTp95), d(s.TTFTp99), lost,
			timesOracle(s.Oracle, s.ReplicaMinutes), timesOracle(s.Oracle, s.NodeMinutes), vsStatic(s.Oracle, s.NodeMinutes),
			s.CostUSD, s.ScaleUps, s.ScaleDowns, s.EarlyDowns, s.ShortSeconds, s.PeakQueue)
	}
	o := sums[0].Oracle
	if o.ReplicaMinutes <= 0 {
		return
	}
	fmt.Fprintf(w, "| oracle (the need of each %s, ready when needed) | 100%% (lower bound) | | | %s | %s | %s | | | | | |\n",
		NeedWindow, timesOracle(o, o.ReplicaMinutes), timesOracle(o, o.ReplicaMinutes), vsStatic(o, o.ReplicaMinutes))
	fmt.Fprintf(w, "| static pool of %d (the peak need) | | | | %s | %s | %s | | | | | |\n",
		o.PeakNeed, timesOracle(o, o.StaticMinutes), timesOracle(o, o.StaticMinutes), vsStatic(o, o.StaticMinutes))
}

// timesOracle is minutes and their multiple of the oracle's, as a table cell.
func timesOracle(o Oracle, minutes float64) string {
	if o.ReplicaMinutes <= 0 {
		return fmt.Sprintf("%.1f", minutes)
	}
	return fmt.Sprintf("%.1f (%.2fx)", minutes, o.Times(minutes))
}

// vsStatic is the saving of minutes against the static pool, as a table cell.
func vsStatic(o Oracle, minutes float64) string {
	if o.StaticMinutes <= 0 {
		return "-"
	}
	sv := o.SavingVsStatic(minutes)
	if sv >= 0 {
		return fmt.Sprintf("%.0f%% less", 100*sv)
	}
	return fmt.Sprintf("%.0f%% more", -100*sv)
}
