package lab

import (
	"context"
	"errors"
	"math"
	"time"
)

// SettleHold is how long the HPA's and the pool's state must hold still at a scenario's
// starting load before Settle calls it settled: two minutes of world time, eight HPA syncs.
const SettleHold = 2 * time.Minute

// settleSeed keeps the requests Settle generates apart from the scenario's own, which stay
// the same with or without it.
const settleSeed = 0x5e771e

// Settled says how Settle ended: the starting load it served (in replicas' worth), the
// world time it took, the replicas ready at the end, and whether the state held still for
// SettleHold before its budget ran out.
type Settled struct {
	Load     float64
	After    time.Duration
	Replicas int
	OK       bool
}

// StartingLoad is the load a scenario begins with, in replicas' worth: its first instant's,
// or for a replayed trace its first minute's requests over a replica's capacity (requests
// per second at the mean lengths).
func (s Scenario) StartingLoad(capacity float64) float64 {
	if len(s.Phases) > 0 || capacity <= 0 {
		return s.Load(0)
	}
	n := 0
	for _, r := range s.Trace {
		if r.Arrival >= time.Minute {
			break
		}
		n++
	}
	return float64(n) / 60 / capacity
}

// StartOccupancy is the share of their slots the replicas a lab starts with
// (StartReplicas) fill at the scenario's starting load: 90 %, where a replica's 64 slots
// still absorb Poisson arrivals without a standing queue. An assumption; what matters is that
// the start is not below the need.
const StartOccupancy = 0.9

// StartReplicas is how many replicas a stack that has been serving load (in replicas'
// worth) runs when a lab starts: those that serve it at StartOccupancy, at least minReplicas,
// at most maxReplicas. Settling from minReplicas instead, a floor below the starting load
// built a queue for the ~10 minutes a new replica takes, the queue drove every policy to
// maxReplicas, and each then started the scenario there whatever its steady state (issue
// 19: every policy paid 16 nodes from the first minute of bursts at -peak 12).
func StartReplicas(load float64, minReplicas, maxReplicas int) int {
	return max(minReplicas, min(int(math.Ceil(load/StartOccupancy-1e-9)), maxReplicas))
}

// StartFloorHold is how long Settle keeps the HPA's floor at StartReplicas once the load
// arrives: two minutes of world time, long enough for the loaded replicas' metrics to be
// scraped (15-30 s), ingested (3-7 s) and read by two HPA syncs (15 s each). The HPA keeps
// the raw recommendations of its scale-down window, and those made while the lab waited
// with no load are 0: released at once, its first sync still reads the idle metric and
// scales straight to minReplicas (seen at -peak 12: 5 replicas at 4.1 replicas' worth cut
// to 3 at t = 7 s, then a queue drove the policy to maxReplicas).
const StartFloorHold = 2 * time.Minute

// Settle serves the scenario's starting load, before the scenario, until the HPA and the
// pool have settled on it: every replica the HPA wants is ready, none is pending or
// loading, the queue has drained, and that has held for SettleHold. A scenario's first
// phase is the traffic the service has been serving for a while, so each policy starts it
// where that traffic put it, not at minReplicas with the load arriving from nothing (which charged a policy that holds
// more at the starting load for a scale-up no real service goes through). Its requests are
// not counted in the scenario's outcomes, and Run's rows begin after it. A policy that does
// not settle within twice a node's provisioning and a warm start, plus SettleHold and two
// minutes, starts the scenario as it is (OK false). A lab started with StartScenario began
// with StartReplicas ready, the HPA's floor raised to them; Settle gives the HPA its own
// minReplicas back StartFloorHold into the load, so each policy moves from there to its own
// state, and is not settled before that.
func (l *Lab) Settle(ctx context.Context, sc Scenario, tick func(Row)) (Settled, error) {
	res := Settled{Load: sc.StartingLoad(l.Model.Capacity())}
	if res.Load <= 0 {
		return Settled{OK: true}, l.releaseStartFloor(ctx)
	}
	budget := 2*(l.NodeProvisioning+l.ColdStart.Duration(true)) + SettleHold + 2*time.Minute
	warmup := Scenario{Name: "settle", Arrivals: sc.Arrivals, Phases: []Phase{{Name: "settle", Duration: budget, Load: res.Load}}}
	still := time.Duration(-1)
	var releaseErr error
	err := l.drive(ctx, warmup, l.Seed^settleSeed, func(r Row) bool {
		if tick != nil {
			tick(r)
		}
		if l.floorRaised && r.T >= StartFloorHold {
			if releaseErr = l.releaseStartFloor(ctx); releaseErr != nil {
				return true
			}
		}
		res.After, res.Replicas = r.T, r.Ready
		if !settledRow(r) {
			still = -1
			return false
		}
		if still < 0 {
			still = r.T
		}
		res.OK = !l.floorRaised && r.T-still >= SettleHold
		return res.OK
	})
	if err == nil {
		err = releaseErr
	}
	return res, errors.Join(err, l.releaseStartFloor(ctx))
}

// settledRow says whether a row shows the HPA and the pool at rest: the HPA has seen its
// metric, the Deployment has what the HPA wants, every replica of it is ready, the backlog
// of the scale-up has drained (less than a request a replica waits), so none of it spills
// into the scenario, and the capacity buffer holds its spare nodes again: a replica that
// preempted a placeholder leaves it Pending until the cluster-autoscaler's node is Ready,
// and a scenario started before then would find no spare node for its first scale-up (a
// fixed pool too small for them never settles: Settle starts the scenario as it is).
func settledRow(r Row) bool {
	return r.HPAMetricSeen && r.Desired == r.Spec && r.Ready == r.Spec && r.Pods == r.Spec &&
		r.Unschedulable == 0 && r.Loading == 0 && r.Waiting < float64(max(1, r.Ready)) &&
		r.SparePending == 0 && r.Spare >= r.SpareWant
}
