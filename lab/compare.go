package lab

import (
	"fmt"
	"io"
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

// SeedVariants are llmserve's defaults and the seeds' HPAs on the same profile: seed 003
// scales on num_requests_waiting with target 10, no behavior block and a 15 s scrape; seed
// 001 on num_requests_running with target 4 and its behavior block (which llmserve's
// defaults took over).
var SeedVariants = []Variant{
	{Name: "llmserve"},
	{Name: "seed003", ScrapeInterval: "15s", Overrides: map[string]any{"autoscaling": map[string]any{
		"metrics":  []any{map[string]any{"metric": "vllm:num_requests_waiting", "target": 10}},
		"behavior": k8sDefaultBehavior}}},
	{Name: "seed001", Overrides: map[string]any{"autoscaling": map[string]any{
		"metrics": []any{map[string]any{"metric": "vllm:num_requests_running", "target": 4}}}}},
}

// Summary is one variant's result on a scenario, timed from the start of its "step" phase.
type Summary struct {
	Variant string
	// Raised is when the HPA first set more replicas, Ready when as many replicas as the
	// model predicts for the step were serving; -1 if never.
	Raised, Ready  time.Duration
	PeakQueue      float64
	ReplicaMinutes float64 // pods held (each holds a TPU slice), integrated over the run
}

// Summarize computes a variant's summary from its rows.
func Summarize(name string, rows []Row, sc Scenario, predicted int) Summary {
	s := Summary{Variant: name, Raised: -1, Ready: -1}
	step, _ := sc.Start("step")
	base := -1
	for i, r := range rows {
		if i > 0 {
			s.ReplicaMinutes += float64(r.Pods) * (r.T - rows[i-1].T).Minutes()
		}
		s.PeakQueue = max(s.PeakQueue, r.Waiting)
		if r.T < step {
			continue
		}
		if base < 0 {
			base = r.Spec
		}
		if s.Raised < 0 && r.Spec > base {
			s.Raised = r.T - step
		}
		if s.Ready < 0 && r.Ready >= predicted {
			s.Ready = r.T - step
		}
	}
	return s
}

// WriteTable writes the summaries as a Markdown table.
func WriteTable(w io.Writer, sums []Summary) {
	d := func(t time.Duration) string {
		if t < 0 {
			return "never"
		}
		return fmt.Sprintf("%.0f s", t.Seconds())
	}
	fmt.Fprintln(w, "| HPA | step → replicas raised | step → predicted replicas ready | peak queue | replica-minutes |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, s := range sums {
		fmt.Fprintf(w, "| %s | %s | %s | %.0f | %.1f |\n", s.Variant, d(s.Raised), d(s.Ready), s.PeakQueue, s.ReplicaMinutes)
	}
}
