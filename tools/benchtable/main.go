// Command benchtable reads `go test -bench` output on stdin, echoes it, and prints a Markdown
// table of the llmserve benchmarks (ms/op), the engine/kubectl ratios of the side-by-side run
// and the cost of one model deployment under mocks. `make bench` pipes into it:
//
//	go test -tags integration -run '^$' -bench . -benchmem ./tests/... | go run ./tools/benchtable
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// result is one benchmark line: its iterations and every metric by unit ("ns/op", ...).
type result struct {
	name    string
	n       int
	metrics map[string]float64
}

// procSuffix is the GOMAXPROCS suffix go test appends to a benchmark's name ("-2").
var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads a benchmark result line: "BenchmarkX-2  3  123 ns/op  21.00 objects/op ...".
func parse(line string) (result, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return result{}, false
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return result{}, false
	}
	r := result{name: procSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), ""), n: n, metrics: map[string]float64{}}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return result{}, false
		}
		r.metrics[f[i+1]] = v
	}
	_, ok := r.metrics["ns/op"]
	return r, ok
}

func main() {
	results, err := echo(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	fmt.Print(table(results))
}

// echo copies in to out line by line (so progress shows as it comes) and collects the
// results in the order they came; a benchmark run twice keeps its last result.
func echo(in io.Reader, out io.Writer) ([]result, error) {
	var results []result
	seen := map[string]int{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(out, line)
		if r, ok := parse(line); ok {
			if i, dup := seen[r.name]; dup {
				results[i] = r
			} else {
				seen[r.name] = len(results)
				results = append(results, r)
			}
		}
	}
	return results, sc.Err()
}

func ms(ns float64) string { return strconv.FormatFloat(ns/1e6, 'f', 2, 64) }

// table renders the results, the ratios and the per-deployment cost as Markdown.
func table(list []result) string {
	if len(list) == 0 {
		return "\nbenchtable: no benchmark results\n"
	}
	var b strings.Builder
	results := map[string]result{}
	b.WriteString("\n| Benchmark | Runs | ms/op | Objects/op | B/op | allocs/op |\n|---|---:|---:|---:|---:|---:|\n")
	for _, r := range list {
		results[r.name] = r
		objects := "-"
		for _, unit := range []string{"objects/op", "resources/op"} {
			if v, ok := r.metrics[unit]; ok {
				objects = fmt.Sprintf("%.0f %s", v, strings.TrimSuffix(unit, "/op"))
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", r.name, r.n, ms(r.metrics["ns/op"]), objects,
			metric(r, "B/op"), metric(r, "allocs/op"))
	}

	b.WriteString("\n| Ratio | Value |\n|---|---:|\n")
	for _, q := range []struct{ label, num, den string }{
		{"engine up / kubectl apply --server-side (create)", "EngineUp", "KubectlApplyCreate"},
		{"engine preview (no-op) / kubectl apply --server-side (no-op)", "EnginePreviewNoop", "KubectlApplyNoop"},
	} {
		num, okN := results[q.num]
		den, okD := results[q.den]
		value := "n/a"
		if okN && okD && den.metrics["ns/op"] > 0 {
			value = fmt.Sprintf("%.1fx", num.metrics["ns/op"]/den.metrics["ns/op"])
		}
		fmt.Fprintf(&b, "| %s | %s |\n", q.label, value)
	}

	// The many-models sub-benchmarks: the reported average per deployment (infra included)
	// and the marginal cost, the slope between the smallest and the largest N.
	type point struct {
		n  int
		ns float64
	}
	var pts []point
	for _, r := range list {
		v, ok := strings.CutPrefix(r.name, "MockManyModels/N=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			continue
		}
		pts = append(pts, point{n, r.metrics["ns/op"]})
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].n < pts[j].n })
	if len(pts) > 0 {
		b.WriteString("\n| Mock deployments in one stack | ms/op | ms/deployment (average) |\n|---:|---:|---:|\n")
		for _, p := range pts {
			fmt.Fprintf(&b, "| %d | %s | %s |\n", p.n, ms(p.ns), ms(p.ns/float64(p.n)))
		}
		if first, last := pts[0], pts[len(pts)-1]; last.n > first.n {
			fmt.Fprintf(&b, "\nCost of one more deployment (mocks, N=%d to N=%d): %s ms\n",
				first.n, last.n, ms((last.ns-first.ns)/float64(last.n-first.n)))
		}
	}
	return b.String()
}

func metric(r result, unit string) string {
	v, ok := r.metrics[unit]
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
