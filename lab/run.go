package lab

import (
	"context"
	"time"
)

// Now is the world time since the stack was deployed.
func (l *Lab) Now() time.Duration {
	return time.Duration(float64(time.Since(l.wallStart)) * l.Speed)
}

// tick is the wall time between two observations: a world second, at most 10 a second.
func (l *Lab) tick() time.Duration { return max(100*time.Millisecond, wall(time.Second, l.Speed)) }

// Outcomes returns the requests of the last Run, arrival times from its start, and how
// many were still queued.
func (l *Lab) Outcomes() ([]Outcome, int) {
	done, queued := l.Sim.Outcomes()
	var out []Outcome
	for _, o := range done {
		if o.Arrival >= l.origin {
			o.Arrival -= l.origin
			out = append(out, o)
		}
	}
	return out, queued
}

// Arrivals returns the requests of the last Run, arrival times from its start: what the
// oracle of the run is computed from (OracleFor).
func (l *Lab) Arrivals() []Request { return append([]Request(nil), l.arrived...) }

// Oracle is the oracle of the last Run of sc: the need of its arrivals, window by window.
func (l *Lab) Oracle(sc Scenario) Oracle {
	return OracleFor(l.arrived, l.Model, sc.Duration(), NeedWindow)
}

// Pods returns what the lab saw of every replica so far.
func (l *Lab) Pods() map[string]PodLife {
	out := map[string]PodLife{}
	for k, v := range l.pods {
		out[k] = *v
	}
	return out
}

// Run drives the scenario for its whole length, one observation a world second: the
// scenario's requests reach the sim, the lab completes cold starts, and a row is recorded
// per observation; tick (may be nil) sees every row. T in rows counts from the scenario's
// start.
func (l *Lab) Run(ctx context.Context, sc Scenario, tick func(Row)) ([]Row, error) {
	if err := l.releaseStartFloor(ctx); err != nil {
		return nil, err
	}
	var rows []Row
	err := l.drive(ctx, sc, l.Seed, func(r Row) bool {
		rows = append(rows, r)
		if tick != nil {
			tick(r)
		}
		return false
	})
	return rows, err
}

// drive steps the lab through a scenario's load, one observation a world second, from now:
// the requests its source (seeded with seed) generates reach the sim, cold starts complete,
// and each row goes to each, which ends the drive by returning true. It also ends with the
// scenario or ctx. Outcomes count from the last drive's start.
func (l *Lab) drive(ctx context.Context, sc Scenario, seed uint64, each func(Row) bool) error {
	src := NewSource(sc, l.Model.Capacity(), l.Lengths, seed)
	origin := l.Now()
	l.origin, l.arrived = origin, nil
	step := time.NewTicker(l.tick())
	defer step.Stop()
	need := newNeedMeter(l.Model, NeedWindow)
	as := l.Stack.Profile.Autoscaling
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-step.C:
		}
		t := l.Now() - origin
		if t > sc.Duration() {
			return nil
		}
		arr := arrivals(src, need, t, origin)
		for _, r := range arr {
			r.Arrival -= origin
			l.arrived = append(l.arrived, r)
		}
		row, err := l.observe(ctx, arr, sc.At(t), origin, false)
		if err != nil {
			return err
		}
		row.T = t
		row.Load = sc.Load(t)
		row.Rate = need.rate(t)
		row.Need = max(as.MinReplicas, min(as.MaxReplicas, need.replicas(t)))
		if each(row) {
			return nil
		}
	}
}

// simNow is the sim's clock.
func (l *Lab) simNow() time.Duration {
	l.Sim.mu.Lock()
	defer l.Sim.mu.Unlock()
	return l.Sim.now
}

// arrivals takes the requests the source has until t (scenario time) into the need meter,
// which counts in scenario time, and returns them for the sim, which counts in the lab's
// world time: shifted by origin, the scenario's start in it.
func arrivals(src *Source, need *needMeter, t, origin time.Duration) []Request {
	arr := src.Until(t)
	need.add(arr, t)
	for i := range arr {
		arr[i].Arrival += origin
	}
	return arr
}
