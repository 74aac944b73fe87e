package lab

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Phase holds the arrival rate for a while. Load is the rate in units of one replica's
// capacity (ServerModel.Capacity), so a scenario means the same for every profile: 2.5 is
// two and a half replicas' worth of requests. With LoadEnd set the rate ramps linearly from
// Load to LoadEnd over the phase.
type Phase struct {
	Name     string
	Duration time.Duration
	Load     float64
	LoadEnd  float64
}

// Scenario is a bounded load: a sequence of phases whose requests are generated with the
// scenario's arrival process, or a recorded trace replayed as it is. Durations are the
// simulated world's (see Config.Speed).
type Scenario struct {
	Name   string
	Phases []Phase
	// Trace, when set, is replayed instead of generating requests; Phases then only name
	// the parts of the run.
	Trace []Request
	// Arrivals is the arrival process of generated requests: "poisson" (default) or "bursty".
	Arrivals string
}

const minute = time.Minute

// Scenarios are the named scenarios of the lab command (-scenario). Every one but short
// lasts long enough for a replica added by the autoscalers to matter: with the default cold
// start a new TPU node and replica take 8-11 minutes (node provisioning, image pull, weights,
// XLA compilation).
var Scenarios = map[string]Scenario{
	// short: the issue-8 demo scenario, about 4 minutes: a step to 2.5 replicas' worth for
	// 90 s. With real cold starts no replica added for it is ready before the step ends:
	// it shows what a short burst costs, not the autoscaler catching it.
	"short": {Name: "short", Phases: []Phase{
		{Name: "base", Duration: 30 * time.Second, Load: 0.5}, {Name: "step", Duration: 90 * time.Second, Load: 2.5},
		{Name: "drop", Duration: 120 * time.Second, Load: 0.2},
	}},
	// long: the issue-8 scenario: a slow ramp through 1.5 and 3.5 replicas' worth.
	"long": {Name: "long", Phases: []Phase{
		{Name: "base", Duration: minute, Load: 0.5}, {Name: "ramp", Duration: 2 * minute, Load: 1.5},
		{Name: "peak", Duration: 3 * minute, Load: 3.5}, {Name: "drop", Duration: 3 * minute, Load: 0.2},
	}},
	// plateau: a sustained 2.7 replicas' worth for 25 minutes (the autoscalers need about
	// 10 of them to bring the 3rd replica), then a trickle long enough for the HPA's and the
	// cluster-autoscaler's scale-down delays (10 min unneeded time) to pass.
	"plateau": {Name: "plateau", Phases: []Phase{
		{Name: "base", Duration: 2 * minute, Load: 0.5}, {Name: "plateau", Duration: 25 * minute, Load: 2.7},
		{Name: "drop", Duration: 16 * minute, Load: 0.2},
	}},
	// diurnal: a compressed day: night, a morning ramp to 3.5 replicas' worth, a midday
	// peak, an evening ramp down and night again.
	"diurnal": {Name: "diurnal", Phases: []Phase{
		{Name: "night", Duration: 5 * minute, Load: 0.3}, {Name: "morning", Duration: 15 * minute, Load: 0.3, LoadEnd: 3.5},
		{Name: "peak", Duration: 10 * minute, Load: 3.5}, {Name: "evening", Duration: 15 * minute, Load: 3.5, LoadEnd: 0.3},
		{Name: "night2", Duration: 10 * minute, Load: 0.3},
	}},
	// bursts: a steady 1.2 replicas' worth with three 3-minute bursts to 3.5, 12 minutes
	// apart: shorter than a cold start, so they test what a policy keeps, not what it adds.
	"bursts": {Name: "bursts", Phases: []Phase{
		{Name: "base", Duration: 5 * minute, Load: 1.2}, {Name: "burst1", Duration: 3 * minute, Load: 3.5},
		{Name: "gap1", Duration: 9 * minute, Load: 1.2}, {Name: "burst2", Duration: 3 * minute, Load: 3.5},
		{Name: "gap2", Duration: 9 * minute, Load: 1.2}, {Name: "burst3", Duration: 3 * minute, Load: 3.5},
		{Name: "tail", Duration: 12 * minute, Load: 0.3},
	}},
	// day: a day at the scale users run, sized for maxReplicas 16 (run it with
	// -max-replicas 16): a night of 90 minutes at 1.2 replicas' worth, a 45-minute morning
	// ramp to a peak of 12, half an hour at the peak, a 45-minute evening ramp down and 45
	// minutes of night again: 4 h 15 min of world time, 25.5 min of wall time at speed 10.
	// The night's level, a tenth of the peak, is an assumption (no public trough-to-peak
	// ratio of LLM serving traffic was found); its length is what a policy that follows
	// load can save on, and what a static pool pays for. -peak rescales it.
	"day": {Name: "day", Phases: []Phase{
		{Name: "night", Duration: 90 * minute, Load: DayNightLoad}, {Name: "morning", Duration: 45 * minute, Load: DayNightLoad, LoadEnd: DayPeakLoad},
		{Name: "peak", Duration: 30 * minute, Load: DayPeakLoad}, {Name: "evening", Duration: 45 * minute, Load: DayPeakLoad, LoadEnd: DayNightLoad},
		{Name: "night2", Duration: 45 * minute, Load: DayNightLoad},
	}},
	// trace: replays a trace (-trace file.csv); without one, a synthetic bursty trace of
	// the same shape as plateau, generated from -seed (see GenerateTrace).
	"trace": {Name: "trace", Arrivals: "bursty", Phases: []Phase{
		{Name: "base", Duration: 2 * minute, Load: 0.5}, {Name: "busy", Duration: 20 * minute, Load: 2.2, LoadEnd: 3.0},
		{Name: "drop", Duration: 14 * minute, Load: 0.3},
	}},
}

// DayPeakLoad and DayNightLoad are the day scenario's peak and night, in replicas' worth:
// a peak of 12 fills three quarters of the scale runs' maxReplicas of 16 (the shape issue 19
// measured), a night a tenth of it (an assumption).
const (
	DayPeakLoad  = 12.0
	DayNightLoad = 1.2
)

// ScenarioNames lists the scenarios, sorted.
func ScenarioNames() []string {
	var names []string
	for n := range Scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupScenario returns a named scenario.
func LookupScenario(name string) (Scenario, error) {
	s, ok := Scenarios[name]
	if !ok {
		return Scenario{}, fmt.Errorf("lab scenario %q: want one of %s", name, strings.Join(ScenarioNames(), ", "))
	}
	return s, nil
}

// Duration is the scenario's length: its phases', or its trace's last arrival.
func (s Scenario) Duration() time.Duration {
	var d time.Duration
	for _, p := range s.Phases {
		d += p.Duration
	}
	if n := len(s.Trace); n > 0 && len(s.Phases) == 0 {
		d = s.Trace[n-1].Arrival + time.Second
	}
	return d
}

// At returns the phase in force at t since the start (the last one after the end).
func (s Scenario) At(t time.Duration) Phase {
	for _, p := range s.Phases {
		if t < p.Duration {
			return p
		}
		t -= p.Duration
	}
	if len(s.Phases) == 0 {
		return Phase{Name: "trace"}
	}
	return s.Phases[len(s.Phases)-1]
}

// Load returns the load at t in replicas' worth (0 for a trace without phases).
func (s Scenario) Load(t time.Duration) float64 {
	for _, p := range s.Phases {
		if t < p.Duration {
			if p.LoadEnd == 0 || p.Duration == 0 {
				return p.Load
			}
			return p.Load + (p.LoadEnd-p.Load)*float64(t)/float64(p.Duration)
		}
		t -= p.Duration
	}
	if len(s.Phases) == 0 {
		return 0
	}
	last := s.Phases[len(s.Phases)-1]
	if last.LoadEnd != 0 {
		return last.LoadEnd
	}
	return last.Load
}

// Start returns when the named phase begins.
func (s Scenario) Start(name string) (time.Duration, bool) {
	var d time.Duration
	for _, p := range s.Phases {
		if p.Name == name {
			return d, true
		}
		d += p.Duration
	}
	return 0, false
}

// Lengths is the distribution of request lengths: log-normal around the means with the
// given sigma (of the underlying normal), clipped to [1, Max]. Sigma 0 gives the means.
type Lengths struct {
	InputMean, OutputMean float64
	Sigma                 float64
	Max                   int
}

// DefaultLengths: 512 prompt and 200 generated tokens on average, sigma 0.8, at most 4096
// (the 8B profile's maxModelLen). Assumptions standing in for a production trace: chat
// traffic has prompts a few times longer than answers and long-tailed lengths (the ShareGPT
// and Splitwise traces vLLM's and Dynamo's benchmarks replay are of this shape). Flags.
var DefaultLengths = Lengths{InputMean: 512, OutputMean: 200, Sigma: 0.8, Max: 4096}

func (l Lengths) draw(rng *rand.Rand, mean float64) int {
	if l.Sigma <= 0 {
		return max(1, int(math.Round(mean)))
	}
	// A log-normal with mean `mean`: mu = ln(mean) - sigma^2/2.
	v := math.Exp(math.Log(mean) - l.Sigma*l.Sigma/2 + l.Sigma*rng.NormFloat64())
	n := max(1, int(math.Round(v)))
	if l.Max > 0 {
		n = min(n, l.Max)
	}
	return n
}

// Source yields a scenario's requests step by step: replayed from its trace, or generated
// with its arrival process at the rate of its phases, seeded so that runs repeat.
type Source struct {
	sc       Scenario
	capacity float64 // requests/s of one replica (ServerModel.Capacity)
	lengths  Lengths
	rng      *rand.Rand
	next     time.Duration // the next generated arrival
	i        int           // trace cursor
}

// NewSource returns the request source of a scenario for a replica of the given capacity
// (requests per second).
func NewSource(sc Scenario, capacity float64, l Lengths, seed uint64) *Source {
	s := &Source{sc: sc, capacity: capacity, lengths: l, rng: rand.New(rand.NewPCG(seed, seed^0xda942042e4dd58b5))}
	s.next = s.gap(0)
	return s
}

// BurstinessShape is the gamma shape of bursty inter-arrival times: 0.25 gives a coefficient
// of variation of 2 (a Poisson process has 1). BurstGPT (Wang et al., 2024) fits Azure
// OpenAI's conversation traffic with gamma inter-arrivals of shape below 1.
const BurstinessShape = 0.25

// gap returns the time from t to the next generated arrival.
func (s *Source) gap(t time.Duration) time.Duration {
	rate := s.sc.Load(t) * s.capacity
	if rate <= 0 {
		return time.Second // no load now: look again in a second
	}
	mean := 1 / rate
	var g float64
	if s.sc.Arrivals == "bursty" {
		g = gammaDraw(s.rng, BurstinessShape) * mean / BurstinessShape
	} else {
		g = s.rng.ExpFloat64() * mean
	}
	return seconds(g)
}

// Until returns the requests arriving before t, in order, not returned before.
func (s *Source) Until(t time.Duration) []Request {
	var out []Request
	if len(s.sc.Trace) > 0 {
		for s.i < len(s.sc.Trace) && s.sc.Trace[s.i].Arrival < t {
			out = append(out, s.sc.Trace[s.i])
			s.i++
		}
		return out
	}
	for s.next < t {
		at := s.next
		if s.sc.Load(at) > 0 {
			out = append(out, Request{Arrival: at, Input: s.lengths.draw(s.rng, s.lengths.InputMean),
				Output: s.lengths.draw(s.rng, s.lengths.OutputMean)})
		}
		s.next = at + max(s.gap(at), time.Microsecond)
	}
	return out
}

// gammaDraw samples Gamma(shape, 1) (Marsaglia and Tsang; shape < 1 by boosting).
func gammaDraw(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gammaDraw(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// GenerateTrace returns every request of a scenario's generated load, for a replica of the
// given capacity: what WriteTrace saves and a trace scenario replays.
func GenerateTrace(sc Scenario, capacity float64, l Lengths, seed uint64) []Request {
	sc.Trace = nil
	return NewSource(sc, capacity, l, seed).Until(sc.Duration())
}

// traceHeader is the CSV trace format: one request a row.
var traceHeader = []string{"arrival_seconds", "input_tokens", "output_tokens"}

// WriteTrace writes requests as a CSV trace.
func WriteTrace(w io.Writer, reqs []Request) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(traceHeader)
	for _, r := range reqs {
		_ = cw.Write([]string{strconv.FormatFloat(r.Arrival.Seconds(), 'f', 3, 64), strconv.Itoa(r.Input), strconv.Itoa(r.Output)})
	}
	cw.Flush()
	return cw.Error()
}

// ReadTrace reads a CSV trace: a header naming arrival_seconds, input_tokens and
// output_tokens (in any order, other columns ignored), then one request a row. Rows are
// sorted by arrival.
func ReadTrace(r io.Reader) ([]Request, error) {
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("lab trace: %w", err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("lab trace: empty")
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimSpace(h)] = i
	}
	for _, h := range traceHeader {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("lab trace: no %q column (want a header %s)", h, strings.Join(traceHeader, ","))
		}
	}
	var out []Request
	for n, rec := range recs[1:] {
		at, err1 := strconv.ParseFloat(rec[col["arrival_seconds"]], 64)
		in, err2 := strconv.Atoi(rec[col["input_tokens"]])
		o, err3 := strconv.Atoi(rec[col["output_tokens"]])
		if err1 != nil || err2 != nil || err3 != nil || at < 0 || in < 0 || o < 1 {
			return nil, fmt.Errorf("lab trace: row %d %v: want seconds >= 0, input >= 0 and output >= 1 tokens", n+2, rec)
		}
		out = append(out, Request{Arrival: seconds(at), Input: in, Output: o})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Arrival < out[j].Arrival })
	return out, nil
}

// ReadTraceFile reads a CSV trace file.
func ReadTraceFile(path string) ([]Request, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("lab trace: %w", err)
	}
	defer f.Close()
	return ReadTrace(f)
}
