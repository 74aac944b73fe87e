package lab

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// View shows a run as it goes: on a terminal, a block redrawn every second with a bar per
// quantity; otherwise a plain line every PlainEvery rows and whenever the replica counts
// change, so logs stay short and greppable.
type View struct {
	w          io.Writer
	tty        bool
	drawn      int
	last       Row
	n          int
	PlainEvery int
	MaxReplica int
}

// NewView writes to w; it redraws in place only when w is a terminal.
func NewView(w io.Writer, maxReplicas int) *View {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &View{w: w, tty: tty, PlainEvery: 10, MaxReplica: maxReplicas}
}

// Show displays one row.
func (v *View) Show(r Row) {
	defer func() { v.last, v.n = r, v.n+1 }()
	if !v.tty {
		if v.n%v.PlainEvery == 0 || r.Desired != v.last.Desired || r.Spec != v.last.Spec || r.Ready != v.last.Ready || r.Unschedulable != v.last.Unschedulable || r.Nodes != v.last.Nodes ||
			r.Spare != v.last.Spare || r.SparePending != v.last.SparePending {
			fmt.Fprintln(v.w, PlainLine(r))
		}
		return
	}
	lines := []string{
		fmt.Sprintf("t=%4.0fs  phase %-5s  load %6.1f req/s", r.T.Seconds(), r.Phase, r.Rate),
		fmt.Sprintf("replicas  need %d  desired %d  set %d  ready %d  loading %d  pending %d   TPU nodes %d (%d ready)%s", r.Need, r.Desired, r.Spec, r.Ready, r.Loading, r.Unschedulable, r.Nodes, r.NodesReady, spareText(r, "  spare ")),
		"  desired " + bar(float64(r.Desired), float64(v.MaxReplica), 40),
		"  ready   " + bar(float64(r.Ready), float64(v.MaxReplica), 40),
		fmt.Sprintf("metric %.1f per pod (HPA saw %s) vs target %.0f", r.Metric, hpaSaw(r), r.Target),
		"  metric  " + bar(r.Metric, 3*r.Target, 40) + "  (full bar = 3x target)",
		fmt.Sprintf("queue %6.0f  running %6.0f  ScalingActive %s", r.Waiting, r.Running, r.ScalingActive),
	}
	if v.drawn > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA", v.drawn)
	}
	for _, l := range lines {
		fmt.Fprintf(v.w, "\x1b[2K%s\n", l)
	}
	v.drawn = len(lines)
}

// PlainLine is one row as one line of text.
func PlainLine(r Row) string {
	return fmt.Sprintf("t=%3.0fs %-5s load=%5.1f/s need=%d desired=%d replicas=%d ready=%d loading=%d pods=%d pending=%d nodes=%d/%d%s metric=%.1f hpa=%s target=%.0f queue=%.0f running=%.0f active=%s",
		r.T.Seconds(), r.Phase, r.Rate, r.Need, r.Desired, r.Spec, r.Ready, r.Loading, r.Pods, r.Unschedulable, r.NodesReady, r.Nodes, spareText(r, " spare="), r.Metric, hpaSaw(r), r.Target, r.Waiting, r.Running, r.ScalingActive)
}

// spareText is the buffer's placeholders holding a node out of those it asks (N/M), and
// those waiting for one, after prefix; "" for a stack without a buffer, whose lines stay as
// they were.
func spareText(r Row, prefix string) string {
	if r.SpareWant == 0 && r.Spare == 0 && r.SparePending == 0 {
		return ""
	}
	s := fmt.Sprintf("%s%d/%d", prefix, r.Spare, r.SpareWant)
	if r.SparePending > 0 {
		s += fmt.Sprintf(" (%d pending)", r.SparePending)
	}
	return s
}

func hpaSaw(r Row) string {
	if !r.HPAMetricSeen {
		return "-"
	}
	return fmt.Sprintf("%.1f", r.HPAMetric)
}

func bar(v, full float64, width int) string {
	n := 0
	if full > 0 {
		n = int(v / full * float64(width))
	}
	n = max(0, min(width, n))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}
