package lab

import (
	"math"
	"time"
)

// NeedWindow is the one window the lab measures what the arriving load needs over, in
// world time: the live "needed by the load" line (the requests of the last NeedWindow) and
// the oracle (the requests of each NeedWindow from the scenario's start) both count a
// request's slot time in the window it arrives in. A minute is long enough that a request's
// slot time (seconds: 200 tokens decode in ~6 s at the default model) rarely straddles two
// windows, and short enough that a ramp is followed within a minute.
const NeedWindow = time.Minute

// replicasFor is the replicas that serve work slot-seconds arriving over span at a
// replica's maxNumSeqs slots: the definition of need, shared by the live line and the oracle.
func replicasFor(work float64, span time.Duration, maxNumSeqs int) int {
	if span <= 0 || maxNumSeqs < 1 {
		return 0
	}
	return int(math.Ceil(work/span.Seconds()/float64(maxNumSeqs) - 1e-9))
}

// Oracle is what a run's arrivals needed, and what two reference pools would have paid for
// them. The oracle has, in each NeedWindow from the scenario's start (the last one as long
// as what is left of the run), exactly the replicas the work arriving in that window needs
// (replicasFor), ready from the window's start: no cold start, no node provisioning, no
// floor, no ceiling. It is a lower bound on the replica-minutes of any policy at 100 % SLO
// attainment (up to requests straddling windows). A replica holds a whole TPU slice, one
// node, so its node-minutes equal its replica-minutes. The static pool holds the peak
// window's need for the whole run: what a user who does not autoscale would size.
type Oracle struct {
	Duration time.Duration
	// Needs are the replicas of each window, in order.
	Needs []int
	// ReplicaMinutes are the oracle's; PeakNeed the most any window needs; StaticMinutes a
	// static pool of PeakNeed replicas for Duration.
	ReplicaMinutes float64
	PeakNeed       int
	StaticMinutes  float64
}

// OracleFor computes the oracle of requests arriving over duration (arrivals from the
// scenario's start; later ones are not counted) on replicas of model m, with windows of
// window (NeedWindow in the lab).
func OracleFor(reqs []Request, m ServerModel, duration, window time.Duration) Oracle {
	o := Oracle{Duration: duration}
	if duration <= 0 || window <= 0 {
		return o
	}
	n := int((duration + window - 1) / window)
	work := make([]float64, n)
	for _, r := range reqs {
		if r.Arrival < 0 || r.Arrival >= duration {
			continue
		}
		work[r.Arrival/window] += m.SlotTime(float64(r.Input), float64(r.Output)).Seconds()
	}
	for i := range n {
		span := min(window, duration-time.Duration(i)*window)
		need := replicasFor(work[i], span, m.MaxNumSeqs)
		o.Needs = append(o.Needs, need)
		o.ReplicaMinutes += float64(need) * span.Minutes()
		o.PeakNeed = max(o.PeakNeed, need)
	}
	o.StaticMinutes = float64(o.PeakNeed) * duration.Minutes()
	return o
}

// Times is minutes as a multiple of the oracle's (0 without an oracle).
func (o Oracle) Times(minutes float64) float64 {
	if o.ReplicaMinutes <= 0 {
		return 0
	}
	return minutes / o.ReplicaMinutes
}

// SavingVsStatic is the share of the static pool's minutes that minutes save: 0.3 is 30 %
// less than the static pool, -0.45 is 45 % more.
func (o Oracle) SavingVsStatic(minutes float64) float64 {
	if o.StaticMinutes <= 0 {
		return 0
	}
	return 1 - minutes/o.StaticMinutes
}
