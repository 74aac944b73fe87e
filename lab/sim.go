package lab

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// ServerModel is the serving capacity of one replica, in the terms vLLM is configured in.
//
// The model: requests arrive at the scenario's rate into one FIFO in front of every ready
// replica (what a queue-aware gateway does; kube-proxy's random spreading would instead
// strand a backlog on the replica that took it). A replica decodes at most MaxNumSeqs
// sequences at once (vLLM --max-num-seqs) and TokensPerSecond tokens per second at a full
// batch, shared by its sequences, so one request of OutputTokens tokens takes
// ServiceTime = MaxNumSeqs*OutputTokens/TokensPerSecond, and a full replica completes
// Capacity = TokensPerSecond/OutputTokens requests per second. Each step, running requests
// complete at running/ServiceTime per second, and free slots take requests from the queue.
// vllm:num_requests_waiting of a replica is its share of the queue, num_requests_running its
// batch, kv_cache_usage_perc its batch over MaxNumSeqs (every sequence of maxModelLen).
// Prefill time, preemption and request-length variance are not modelled.
type ServerModel struct {
	MaxNumSeqs      int
	TokensPerSecond float64
	OutputTokens    float64
}

// ServiceTime is how long one request holds a batch slot.
func (m ServerModel) ServiceTime() time.Duration {
	return time.Duration(float64(m.MaxNumSeqs) * m.OutputTokens / m.TokensPerSecond * float64(time.Second))
}

// Capacity is the requests per second one full replica completes.
func (m ServerModel) Capacity() float64 { return m.TokensPerSecond / m.OutputTokens }

func (m ServerModel) validate() error {
	if m.MaxNumSeqs < 1 || m.TokensPerSecond <= 0 || m.OutputTokens <= 0 {
		return fmt.Errorf("lab server model %+v: want maxNumSeqs >= 1 and positive tokens/s and output tokens", m)
	}
	return nil
}

// Ingestion says how metric values reach the adapter: scraped every ScrapeInterval, and
// visible a random delay between MinDelay and MaxDelay later (Managed Prometheus: 3-7 s).
type Ingestion struct {
	ScrapeInterval     time.Duration
	MinDelay, MaxDelay time.Duration
}

// Sim runs the server model and the ingestion pipeline. It is driven by Step and read by the
// adapter (PodMetric) from other goroutines.
type Sim struct {
	model   ServerModel
	ing     Ingestion
	metrics map[string]string // HPA metric name -> server metric name

	mu         sync.Mutex
	rng        *rand.Rand
	now        time.Duration // simulated time since Start
	waiting    float64
	running    map[string]float64 // ready pod -> requests in its batch
	nextScrape time.Duration
	pending    []sample          // scraped, not yet visible
	visible    map[string]sample // pod -> latest visible sample
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
// (vllm:num_requests_waiting). seed makes the ingestion delays repeatable.
func NewSim(m ServerModel, ing Ingestion, metrics map[string]string, seed uint64) (*Sim, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if ing.ScrapeInterval <= 0 || ing.MaxDelay < ing.MinDelay {
		return nil, fmt.Errorf("lab ingestion %+v: want a positive scrape interval and minDelay <= maxDelay", ing)
	}
	s := &Sim{model: m, ing: ing, metrics: map[string]string{}, running: map[string]float64{},
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

// Step advances the model by dt with requests arriving at rate per second and the given
// pods ready. A pod that stops being ready puts its batch back in the queue.
func (s *Sim) Step(dt time.Duration, rate float64, ready []string) State {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := dt.Seconds()
	isReady := map[string]bool{}
	for _, p := range ready {
		isReady[p] = true
		if _, ok := s.running[p]; !ok {
			s.running[p] = 0
		}
	}
	for p, r := range s.running {
		if !isReady[p] {
			s.waiting += r
			delete(s.running, p)
			delete(s.visible, p)
		}
	}
	s.waiting += rate * sec
	st := s.model.ServiceTime().Seconds()
	free := 0.0
	for p, r := range s.running {
		r -= r * math.Min(1, sec/st)
		s.running[p] = r
		free += float64(s.model.MaxNumSeqs) - r
	}
	if admit := math.Min(s.waiting, free); admit > 0 {
		s.waiting -= admit
		for p, r := range s.running {
			s.running[p] = r + admit*(float64(s.model.MaxNumSeqs)-r)/free
		}
	}
	s.now += dt
	s.scrape()
	return s.state()
}

// scrape samples every ready pod each scrape interval and makes due samples visible.
func (s *Sim) scrape() {
	if s.now >= s.nextScrape {
		s.nextScrape = s.now + s.ing.ScrapeInterval
		n := float64(len(s.running))
		span := s.ing.MaxDelay - s.ing.MinDelay
		for _, p := range sortedKeys(s.running) {
			r := s.running[p]
			delay := s.ing.MinDelay
			if span > 0 {
				delay += time.Duration(s.rng.Int64N(int64(span)))
			}
			s.pending = append(s.pending, sample{pod: p, at: s.now + delay, waiting: s.waiting / n, running: r,
				kvCache: r / float64(s.model.MaxNumSeqs), scrapedAt: s.now})
		}
	}
	keep := s.pending[:0]
	for _, smp := range s.pending {
		if smp.at > s.now {
			keep = append(keep, smp)
			continue
		}
		if _, ok := s.running[smp.pod]; ok && smp.scrapedAt >= s.visible[smp.pod].scrapedAt {
			s.visible[smp.pod] = smp
		}
	}
	s.pending = keep
}

func (s *Sim) state() State {
	st := State{Waiting: s.waiting, Ready: len(s.running)}
	for _, r := range s.running {
		st.Running += r
	}
	return st
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

// PredictReplicas is the replica count the model needs to keep up with rate: enough
// capacity that the queue stops growing, within the HPA's bounds. A queue-target HPA
// settles at or above it while the load lasts.
func PredictReplicas(m ServerModel, rate float64, minReplicas, maxReplicas int) int {
	n := int(math.Ceil(rate/m.Capacity() - 1e-9))
	return max(minReplicas, min(maxReplicas, n))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
