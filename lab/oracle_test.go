package lab

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestOracleHandChecked: a model whose slot time is the output tokens in seconds (2 slots
// decoding 2 tokens/s in all: 1 token/s a slot, no prefill), 1-minute windows, a run of
// 2.5 minutes:
//   - window 0 (0-60 s): three requests of 60 s = 180 slot-s over 60 s = 3 slots busy =
//     1.5 replicas of 2 slots: 2 replicas;
//   - window 1 (60-120 s): nothing: 0 replicas;
//   - window 2 (120-150 s, 30 s long): one request of 30 s = 30 slot-s / 30 s = 1 slot:
//     1 replica for half a minute;
//   - a request at 150 s (the run's end) is not counted.
//
// Oracle: 2 x 1 + 0 x 1 + 1 x 0.5 = 2.5 replica-minutes; peak 2; static 2 x 2.5 = 5.
func TestOracleHandChecked(t *testing.T) {
	m := ServerModel{MaxNumSeqs: 2, TokensPerSecond: 2}
	require.Equal(t, 60*time.Second, m.SlotTime(0, 60))
	s := func(x float64) time.Duration { return seconds(x) }
	reqs := []Request{
		{Arrival: s(0), Output: 60}, {Arrival: s(10), Output: 60}, {Arrival: s(59.9), Output: 60},
		{Arrival: s(125), Output: 30},
		{Arrival: s(150), Output: 600},
	}
	o := OracleFor(reqs, m, s(150), time.Minute)
	require.Equal(t, []int{2, 0, 1}, o.Needs)
	require.InDelta(t, 2.5, o.ReplicaMinutes, 1e-9)
	require.Equal(t, 2, o.PeakNeed)
	require.InDelta(t, 5.0, o.StaticMinutes, 1e-9)
	// A policy paying 5 replica-minutes pays twice the oracle and saves nothing on static;
	// one paying 3.5 saves 30 %.
	require.InDelta(t, 2.0, o.Times(5), 1e-9)
	require.InDelta(t, 0.0, o.SavingVsStatic(5), 1e-9)
	require.InDelta(t, 0.3, o.SavingVsStatic(3.5), 1e-9)
	require.InDelta(t, -0.45, o.SavingVsStatic(7.25), 1e-9)
}

// TestNeedIsExactAtWholeReplicas: work that fills exactly n replicas' slots needs n, not
// n+1 (floating point), and a slot-second more needs n+1.
func TestNeedIsExactAtWholeReplicas(t *testing.T) {
	require.Equal(t, 3, replicasFor(3*64*60, time.Minute, 64))
	require.Equal(t, 4, replicasFor(3*64*60+1, time.Minute, 64))
	require.Equal(t, 0, replicasFor(0, time.Minute, 64))
}

// TestLiveNeedMatchesOracle: the live need line (the last window's arrivals) at each
// window's end equals the oracle's need of that window: one definition of need.
func TestLiveNeedMatchesOracle(t *testing.T) {
	m := ServerModel{MaxNumSeqs: 64, TokensPerSecond: 2000, PrefillTokensPerSecond: 5000, InputTokens: 512, OutputTokens: 200}
	sc := Scenario{Name: "ramp", Phases: []Phase{{Name: "ramp", Duration: 10 * time.Minute, Load: 0.5, LoadEnd: 6}}}
	reqs := GenerateTrace(sc, m.Capacity(), DefaultLengths, 7)
	o := OracleFor(reqs, m, sc.Duration(), NeedWindow)
	require.Len(t, o.Needs, 10)
	meter := newNeedMeter(m, NeedWindow)
	i := 0
	for w := range o.Needs {
		end := time.Duration(w+1) * NeedWindow
		var batch []Request
		for i < len(reqs) && reqs[i].Arrival < end {
			batch = append(batch, reqs[i])
			i++
		}
		// The meter keeps arrivals at or after end-window: the window [end-window, end).
		meter.add(batch, end)
		require.Equal(t, o.Needs[w], meter.replicas(end), "window %d", w)
	}
	// The ramp ends near 6 replicas' worth; the oracle's peak is about there.
	require.InDelta(t, 6, o.PeakNeed, 1.5)
}

// TestTableGivesOracleMultiplesAndStaticSaving: a policy that held 7.5 replica-minutes and
// paid 10 node-minutes against an oracle of 5 and a static pool of 12.5 reads 1.50x and
// 2.00x the oracle and 20% less than static; one paying 15 node-minutes, 20% more; the
// oracle and static rows close the table.
func TestTableGivesOracleMultiplesAndStaticSaving(t *testing.T) {
	o := Oracle{Duration: 5 * time.Minute, ReplicaMinutes: 5, PeakNeed: 2, StaticMinutes: 12.5}
	sums := []Summary{
		{Variant: "thrifty", SLO: 2 * time.Second, ReplicaMinutes: 7.5, NodeMinutes: 10, Oracle: o},
		{Variant: "pinned", SLO: 2 * time.Second, ReplicaMinutes: 15, NodeMinutes: 15, Oracle: o},
	}
	var b strings.Builder
	WriteTable(&b, sums)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 6, b.String())
	require.Contains(t, lines[2], "| 7.5 (1.50x) | 10.0 (2.00x) | 20% less |")
	require.Contains(t, lines[3], "| 15.0 (3.00x) | 15.0 (3.00x) | 20% more |")
	require.True(t, strings.HasPrefix(lines[4], "| oracle"), lines[4])
	require.Contains(t, lines[4], "| 5.0 (1.00x) | 5.0 (1.00x) | 60% less |")
	require.True(t, strings.HasPrefix(lines[5], "| static pool of 2 "), lines[5])
	require.Contains(t, lines[5], "| 12.5 (2.50x) | 12.5 (2.50x) | 0% less |")
}
