package lab

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPlotsArePNGsOfTheirShape: the timeline stacks three plots (900 x 900 points), the
// comparison two (900 x 700), both decodable PNGs.
func TestPlotsArePNGsOfTheirShape(t *testing.T) {
	var rows []Row
	for i := range 60 {
		rows = append(rows, Row{T: time.Duration(i) * time.Second, Phase: "p", Rate: float64(i % 7), Need: 1 + i%3,
			Desired: 1 + i%4, Ready: 1 + i%2, Pods: 2, Waiting: float64(i), Target: 10, Metric: float64(i % 11)})
	}
	dir := t.TempDir()
	size := func(name string) (int, int) {
		t.Helper()
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cfg, err := png.DecodeConfig(f)
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", name, err)
		}
		return cfg.Width, cfg.Height
	}
	if err := WritePNG(filepath.Join(dir, "timeline.png"), "test", rows); err != nil {
		t.Fatal(err)
	}
	if err := WriteComparePNG(filepath.Join(dir, "compare.png"), "test", []Run{{"a", rows}, {"b", rows}}); err != nil {
		t.Fatal(err)
	}
	tw, th := size("timeline.png")
	cw, ch := size("compare.png")
	if tw != th {
		t.Errorf("timeline %dx%d: want square (900 x 900 points)", tw, th)
	}
	if d := ch*9 - cw*7; cw != tw || d < -9 || d > 9 { // within a pixel of 7/9
		t.Errorf("compare %dx%d: want 900 x 700 points, as wide as the timeline (%d)", cw, ch, tw)
	}
}
