package lab

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStartingLoad(t *testing.T) {
	require.InDelta(t, 0.3, Scenarios["diurnal"].StartingLoad(10), 1e-9, "the first phase's load")
	ramp := Scenario{Phases: []Phase{{Duration: time.Minute, Load: 0.4, LoadEnd: 2}}}
	require.InDelta(t, 0.4, ramp.StartingLoad(10), 1e-9, "a ramp starts at its Load")
	// A replayed trace: 120 requests in its first minute at 2 requests/s a replica is one
	// replica's worth; the requests after the first minute do not count.
	var reqs []Request
	for i := range 150 {
		reqs = append(reqs, Request{Arrival: time.Duration(i) * 500 * time.Millisecond, Input: 1, Output: 1})
	}
	require.InDelta(t, 1.0, Scenario{Trace: reqs}.StartingLoad(2), 1e-9)
	require.Zero(t, Scenario{}.StartingLoad(2), "no load: nothing to settle on")
}

func TestSettledRow(t *testing.T) {
	rest := Row{HPAMetricSeen: true, Desired: 3, Spec: 3, Ready: 3, Pods: 3}
	require.True(t, settledRow(rest))
	require.True(t, settledRow(Row{HPAMetricSeen: true, Desired: 3, Spec: 3, Ready: 3, Pods: 3, SpareWant: 1, Spare: 1}), "the buffer holds its node")
	for name, r := range map[string]Row{
		"no metric yet":       {Desired: 3, Spec: 3, Ready: 3, Pods: 3},
		"HPA wants more":      {HPAMetricSeen: true, Desired: 4, Spec: 3, Ready: 3, Pods: 3},
		"replica pending":     {HPAMetricSeen: true, Desired: 4, Spec: 4, Ready: 3, Pods: 4, Unschedulable: 1},
		"replica loading":     {HPAMetricSeen: true, Desired: 4, Spec: 4, Ready: 3, Pods: 4, Loading: 1},
		"replica terminating": {HPAMetricSeen: true, Desired: 3, Spec: 3, Ready: 3, Pods: 4},
		"backlog not drained": {HPAMetricSeen: true, Desired: 3, Spec: 3, Ready: 3, Pods: 3, Waiting: 40},
		"placeholder pending": {HPAMetricSeen: true, Desired: 3, Spec: 3, Ready: 3, Pods: 3, SpareWant: 1, SparePending: 1},
		"spare node missing":  {HPAMetricSeen: true, Desired: 3, Spec: 3, Ready: 3, Pods: 3, SpareWant: 2, Spare: 1},
	} {
		require.False(t, settledRow(r), name)
	}
}

// TestArrivalsMeasureTheWindow: the need meter sees a constant load at its rate however late
// in the lab's world the scenario starts. It counted shifted arrival times against scenario
// time, so a scenario starting 10 minutes in (after Settle) read 11 minutes of requests as
// one: 11x the rate, and a need pinned at maxReplicas.
func TestArrivalsMeasureTheWindow(t *testing.T) {
	m := ServerModel{MaxNumSeqs: 64, TokensPerSecond: 2000, InputTokens: 512, OutputTokens: 200}
	sc := Scenario{Phases: []Phase{{Duration: time.Hour, Load: 1}}}
	src := NewSource(sc, m.Capacity(), Lengths{InputMean: 512, OutputMean: 200}, 1)
	need := newNeedMeter(m, time.Minute)
	origin := 10 * time.Minute
	var last []Request
	for s := 1; s <= 300; s++ {
		at := time.Duration(s) * time.Second
		last = arrivals(src, need, at, origin)
		for _, r := range last {
			require.GreaterOrEqual(t, r.Arrival, origin+at-time.Second, "the sim gets world times")
		}
	}
	require.InDelta(t, m.Capacity(), need.rate(300*time.Second), 0.15*m.Capacity())
	require.Equal(t, 1, need.replicas(300*time.Second))
}

// TestStartReplicas: a lab starts with the replicas that serve the starting load at 90 % of
// their slots, never fewer than minReplicas nor more than maxReplicas.
func TestStartReplicas(t *testing.T) {
	for _, c := range []struct {
		load     float64
		min, max int
		want     int
	}{
		{0, 3, 16, 3},   // no load: the floor
		{0.5, 1, 4, 1},  // half a replica's worth fits in one at 50 %
		{0.9, 1, 4, 1},  // exactly 90 %
		{1.2, 1, 16, 2}, // the day's night for the seeds (was 1, a queue, then 16)
		{1.2, 3, 16, 3}, // the floor is above the need
		{2.0, 3, 16, 3}, // trace -peak 12's base: 2.22 -> 3
		{4.1, 3, 16, 5}, // bursts -peak 12's base: 4.56 -> 5 (was 3, a queue, then 16)
		{20, 3, 16, 16}, // above the pool: maxReplicas
		{4.1, 6, 16, 6}, // minReplicas wins
	} {
		require.Equal(t, c.want, StartReplicas(c.load, c.min, c.max), "%+v", c)
	}
}
