package lab

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// ServerModel is the serving capacity of one replica, in the terms vLLM is configured in.
//
// The model: routing (Routing, lab/routing.go) sends each request to a replica, which
// queues it (first come, first served) until one of its slots frees; under RoutingFIFO
// requests wait in one queue in front of every ready replica instead. A replica runs at
// most MaxNumSeqs requests at once (vLLM --max-num-seqs).
// A request holds its slot for its prefill, InputTokens/PrefillTokensPerSecond, then for its
// decode: every slot decodes at TokensPerSecond/MaxNumSeqs tokens per second, so a full
// replica decodes TokensPerSecond in all. Its time to first token is its wait in the queue
// plus its prefill. Prefill batching across requests, preemption and speculative decoding
// are not modelled.
type ServerModel struct {
	MaxNumSeqs             int
	TokensPerSecond        float64 // decode tokens/s of one replica at a full batch
	PrefillTokensPerSecond float64 // prompt tokens/s one slot prefills
	// InputTokens and OutputTokens are the mean request lengths of the load, used to turn a
	// load in replicas' worth into requests per second (Capacity).
	InputTokens, OutputTokens float64
	// KVCacheTokens is how many tokens of KV cache one replica holds:
	// vllm:kv_cache_usage_perc is the tokens of its running requests over this.
	KVCacheTokens float64
}

// SlotTime is how long a request of in and out tokens holds a batch slot.
func (m ServerModel) SlotTime(in, out float64) time.Duration {
	return seconds(m.prefill(in) + out*float64(m.MaxNumSeqs)/m.TokensPerSecond)
}

func (m ServerModel) prefill(in float64) float64 {
	if m.PrefillTokensPerSecond <= 0 {
		return 0
	}
	return in / m.PrefillTokensPerSecond
}

// Capacity is the requests per second one full replica completes at the mean lengths.
func (m ServerModel) Capacity() float64 {
	return float64(m.MaxNumSeqs) / m.SlotTime(m.InputTokens, m.OutputTokens).Seconds()
}

func (m ServerModel) validate() error {
	if m.MaxNumSeqs < 1 || m.TokensPerSecond <= 0 || m.OutputTokens <= 0 || m.InputTokens < 0 || m.PrefillTokensPerSecond < 0 {
		return fmt.Errorf("lab server model %+v: want maxNumSeqs >= 1, positive decode tokens/s and output tokens", m)
	}
	return nil
}

// Ingestion says how metric values reach the adapter: scraped every ScrapeInterval, and
// visible a random delay between MinDelay and MaxDelay later (Managed Prometheus: 3-7 s).
type Ingestion struct {
	ScrapeInterval     time.Duration
	MinDelay, MaxDelay time.Duration
}

// Request is one request of the load: when it arrives (since the scenario began) and its
// prompt and generated lengths in tokens.
type Request struct {
	Arrival       time.Duration
	Input, Output int
}

// Outcome is what happened to one request. Served requests have TTFT and E2E; a request that
// waited longer than the client's timeout without a slot is TimedOut (dropped); one that
// arrived while no replica was ready is Refused (routeOne).
type Outcome struct {
	Arrival   time.Duration
	Wait      time.Duration // in the queue, until a slot took it
	TTFT, E2E time.Duration
	TimedOut  bool
	Refused   bool
}

// Sim runs the server model and the ingestion pipeline. It is driven by Step and read by the
// adapter (PodMetric) from other goroutines. Time in the sim is the scenario's time.
type Sim struct {
	model   ServerModel
	ing     Ingestion
	metrics map[string]string // HPA metric name -> server metric name
	timeout time.Duration
	seed    uint64

	mu    sync.Mutex
	rng   *rand.Rand
	route *router
	now   time.Duration
	// queue is the shared queue under RoutingFIFO (the other routings queue per pod).
	queue      []Request
	pods       map[string]*podState
	outcomes   []Outcome
	nextScrape time.Duration
	pending    []sample          // scraped, not yet visible
	visible    map[string]sample // pod -> latest visible sample
}

// podState is one replica's batch, a slot per sequence, each with the request it holds,
// and its own queue (vllm:num_requests_waiting) unless the routing is RoutingFIFO.
type podState struct {
	ready bool // false while it drains after leaving the Service
	slots []slot
	queue []Request
}

type slot struct {
	start, prefillEnd, end time.Duration
	in, out                int
}

func (p *podState) running(now time.Duration) (n int, tokens float64) {
	for _, s := range p.slots {
		if s.end > now {
			n++
			tokens += float64(s.in)
			if d := s.end - s.prefillEnd; d > 0 && now > s.prefillEnd {
				tokens += float64(s.out) * float64(now-s.prefillEnd) / float64(d)
			}
		}
	}
	return n, tokens
}

type sample struct {
	pod       string
	at        time.Duration // when it becomes visible
	waiting   float64
	running   float64
	kvCache   float64
	scrapedAt time.Duration
}

// NewSim returns a sim serving metrics under the names the HPA asks for: metrics maps each
// HPA metric name (catalog.HPAMetricFor) to the server gauge it stands for
// (vllm:num_requests_waiting). timeout is how long a client waits for a slot before it gives
// up (0: forever). seed makes the ingestion delays and the routing repeatable. It routes
// with DefaultRouting until SetRouting says otherwise.
func NewSim(m ServerModel, ing Ingestion, metrics map[string]string, timeout time.Duration, seed uint64) (*Sim, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if ing.ScrapeInterval <= 0 || ing.MaxDelay < ing.MinDelay {
		return nil, fmt.Errorf("lab ingestion %+v: want a positive scrape interval and minDelay <= maxDelay", ing)
	}
	s := &Sim{model: m, ing: ing, metrics: map[string]string{}, pods: map[string]*podState{}, timeout: timeout,
		visible: map[string]sample{}, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed: seed}
	var err error
	if s.route, err = newRouter(DefaultRouting, seed); err != nil {
		return nil, err
	}
	for hpaName, server := range metrics {
		if !modelled[server] {
			return nil, fmt.Errorf("lab sim: metric %q is not a server gauge the lab models", server)
		}
		s.metrics[hpaName] = server
	}
	return s, nil
}

// modelled are the server gauges the sim computes.
var modelled = map[string]bool{
	"vllm:num_requests_waiting": true, "vllm:num_requests_running": true, "vllm:kv_cache_usage_perc": true,
	"jetstream_prefill_backlog_size": true, "jetstream_slots_used_percentage": true,
}

// SetRouting sets how requests reach the replicas (the zero Routing: DefaultRouting). Call
// it before the first Step.
func (s *Sim) SetRouting(r Routing) error {
	rt, err := newRouter(r, s.seed)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.route = rt
	return nil
}

// Routing returns how the sim routes requests.
func (s *Sim) Routing() Routing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.route.Routing
}

// State is the server side at one instant.
type State struct {
	Waiting float64 // requests queued, in front of the replicas or in theirs
	Running float64 // requests in batches, all replicas
	Ready   int     // replicas serving
}

// Step advances the model by dt: the requests that arrive in it (arrival times within
// [now, now+dt), in order) are routed, and the given pods are the ready ones. A pod that
// stops being ready takes no new request but finishes the ones it holds and, with its own
// queue, the ones queued there (graceful termination: the server finishes the requests it
// has accepted); a pod that becomes ready has every slot free.
func (s *Sim) Step(dt time.Duration, arrivals []Request, ready []string) State {
	s.mu.Lock()
	defer s.mu.Unlock()
	t0, t1 := s.now, s.now+dt
	isReady := map[string]bool{}
	for _, p := range ready {
		isReady[p] = true
		if _, ok := s.pods[p]; !ok {
			s.pods[p] = &podState{slots: make([]slot, s.model.MaxNumSeqs)}
		}
	}
	for name, p := range s.pods {
		p.ready = isReady[name]
		if !p.ready {
			delete(s.visible, name)
			if n, _ := p.running(t0); n == 0 && len(p.queue) == 0 {
				delete(s.pods, name)
			}
		}
	}
	names := slices.Sorted(maps.Keys(s.pods))
	if s.route.Mode == RoutingFIFO {
		s.queue = append(s.queue, arrivals...)
		s.serveShared(names, t0, t1)
	} else {
		for _, r := range arrivals {
			at := max(r.Arrival, t0)
			s.servePods(names, t0, at)
			s.routeOne(names, r, at)
		}
		s.servePods(names, t0, t1)
	}
	// Clients that gave up while no replica could take them.
	if s.timeout > 0 {
		keep := s.queue[:0]
		for _, r := range s.queue {
			if r.Arrival+s.timeout < t1 {
				s.outcomes = append(s.outcomes, Outcome{Arrival: r.Arrival, Wait: s.timeout, TimedOut: true})
				continue
			}
			keep = append(keep, r)
		}
		s.queue = keep
	}
	s.now = t1
	s.scrape()
	return s.state()
}

// routeOne sends r, arriving at, to the queue of the ready pod the routing picks. While no
// pod is ready it refuses r: behind the gateway, the endpoint picker's director answers
// ServiceUnavailable, "failed to find candidate pods for serving the request"
// (gateway-api-inference-extension pkg/epp/requestcontrol/director.go; only its flowControl
// feature gate, which llmserve does not turn on, would hold the request); through a Service
// the connection is refused. The OpenAI Python client
// retries twice with backoff from 0.5 s (DEFAULT_MAX_RETRIES = 2, INITIAL_RETRY_DELAY 0.5 in
// openai-python src/openai/_constants.py) and then fails: within seconds, so the lab refuses
// at once. Only the fifo model, which no deployable path routes like, holds it.
func (s *Sim) routeOne(names []string, r Request, at time.Duration) {
	var eps []endpoint
	for _, n := range names {
		if p := s.pods[n]; p.ready {
			eps = append(eps, endpoint{name: n, waiting: len(p.queue), kvCache: s.kvCache(p, at)})
		}
	}
	if len(eps) == 0 {
		s.outcomes = append(s.outcomes, Outcome{Arrival: r.Arrival, Refused: true})
		return
	}
	p := s.pods[eps[s.route.pick(at, eps)].name]
	p.queue = append(p.queue, r)
}

// servePods lets every pod, ready or draining, start the requests of its own queue that a
// slot takes before t.
func (s *Sim) servePods(names []string, t0, t time.Duration) {
	for _, n := range names {
		p := s.pods[n]
		for len(p.queue) > 0 {
			r := p.queue[0]
			best := &p.slots[0]
			for i := range p.slots {
				if p.slots[i].end < best.end {
					best = &p.slots[i]
				}
			}
			start := max(r.Arrival, best.end, t0)
			if s.timeout > 0 && start-r.Arrival > s.timeout {
				if r.Arrival+s.timeout >= t {
					break // still waiting at t
				}
				p.queue = p.queue[1:]
				s.outcomes = append(s.outcomes, Outcome{Arrival: r.Arrival, Wait: s.timeout, TimedOut: true})
				continue
			}
			if start >= t {
				break
			}
			p.queue = p.queue[1:]
			s.start(best, r, start)
		}
	}
}

// serveShared starts the requests of the shared queue, in order, each on the slot that frees
// first over the ready pods, while that happens before t (RoutingFIFO).
func (s *Sim) serveShared(names []string, t0, t time.Duration) {
	for len(s.queue) > 0 {
		r := s.queue[0]
		// The slot that frees first, over the ready pods.
		var best *slot
		for _, n := range names {
			p := s.pods[n]
			if !p.ready {
				continue
			}
			for i := range p.slots {
				if best == nil || p.slots[i].end < best.end {
					best = &p.slots[i]
				}
			}
		}
		if best == nil {
			break
		}
		start := max(r.Arrival, best.end, t0)
		if s.timeout > 0 && start-r.Arrival > s.timeout {
			if r.Arrival+s.timeout >= t {
				break // still waiting at the end of the step
			}
			s.queue = s.queue[1:]
			s.outcomes = append(s.outcomes, Outcome{Arrival: r.Arrival, Wait: s.timeout, TimedOut: true})
			continue
		}
		if start >= t {
			break
		}
		s.queue = s.queue[1:]
		s.start(best, r, start)
	}
}

// start puts r in slot sl from start and records its outcome.
func (s *Sim) start(sl *slot, r Request, start time.Duration) {
	prefill := seconds(s.model.prefill(float64(r.Input)))
	decode := seconds(float64(r.Output) * float64(s.model.MaxNumSeqs) / s.model.TokensPerSecond)
	*sl = slot{start: start, prefillEnd: start + prefill, end: start + prefill + decode, in: r.Input, out: r.Output}
	s.outcomes = append(s.outcomes, Outcome{Arrival: r.Arrival, Wait: start - r.Arrival,
		TTFT: start - r.Arrival + prefill, E2E: start - r.Arrival + prefill + decode})
}

// kvCache is a pod's vllm:kv_cache_usage_perc at now: the tokens its running requests hold
// over its KV cache, or without a KV cache size its busy slots over its batch.
func (s *Sim) kvCache(p *podState, now time.Duration) float64 {
	n, tokens := p.running(now)
	if s.model.KVCacheTokens > 0 {
		return math.Min(1, tokens/s.model.KVCacheTokens)
	}
	return float64(n) / float64(s.model.MaxNumSeqs)
}

// waiting is every request queued, shared, held or in a pod's queue.
func (s *Sim) waiting() int {
	n := len(s.queue)
	for _, p := range s.pods {
		n += len(p.queue)
	}
	return n
}

// scrape samples every ready pod each scrape interval and makes due samples visible.
func (s *Sim) scrape() {
	if s.now >= s.nextScrape {
		s.nextScrape = s.now + s.ing.ScrapeInterval
		var ready []string
		for _, n := range slices.Sorted(maps.Keys(s.pods)) {
			if s.pods[n].ready {
				ready = append(ready, n)
			}
		}
		span := s.ing.MaxDelay - s.ing.MinDelay
		for _, p := range ready {
			ps := s.pods[p]
			n, _ := ps.running(s.now)
			delay := s.ing.MinDelay
			if span > 0 {
				delay += time.Duration(s.rng.Int64N(int64(span)))
			}
			// vllm:num_requests_waiting is the replica's own queue; under the shared FIFO
			// each ready replica reports an equal share of it.
			waiting := float64(len(ps.queue))
			if s.route.Mode == RoutingFIFO {
				waiting = float64(len(s.queue)) / float64(len(ready))
			}
			s.pending = append(s.pending, sample{pod: p, at: s.now + delay, waiting: waiting,
				running: float64(n), kvCache: s.kvCache(ps, s.now), scrapedAt: s.now})
		}
	}
	keep := s.pending[:0]
	for _, smp := range s.pending {
		if smp.at > s.now {
			keep = append(keep, smp)
			continue
		}
		if p, ok := s.pods[smp.pod]; ok && p.ready && smp.scrapedAt >= s.visible[smp.pod].scrapedAt {
			s.visible[smp.pod] = smp
		}
	}
	s.pending = keep
}

func (s *Sim) state() State {
	st := State{Waiting: float64(s.waiting())}
	for _, p := range s.pods {
		n, _ := p.running(s.now)
		st.Running += float64(n)
		if p.ready {
			st.Ready++
		}
	}
	return st
}

// Outcomes returns every request finished or dropped so far, and the ones still queued.
func (s *Sim) Outcomes() (done []Outcome, queued int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Outcome(nil), s.outcomes...), s.waiting()
}

// PodMetric returns the latest visible value of an HPA metric for a pod: what the monitoring
// backend holds, not the pod's value right now. Pods without a visible sample are missing,
// as a pod not yet scraped is.
func (s *Sim) PodMetric(name, _, pod string) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	smp, ok := s.visible[pod]
	if !ok {
		return 0, false
	}
	switch s.metrics[name] {
	case "vllm:num_requests_waiting", "jetstream_prefill_backlog_size":
		return smp.waiting, true
	case "vllm:num_requests_running":
		return smp.running, true
	case "vllm:kv_cache_usage_perc", "jetstream_slots_used_percentage":
		return smp.kvCache, true
	}
	return 0, false
}

// ExternalMetric: the lab models no accelerator (External) metric.
func (s *Sim) ExternalMetric(string) (float64, bool) { return 0, false }

// Visible returns the mean visible value of an HPA metric over the pods that have one, and
// how many do: the number the HPA averages.
func (s *Sim) Visible(name string) (float64, int) {
	s.mu.Lock()
	pods := make([]string, 0, len(s.visible))
	for p := range s.visible {
		pods = append(pods, p)
	}
	s.mu.Unlock()
	sum, n := 0.0, 0
	for _, p := range pods {
		if v, ok := s.PodMetric(name, "", p); ok {
			sum, n = sum+v, n+1
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}

// PredictReplicas is the replica count the model needs to keep up with rate (requests per
// second at the mean lengths): enough capacity that the queue stops growing, within the
// HPA's bounds.
func PredictReplicas(m ServerModel, rate float64, minReplicas, maxReplicas int) int {
	n := int(math.Ceil(rate/m.Capacity() - 1e-9))
	return max(minReplicas, min(maxReplicas, n))
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
