package lab

import (
	"time"
)

// needMeter estimates the replicas the arriving load needs, live: the replicas (replicasFor)
// that serve the slot-seconds of the requests that arrived in the last window (NeedWindow
// in the lab), the oracle's definition over a trailing window.
type needMeter struct {
	m      ServerModel
	window time.Duration
	reqs   []Request
}

func newNeedMeter(m ServerModel, window time.Duration) *needMeter {
	return &needMeter{m: m, window: window}
}

func (n *needMeter) add(rs []Request, now time.Duration) {
	n.reqs = append(n.reqs, rs...)
	i := 0
	for i < len(n.reqs) && n.reqs[i].Arrival < now-n.window {
		i++
	}
	n.reqs = n.reqs[i:]
}

func (n *needMeter) span(now time.Duration) float64 {
	return min(n.window, max(now, time.Second)).Seconds()
}

// rate is the requests per second that arrived over the window.
func (n *needMeter) rate(now time.Duration) float64 { return float64(len(n.reqs)) / n.span(now) }

// replicas is the replicas the window's work needs.
func (n *needMeter) replicas(now time.Duration) int {
	work := 0.0
	for _, r := range n.reqs {
		work += n.m.SlotTime(float64(r.Input), float64(r.Output)).Seconds()
	}
	return replicasFor(work, seconds(n.span(now)), n.m.MaxNumSeqs)
}
