package lab

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/llmserve/llmserve/catalog"
	"github.com/stretchr/testify/require"
)

const waitingMetric = "prometheus.googleapis.com|vllm:num_requests_waiting|gauge"

// testModel: 64 slots, 2000 tokens/s at a full batch, no prefill, 200-token answers: a slot
// is held 6.4 s and a replica completes 10 requests/s.
var testModel = ServerModel{MaxNumSeqs: 64, TokensPerSecond: 2000, InputTokens: 0, OutputTokens: 200}

func testSim(t *testing.T, timeout time.Duration) *Sim {
	t.Helper()
	s, err := NewSim(testModel, Ingestion{ScrapeInterval: 5 * time.Second, MinDelay: 3 * time.Second, MaxDelay: 7 * time.Second},
		map[string]string{waitingMetric: "vllm:num_requests_waiting"}, timeout, 1)
	require.NoError(t, err)
	return s
}

// evenly returns rate requests a second of 200 output tokens over [from, from+d).
func evenly(from, d time.Duration, rate float64) []Request {
	var out []Request
	n := int(rate * d.Seconds())
	for i := range n {
		out = append(out, Request{Arrival: from + time.Duration(float64(d)*float64(i)/float64(n)), Output: 200})
	}
	return out
}

func TestServerModel(t *testing.T) {
	require.InDelta(t, 10.0, testModel.Capacity(), 1e-9)
	require.Equal(t, 6400*time.Millisecond, testModel.SlotTime(0, 200))
	m := testModel
	m.PrefillTokensPerSecond, m.InputTokens = 10000, 1000
	require.Equal(t, 6500*time.Millisecond, m.SlotTime(1000, 200), "prefill 0.1 s + decode 6.4 s")
	require.Equal(t, 3, PredictReplicas(testModel, 25, 1, 4))
	require.Equal(t, 4, PredictReplicas(testModel, 35, 1, 4))
	require.Equal(t, 4, PredictReplicas(testModel, 100, 1, 4), "capped at maxReplicas")
	require.Equal(t, 1, PredictReplicas(testModel, 0, 1, 4), "at least minReplicas")
}

// Below capacity nobody waits and TTFT is the prefill; above it the queue grows by the
// excess, and a second replica drains the shared queue (RoutingFIFO). Every request is
// accounted for.
func TestSimQueueAndAccounting(t *testing.T) {
	s := testSim(t, 0)
	require.NoError(t, s.SetRouting(Routing{Mode: RoutingFIFO}))
	var st State
	for i := range 120 {
		st = s.Step(time.Second, evenly(time.Duration(i)*time.Second, time.Second, 8), []string{"a"})
	}
	require.InDelta(t, 0, st.Waiting, 1e-6)
	require.InDelta(t, 8*6.4, st.Running, 2, "Little's law: rate x slot time")
	done, queued := s.Outcomes()
	require.Len(t, done, 960)
	require.Zero(t, queued)
	for _, o := range done {
		require.Zero(t, o.TTFT, "no prefill, no wait")
		require.Equal(t, 6400*time.Millisecond, o.E2E)
	}
	for i := range 60 {
		st = s.Step(time.Second, evenly(time.Duration(120+i)*time.Second, time.Second, 15), []string{"a"})
	}
	require.InDelta(t, 60*5, st.Waiting, 40, "grows at rate - capacity")
	for i := range 30 {
		st = s.Step(time.Second, evenly(time.Duration(180+i)*time.Second, time.Second, 15), []string{"a", "b"})
	}
	require.Less(t, st.Waiting, 300.0, "a second replica drains the shared queue")
	done, queued = s.Outcomes()
	require.Equal(t, 960+900+450, len(done)+queued, "every arrival is served or still queued")
	late := 0
	for _, o := range done[960:] {
		if o.Wait > 0 {
			late++
			require.Equal(t, o.Wait, o.TTFT, "TTFT = wait + prefill")
		}
	}
	require.Greater(t, late, 500)
}

// A request that waits longer than the client timeout in the shared queue is dropped and
// counted, and one that a replica takes in time is served. (Only fifo holds requests while
// no replica is ready; TestRoutingTimeoutInReplicaQueue times out a replica's own queue.)
func TestSimTimeout(t *testing.T) {
	s := routedSim(t, Routing{Mode: RoutingFIFO}, 10*time.Second)
	s.Step(time.Second, evenly(0, time.Second, 100), nil) // no replica ready
	for range 15 {
		s.Step(time.Second, nil, nil)
	}
	done, queued := s.Outcomes()
	require.Len(t, done, 100)
	require.Zero(t, queued)
	for _, o := range done {
		require.True(t, o.TimedOut)
	}
	s.Step(time.Second, []Request{{Arrival: 16 * time.Second, Output: 10}}, []string{"a"})
	done, _ = s.Outcomes()
	require.False(t, done[100].TimedOut)
}

// Each replica has its own queue: behind a Service, two replicas overloaded through random
// connections report different vllm:num_requests_waiting; behind the gateway,
// whose picker sends each request to the shorter queue, they report about the same. (One
// shared queue made every replica report the same share of it.)
func TestSimPerReplicaQueues(t *testing.T) {
	for _, tc := range []struct {
		name     string
		routing  Routing
		balanced bool
	}{
		{"service", Routing{Mode: RoutingService, Connections: DefaultConnections, ConnectionLifetime: DefaultConnectionLifetime}, false},
		{"gateway (default)", Routing{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No ingestion delay: both values come from the same scrape.
			s, err := NewSim(testModel, Ingestion{ScrapeInterval: time.Second}, map[string]string{waitingMetric: "vllm:num_requests_waiting"}, 0, 1)
			require.NoError(t, err)
			require.NoError(t, s.SetRouting(tc.routing))
			for i := range 60 {
				s.Step(time.Second, evenly(time.Duration(i)*time.Second, time.Second, 25), []string{"a", "b"})
			}
			va, ok := s.PodMetric(waitingMetric, "", "a")
			require.True(t, ok)
			vb, ok := s.PodMetric(waitingMetric, "", "b")
			require.True(t, ok)
			t.Logf("waiting: a %.0f, b %.0f", va, vb)
			require.Greater(t, va+vb, 100.0)
			if tc.balanced {
				require.InDelta(t, va, vb, 2, "the picker keeps the queues even")
			} else {
				require.Greater(t, math.Abs(va-vb), 5.0, "pinned connections leave the queues uneven")
			}
		})
	}
}

// A pod that leaves the Service takes no new request but finishes the ones it holds.
func TestSimDrain(t *testing.T) {
	s := testSim(t, 0)
	s.Step(time.Second, evenly(0, time.Second, 10), []string{"a", "b"})
	st := s.Step(time.Second, nil, []string{"b"})
	require.InDelta(t, 10, st.Running, 1e-9, "a still finishes its share")
	require.Equal(t, 1, st.Ready)
	st = s.Step(time.Second, evenly(2*time.Second, time.Second, 5), []string{"b"})
	require.Equal(t, 15.0, st.Running)
	for range 10 {
		st = s.Step(time.Second, nil, []string{"b"})
	}
	require.Zero(t, st.Running)
}

// A value reaches the adapter 3-7 s after its scrape, never at once; a pod that stops being
// ready loses its series.
func TestSimIngestionDelay(t *testing.T) {
	s := testSim(t, 0)
	_, ok := s.PodMetric(waitingMetric, "llm", "a")
	require.False(t, ok)
	s.Step(time.Second, evenly(0, time.Second, 100), []string{"a"}) // scraped at t=1s
	s.Step(time.Second, evenly(time.Second, time.Second, 100), []string{"a"})
	_, ok = s.PodMetric(waitingMetric, "llm", "a")
	require.False(t, ok, "visible before the ingestion delay")
	for i := range 8 {
		s.Step(time.Second, evenly(time.Duration(2+i)*time.Second, time.Second, 100), []string{"a"})
	}
	v, ok := s.PodMetric(waitingMetric, "llm", "a")
	require.True(t, ok)
	require.Greater(t, v, 0.0)
	s.Step(time.Second, nil, nil)
	_, ok = s.PodMetric(waitingMetric, "llm", "a")
	require.False(t, ok)
}

func TestSimKVCache(t *testing.T) {
	m := testModel
	m.KVCacheTokens = 64 * 300
	kv := "prometheus.googleapis.com|vllm:kv_cache_usage_perc|gauge"
	s, err := NewSim(m, Ingestion{ScrapeInterval: time.Second}, map[string]string{kv: "vllm:kv_cache_usage_perc"}, 0, 1)
	require.NoError(t, err)
	reqs := make([]Request, 64)
	for i := range reqs {
		reqs[i] = Request{Input: 100, Output: 200}
	}
	s.Step(time.Second, reqs, []string{"a"})
	s.Step(time.Second, nil, []string{"a"})
	v, ok := s.PodMetric(kv, "", "a")
	require.True(t, ok)
	// Last scraped at 2 s of a 6.4 s decode: 100 prompt + 2/6.4 of 200 tokens, over 300 a slot.
	require.InDelta(t, (100+200*2/6.4)/300, v, 0.01)
}

func TestSimRejectsUnmodelledMetric(t *testing.T) {
	_, err := NewSim(ServerModel{MaxNumSeqs: 1, TokensPerSecond: 1, OutputTokens: 1},
		Ingestion{ScrapeInterval: time.Second}, map[string]string{"x": "kubernetes.io|node|accelerator|memory_used"}, 0, 1)
	require.ErrorContains(t, err, "not a server gauge")
}

// The generator repeats with its seed, differs across seeds, and reaches the phases'
// rate; bursty arrivals have the same mean rate and a larger spread.
func TestGenerator(t *testing.T) {
	sc := Scenario{Name: "t", Phases: []Phase{{Name: "a", Duration: 10 * time.Minute, Load: 2}}}
	a := GenerateTrace(sc, 10, DefaultLengths, 7)
	b := GenerateTrace(sc, 10, DefaultLengths, 7)
	c := GenerateTrace(sc, 10, DefaultLengths, 8)
	require.Equal(t, a, b)
	require.NotEqual(t, a, c)
	require.InDelta(t, 20*600, len(a), 20*600*0.05, "Poisson at 2 x 10 req/s")
	in, out := 0, 0
	for i, r := range a {
		in, out = in+r.Input, out+r.Output
		require.GreaterOrEqual(t, r.Input, 1)
		require.LessOrEqual(t, r.Output, DefaultLengths.Max)
		if i > 0 {
			require.GreaterOrEqual(t, r.Arrival, a[i-1].Arrival)
		}
	}
	require.InDelta(t, DefaultLengths.InputMean, float64(in)/float64(len(a)), 30)
	require.InDelta(t, DefaultLengths.OutputMean, float64(out)/float64(len(a)), 15)

	sc.Arrivals = "bursty"
	bursty := GenerateTrace(sc, 10, DefaultLengths, 7)
	require.InDelta(t, 20*600, len(bursty), 20*600*0.15)
	require.Greater(t, perSecondSpread(bursty), 1.5*perSecondSpread(a), "bursty arrivals bunch up")

	ramp := Scenario{Phases: []Phase{{Name: "r", Duration: 10 * time.Minute, Load: 0, LoadEnd: 2}}}
	require.InDelta(t, 1.0, ramp.Load(5*time.Minute), 1e-9)
	r := GenerateTrace(ramp, 10, DefaultLengths, 1)
	require.InDelta(t, 6000, len(r), 400, "mean load 1 over 10 minutes")
}

func perSecondSpread(reqs []Request) float64 {
	counts := map[int]float64{}
	for _, r := range reqs {
		counts[int(r.Arrival/time.Second)]++
	}
	mean, n := 0.0, 600.0
	for i := range 600 {
		mean += counts[i]
	}
	mean /= n
	v := 0.0
	for i := range 600 {
		v += (counts[i] - mean) * (counts[i] - mean)
	}
	return v / n
}

func TestTraceRoundTrip(t *testing.T) {
	reqs := []Request{{Arrival: 1500 * time.Millisecond, Input: 10, Output: 20}, {Arrival: 2 * time.Second, Input: 0, Output: 1}}
	var b bytes.Buffer
	require.NoError(t, WriteTrace(&b, reqs))
	got, err := ReadTrace(&b)
	require.NoError(t, err)
	require.Equal(t, reqs, got)
	// Columns in any order, extra columns ignored, rows sorted.
	got, err = ReadTrace(strings.NewReader("output_tokens,x,arrival_seconds,input_tokens\n5,a,3.0,1\n6,b,1.0,2\n"))
	require.NoError(t, err)
	require.Equal(t, []Request{{Arrival: time.Second, Input: 2, Output: 6}, {Arrival: 3 * time.Second, Input: 1, Output: 5}}, got)
	_, err = ReadTrace(strings.NewReader("arrival_seconds,input_tokens\n1,2\n"))
	require.ErrorContains(t, err, "output_tokens")
	_, err = ReadTrace(strings.NewReader("arrival_seconds,input_tokens,output_tokens\n-1,2,3\n"))
	require.ErrorContains(t, err, "row 2")
	sc := Scenario{Trace: got}
	src := NewSource(sc, 10, DefaultLengths, 1)
	require.Len(t, src.Until(2*time.Second), 1)
	require.Len(t, src.Until(10*time.Second), 1)
	require.Equal(t, 4*time.Second, sc.Duration())
}

func TestColdStart(t *testing.T) {
	c := DefaultColdStart(16)
	// 19.5 GB / 0.134 + 16 GB / 0.57 + 20 s + 340 s cold (135 s warm).
	require.InDelta(t, (19.5/0.134 + 16/0.57 + 20 + 340), c.Duration(false).Seconds(), 0.01)
	require.Equal(t, DefaultXLACold-DefaultXLAWarm, c.Duration(false)-c.Duration(true))
	x := &XLACache{Mode: catalog.XLACacheShared, PublishDelay: time.Minute}
	require.False(t, x.Warm(0))
	x.Served(10 * time.Second)
	require.False(t, x.Warm(69*time.Second), "not before the publish delay")
	require.True(t, x.Warm(70*time.Second))
	x.Served(100 * time.Second)
	require.True(t, x.Warm(71*time.Second), "the first publication counts")
	per := &XLACache{Mode: catalog.XLACachePerPod}
	per.Served(0)
	require.False(t, per.Warm(time.Hour), "per-pod caches are never shared")
}

func TestSummarize(t *testing.T) {
	rows := []Row{
		{T: 0, Pods: 1, Nodes: 1, Spec: 1, Ready: 1, Need: 1},
		{T: time.Minute, Pods: 2, Nodes: 2, Spec: 2, Ready: 1, Need: 2, Waiting: 50},
		{T: 2 * time.Minute, Pods: 2, Nodes: 2, Spec: 2, Ready: 2, Need: 2},
		{T: 3 * time.Minute, Pods: 1, Nodes: 2, Spec: 1, Ready: 1, Need: 2}, // early
		{T: 4 * time.Minute, Pods: 1, Nodes: 1, Spec: 1, Ready: 1, Need: 1},
	}
	outs := []Outcome{{TTFT: time.Second}, {TTFT: 3 * time.Second}, {TTFT: 500 * time.Millisecond}, {TimedOut: true}}
	s := Summarize("p", rows, outs, 1, 2*time.Second, Pricing{ChipHourUSD: 2.7, ChipsPerNode: 4})
	require.Equal(t, 5, s.Requests)
	require.Equal(t, 3, s.Served)
	require.InDelta(t, 0.4, s.SLOAttainment, 1e-9, "2 of 5 within 2 s; timed-out and queued miss")
	require.Equal(t, time.Second, s.TTFTp50)
	require.Equal(t, 3*time.Second, s.TTFTp99)
	require.InDelta(t, 6, s.ReplicaMinutes, 1e-9)
	require.InDelta(t, 7, s.NodeMinutes, 1e-9)
	require.InDelta(t, 7.0/60*4*2.7, s.CostUSD, 1e-9)
	require.Equal(t, 1, s.ScaleUps)
	require.Equal(t, 1, s.ScaleDowns)
	require.Equal(t, 1, s.EarlyDowns)
	require.InDelta(t, 60, s.ShortSeconds, 1e-9, "only the minute after having had 2 ready; the first minute never had them")
	require.Equal(t, 50.0, s.PeakQueue)
}

// Every shipped scenario but short is long enough for a cold node and replica to matter.
func TestScenarios(t *testing.T) {
	for _, n := range []string{"plateau", "diurnal", "bursts", "trace"} {
		sc, err := LookupScenario(n)
		require.NoError(t, err)
		require.GreaterOrEqual(t, sc.Duration(), 30*time.Minute, n)
	}
	p := Scenarios["plateau"]
	require.GreaterOrEqual(t, p.Phases[1].Duration, 10*time.Minute)
	_, err := LookupScenario("nope")
	require.ErrorContains(t, err, "plateau")
}
