package lab

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestScaleToKeepsPhaseShape: scaling a phase scenario to a peak multiplies every phase's
// load by the same factor, so its shape (each load over the peak) is unchanged.
func TestScaleToKeepsPhaseShape(t *testing.T) {
	sc, err := LookupScenario("diurnal")
	require.NoError(t, err)
	big, err := ScaleTo(sc, 12, ServerModel{}, 1)
	require.NoError(t, err)
	require.Equal(t, "diurnal-peak12", big.Name)
	require.InDelta(t, 12, big.Peak(ServerModel{}), 1e-9)
	require.Equal(t, sc.Duration(), big.Duration())
	for i := range sc.Phases {
		require.InDelta(t, sc.Phases[i].Load/sc.Peak(ServerModel{}), big.Phases[i].Load/12, 1e-9, sc.Phases[i].Name)
		require.InDelta(t, sc.Phases[i].LoadEnd/sc.Peak(ServerModel{}), big.Phases[i].LoadEnd/12, 1e-9, sc.Phases[i].Name)
	}
	// The original is untouched: the 4-slice scenarios stay as they are.
	require.InDelta(t, 3.5, Scenarios["diurnal"].Peak(ServerModel{}), 1e-9)
}

// TestScaleTraceKeepsShape: a recorded trace scaled by 3.7 has about 3.7 times the
// requests of every 5-minute stretch (its shape), the same duration, and a peak 3.7 times
// the original's.
func TestScaleTraceKeepsShape(t *testing.T) {
	m := ServerModel{MaxNumSeqs: 64, TokensPerSecond: 2000, PrefillTokensPerSecond: 5000, InputTokens: 512, OutputTokens: 200}
	sc := Scenarios["trace"]
	reqs := GenerateTrace(sc, m.Capacity(), DefaultLengths, 3)
	rec := Scenario{Name: "trace", Trace: reqs}
	const k = 3.7
	big, err := ScaleTo(rec, k*rec.Peak(m), m, 9)
	require.NoError(t, err)
	require.Equal(t, rec.Duration(), big.Duration())
	require.InDelta(t, k, float64(len(big.Trace))/float64(len(reqs)), 0.05*k)
	count := func(rs []Request) map[time.Duration]int {
		c := map[time.Duration]int{}
		for _, r := range rs {
			c[r.Arrival/(5*time.Minute)]++
		}
		return c
	}
	orig, scaled := count(reqs), count(big.Trace)
	for w, n := range orig {
		if n < 200 {
			continue // too few to compare a ratio
		}
		require.InDelta(t, k, float64(scaled[w])/float64(n), 0.1*k, "5-minute stretch %d", w)
	}
	require.InDelta(t, k*rec.Peak(m), big.Peak(m), 0.1*k*rec.Peak(m))
	for i := 1; i < len(big.Trace); i++ {
		require.LessOrEqual(t, big.Trace[i-1].Arrival, big.Trace[i].Arrival, "arrivals stay in order")
	}
	// Thinning: half the load, half the requests.
	half := ScaleTrace(reqs, 0.5, 1)
	require.InDelta(t, 0.5, float64(len(half))/float64(len(reqs)), 0.05)
}

// TestDayHasALongNight: the day scenario is sized for the scale runs (a peak of 12
// replicas' worth, maxReplicas 16) and spends hours of world time, most of it at night.
func TestDayHasALongNight(t *testing.T) {
	d := Scenarios["day"]
	require.InDelta(t, 12, d.Peak(ServerModel{}), 1e-9)
	require.GreaterOrEqual(t, d.Duration(), 4*time.Hour)
	night := time.Duration(0)
	for _, p := range d.Phases {
		if p.LoadEnd == 0 && p.Load <= 0.1*d.Peak(ServerModel{})+1e-9 {
			night += p.Duration
		}
	}
	require.GreaterOrEqual(t, night, 2*time.Hour)
}
