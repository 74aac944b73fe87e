package lab

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Peak is a scenario's highest load in replicas' worth: its phases' highest, or for a
// replayed trace its busiest NeedWindow's work over a replica's slots on model m (the
// oracle's need before rounding up).
func (s Scenario) Peak(m ServerModel) float64 {
	if len(s.Trace) == 0 {
		p := 0.0
		for _, ph := range s.Phases {
			p = max(p, ph.Load, ph.LoadEnd)
		}
		return p
	}
	if m.MaxNumSeqs < 1 {
		return 0
	}
	work := map[time.Duration]float64{}
	for _, r := range s.Trace {
		work[r.Arrival/NeedWindow] += m.SlotTime(float64(r.Input), float64(r.Output)).Seconds()
	}
	p := 0.0
	for _, w := range work {
		p = max(p, w/NeedWindow.Seconds()/float64(m.MaxNumSeqs))
	}
	return p
}

// ScaleTo returns the scenario with its load multiplied so that its peak (Peak) is peak
// replicas' worth, its shape kept: every phase's load times the factor, or a replayed trace
// resampled by ScaleTrace with seed. Its name says the peak ("trace-peak12"), so tables
// and plots of a scaled run are not taken for the original's.
func ScaleTo(sc Scenario, peak float64, m ServerModel, seed uint64) (Scenario, error) {
	cur := sc.Peak(m)
	if peak <= 0 || cur <= 0 {
		return Scenario{}, fmt.Errorf("lab scenario %s: cannot scale a peak of %.2f replicas' worth to %.2f", sc.Name, cur, peak)
	}
	k := peak / cur
	out := sc
	out.Name = fmt.Sprintf("%s-peak%g", sc.Name, peak)
	out.Phases = make([]Phase, len(sc.Phases))
	for i, p := range sc.Phases {
		p.Load *= k
		p.LoadEnd *= k
		out.Phases[i] = p
	}
	if len(sc.Trace) > 0 {
		out.Trace = ScaleTrace(sc.Trace, k, seed)
	}
	return out, nil
}

// ScaleTrace multiplies a trace's load by k and keeps its shape: each request is replayed
// floor(k) times, and once more with probability k - floor(k) (seeded, so runs repeat); the
// copies of a request are spread evenly over the gap to the next request. The arrival rate
// then follows the trace's at the resolution of its inter-arrival times (its bursts stay
// bursts), and the lengths keep their distribution. k < 1 thins the trace the same way.
// The trace's last arrival, and so its duration, stays where it was.
func ScaleTrace(reqs []Request, k float64, seed uint64) []Request {
	if k <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5ca1e))
	whole, frac := math.Floor(k), k-math.Floor(k)
	var out []Request
	for i, r := range reqs {
		n := int(whole)
		if rng.Float64() < frac {
			n++
		}
		gap := time.Duration(0)
		if i+1 < len(reqs) {
			gap = reqs[i+1].Arrival - r.Arrival
		}
		for j := range n {
			c := r
			c.Arrival += gap * time.Duration(j) / time.Duration(n)
			out = append(out, c)
		}
	}
	return out
}
