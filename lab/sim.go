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
// The model: requests wait in one FIFO in front of every ready replica (what a queue-aware
// gateway does; kube-proxy's random spreading would instead strand a backlog on the replica
// that took it). A replica runs at most MaxNumSeqs requests at once (vLLM --max-num-seqs).
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
// waited longer than the client's timeout without a slot is TimedOut (dropped).
type Outcome struct {
	Arrival   time.Duration
	Wait      time.Duration // in the queue, until a slot took it
	TTFT, E2E time.Duration
	TimedOut  bool
}

// Sim runs the server model and the ingestion pipeline. It is driven by Step and read by the
// adapter (PodMetric) from other goroutines. Time in the sim is the scenario's time.
type Sim struct {
	model   ServerModel
	ing     Ingestion
	metrics map[string]string // HPA metric name -> server metric name
	timeout time.Duration

	mu         sync.Mutex
	rng        *rand.Rand
	now        time.Duration
	queue      []Request
	pods       map[string]*podState
	outcomes   []Outcome
	nextScrape time.Duration
	pending    []sample          // scraped, not yet visible
	visible    map[string]sample // pod -> latest visible sample
}

// podState is one replica's batch: a slot per sequence, each with the request it holds.
type podState struct {
	ready bool // false while it drains after leaving the Service
	slots []slot
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
// up (0: forever). seed makes the ingestion delays repeatable.
func NewSim(m ServerModel, ing Ingestion, metrics map[string]string, timeout time.Duration, seed uint64) (*Sim, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if ing.ScrapeInterval <= 0 || ing.MaxDelay < ing.MinDelay {
		return nil, fmt.Errorf("lab ingestion %+v: want a positive scrape interval and minDelay <= maxDelay", ing)
	}
	s := &Sim{model: m, ing: ing, metrics: map[string]string{}, pods: map[string]*podState{}, timeout: timeout,
		visible: map[string]sample{}, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
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

// State is the server side at one instant.
type State struct {
	Waiting float64 // requests queued in front of the replicas
	Running float64 // requests in batches, all replicas
	Ready   int     // replicas serving
}

// Step advances the model by dt: the requests that arrive in it (arrival times within
// [now, now+dt), in order) join the queue, and the given pods are the ready ones. A pod that
// stops being ready takes no new request but finishes the ones it holds (graceful
// termination); a pod that becomes ready has every slot free.
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
			if n, _ := p.running(t0); n == 0 {
				delete(s.pods, name)
			}
		}
	}
	s.queue = append(s.queue, arrivals...)
	names := slices.Sorted(maps.Keys(s.pods))
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
			if r.Arrival+s.timeout >= t1 {
				break // still waiting at the end of the step
			}
			s.queue = s.queue[1:]
			s.outcomes = append(s.outcomes, Outcome{Arrival: r.Arrival, Wait: s.timeout, TimedOut: true})
			continue
		}
		if start >= t1 {
			break
		}
		s.queue = s.queue[1:]
		prefill := seconds(s.model.prefill(float64(r.Input)))
		decode := seconds(float64(r.Output) * float64(s.model.MaxNumSeqs) / s.model.TokensPerSecond)
		*best = slot{start: start, prefillEnd: start + prefill, end: start + prefill + decode, in: r.Input, out: r.Output}
		s.outcomes = append(s.outcomes, Outcome{Arrival: r.Arrival, Wait: start - r.Arrival,
			TTFT: start - r.Arrival + prefill, E2E: start - r.Arrival + prefill + decode})
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
			n, tokens := s.pods[p].running(s.now)
			delay := s.ing.MinDelay
			if span > 0 {
				delay += time.Duration(s.rng.Int64N(int64(span)))
			}
			kv := float64(n) / float64(s.model.MaxNumSeqs)
			if s.model.KVCacheTokens > 0 {
				kv = math.Min(1, tokens/s.model.KVCacheTokens)
			}
			s.pending = append(s.pending, sample{pod: p, at: s.now + delay, waiting: float64(len(s.queue)) / float64(len(ready)),
				running: float64(n), kvCache: kv, scrapedAt: s.now})
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
	st := State{Waiting: float64(len(s.queue))}
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
	return append([]Outcome(nil), s.outcomes...), len(s.queue)
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
