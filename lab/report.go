package lab

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"os"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Row is the lab's state at one instant of a run.
type Row struct {
	T     time.Duration // since the scenario started
	Phase string
	Load  float64 // the scenario's load, in replicas' worth (0 for a replayed trace)
	// Rate is the requests per second that arrived over the last minute, and Need the
	// replicas their work needs (within minReplicas..maxReplicas).
	Rate    float64
	Need    int
	Waiting float64 // queued requests, all replicas
	Running float64 // requests in batches, all replicas
	// Metric is the mean ingested value of the HPA's first metric over the pods that have
	// one (what the adapter serves); HPAMetric is the value the HPA last used, from its status.
	Metric, HPAMetric float64
	HPAMetricSeen     bool
	Target            float64
	Desired           int // HPA status.desiredReplicas
	Spec              int // Deployment spec.replicas: what the HPA has set
	Ready             int // replicas serving
	Pods              int // pods of the Deployment
	Unschedulable     int // pods not yet on a Ready node: unschedulable, or bound to one still provisioning
	Loading           int // pods on a node, in their cold start
	Nodes, NodesReady int // TPU nodes, and those Ready
	ScalingActive     string
	// Spare is the capacity buffer's placeholders holding a node (Running on a Ready node),
	// SparePending those waiting for one (preempted by a replica and re-created, until the
	// cluster-autoscaler's node is Ready), SpareWant the spare nodes autoscaling.buffer asks.
	Spare, SparePending, SpareWant int
}

var csvHeader = []string{"t_seconds", "phase", "load", "rate_rps", "need", "waiting", "running", "metric", "hpa_metric", "target",
	"desired", "spec_replicas", "ready", "pods", "unschedulable", "loading", "nodes", "nodes_ready", "scaling_active",
	"spare", "spare_pending"}

// WriteCSV writes the timeline, one row per second.
func WriteCSV(path string, rows []Row) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("lab report: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(csvHeader)
	ff := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	for _, r := range rows {
		hm := ""
		if r.HPAMetricSeen {
			hm = ff(r.HPAMetric)
		}
		_ = w.Write([]string{ff(r.T.Seconds()), r.Phase, ff(r.Load), ff(r.Rate), strconv.Itoa(r.Need), ff(r.Waiting), ff(r.Running), ff(r.Metric), hm,
			ff(r.Target), strconv.Itoa(r.Desired), strconv.Itoa(r.Spec), strconv.Itoa(r.Ready), strconv.Itoa(r.Pods), strconv.Itoa(r.Unschedulable),
			strconv.Itoa(r.Loading), strconv.Itoa(r.Nodes), strconv.Itoa(r.NodesReady), r.ScalingActive,
			strconv.Itoa(r.Spare), strconv.Itoa(r.SparePending)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		_ = f.Close()
		return fmt.Errorf("lab report: %w", err)
	}
	return f.Close()
}

// WritePNG plots the timeline in three panels sharing the time axis: arriving load, the
// HPA's metric per pod against its target (and the queue), and desired, ready and
// unschedulable replicas.
func WritePNG(path, title string, rows []Row) error {
	series := func(f func(Row) float64) plotter.XYs {
		xy := make(plotter.XYs, len(rows))
		for i, r := range rows {
			xy[i].X, xy[i].Y = r.T.Seconds(), f(r)
		}
		return xy
	}
	blue, orange, green, gray, red := color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255},
		color.RGBA{44, 160, 44, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{214, 39, 40, 255}
	panel := func(title, ylabel string, lines ...any) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, "seconds", ylabel
		p.Legend.Top, p.Legend.Left = true, true
		p.Add(plotter.NewGrid())
		for i := 0; i < len(lines); i += 3 {
			l, err := plotter.NewLine(lines[i+1].(plotter.XYs))
			if err != nil {
				return nil, err
			}
			l.Color, l.Width = lines[i+2].(color.Color), vg.Points(1.5)
			if l.Color == gray {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(l)
			p.Legend.Add(lines[i].(string), l)
		}
		p.Y.Min = 0
		return p, nil
	}
	target := 0.0
	if len(rows) > 0 {
		target = rows[0].Target
	}
	load, err := panel(title+": load", "requests/s", "arrival rate (1 min)", series(func(r Row) float64 { return r.Rate }), blue)
	if err != nil {
		return err
	}
	metric, err := panel("metric per pod (as ingested) vs target", "value",
		"metric", series(func(r Row) float64 { return r.Metric }), orange,
		"target", series(func(Row) float64 { return target }), gray,
		"queue / 10", series(func(r Row) float64 { return r.Waiting / 10 }), red)
	if err != nil {
		return err
	}
	replicas, err := panel("replicas and nodes", "count",
		"needed by the load", series(func(r Row) float64 { return float64(r.Need) }), gray,
		"desired (HPA)", series(func(r Row) float64 { return float64(r.Desired) }), blue,
		"ready", series(func(r Row) float64 { return float64(r.Ready) }), green,
		"pending", series(func(r Row) float64 { return float64(r.Unschedulable) }), red,
		"TPU nodes", series(func(r Row) float64 { return float64(r.Nodes) }), orange)
	if err != nil {
		return err
	}
	return writeStacked(path, vg.Points(900), load, metric, replicas)
}

// Run is one policy's rows, for the combined plot.
type Run struct {
	Name string
	Rows []Row
}

// WriteComparePNG plots every policy of a comparison on one time axis: the replicas the
// load needed and each policy's ready replicas, then each policy's queue.
func WriteComparePNG(path, title string, runs []Run) error {
	palette := []color.Color{color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
		color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255}}
	gray := color.RGBA{127, 127, 127, 255}
	xy := func(rows []Row, f func(Row) float64) plotter.XYs {
		out := make(plotter.XYs, len(rows))
		for i, r := range rows {
			out[i].X, out[i].Y = r.T.Seconds(), f(r)
		}
		return out
	}
	newPlot := func(t, y string) *plot.Plot {
		p := plot.New()
		p.Title.Text, p.X.Label.Text, p.Y.Label.Text = t, "seconds", y
		p.Legend.Top, p.Legend.Left = true, true
		p.Add(plotter.NewGrid())
		p.Y.Min = 0
		return p
	}
	add := func(p *plot.Plot, name string, pts plotter.XYs, c color.Color, dashed bool) error {
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color, l.Width = c, vg.Points(1.5)
		if dashed {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(name, l)
		return nil
	}
	replicas, queue := newPlot(title+": ready replicas", "replicas"), newPlot("queue", "requests waiting")
	if len(runs) > 0 {
		if err := add(replicas, "needed by the load", xy(runs[0].Rows, func(r Row) float64 { return float64(r.Need) }), gray, true); err != nil {
			return err
		}
	}
	for i, r := range runs {
		c := palette[i%len(palette)]
		if err := add(replicas, r.Name, xy(r.Rows, func(r Row) float64 { return float64(r.Ready) }), c, false); err != nil {
			return err
		}
		if err := add(queue, r.Name, xy(r.Rows, func(r Row) float64 { return r.Waiting }), c, false); err != nil {
			return err
		}
	}
	return writeStacked(path, vg.Points(700), replicas, queue)
}

// writeStacked writes plots one above the other, 900 points wide and height tall, as a PNG.
func writeStacked(path string, height vg.Length, plots ...*plot.Plot) error {
	rows := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		rows[i] = []*plot.Plot{p}
	}
	img := vgimg.New(vg.Points(900), height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(rows, tiles, dc)
	for i := range rows {
		rows[i][0].Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("lab report: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("lab report: %w", err)
	}
	return f.Close()
}
