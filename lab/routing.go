package lab

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// RoutingMode is the path a request takes to a replica. The lab's default is the one the
// shipped vLLM stack deploys on GKE: the gateway (DefaultRouting).
type RoutingMode string

const (
	// RoutingService is a ClusterIP Service: kube-proxy picks a ready pod at random for each
	// new connection and every request on that connection goes to that pod. In iptables mode
	// (kube-proxy's default on Linux) the choice is random with equal probability; in IPVS
	// mode it is round-robin per node, which across many client nodes is close to random
	// (kubernetes.io/docs/reference/networking/virtual-ips/; GKE Dataplane V2 balances in
	// eBPF instead, also once per connection; its algorithm was not checked;
	// thockin in kubernetes/kubernetes#64580: with persistent connections "statistically it
	// was not evenly distributed"). Each replica queues what it is sent.
	RoutingService RoutingMode = "service"
	// RoutingGateway is GKE Inference Gateway: the Gateway API Inference Extension's endpoint
	// picker chooses a replica for every request by its queue and KV-cache use (EPPWeights).
	// Each replica queues what it is sent. serving.routing: gateway deploys it.
	RoutingGateway RoutingMode = "gateway"
	// RoutingFIFO is one queue in front of every ready replica, the next request taking the
	// first slot that frees anywhere: the lab's model before issue 20, kept to compare with.
	// No deployable path routes like this.
	RoutingFIFO RoutingMode = "fifo"
)

// RoutingModes are the modes a lab accepts, the default first.
var RoutingModes = []RoutingMode{RoutingGateway, RoutingService, RoutingFIFO}

// Routing is how the sim sends requests to replicas.
//
// Under RoutingService the load arrives on Connections long-lived client connections, each
// request on one of them at random (so each carries an equal share), each connection pinned
// to the replica kube-proxy picked when it opened. A connection closes after a random
// lifetime (exponential, mean ConnectionLifetime; 0: never) and the next request on it opens
// a new one to a random ready replica; so does a request on a connection whose replica has
// left the Service (the server closed it). A replica the HPA adds therefore takes load only
// as connections turn over.
//
// Assumptions (each a flag of cmd/llmserve-lab):
//   - Requests spread evenly over a fixed set of connections, whatever their replica's
//     backlog: open-loop clients, e.g. that many client processes, or HTTP/2 clients
//     multiplexing on one connection each. A single HTTP/1.1 client pool (httpx, which the
//     OpenAI Python client uses) instead sends each request on an idle connection, which
//     favours replicas that just finished a request, and opens new random connections when
//     all are busy; that partly self-balancing case is not modelled, so for it the lab is
//     pessimistic.
//   - When no replica is ready the request is refused (Sim.routeOne): the connection is
//     refused and the OpenAI client's two retries fail within seconds. It happens only
//     before the first replica is ready.
type Routing struct {
	Mode RoutingMode
	// Connections (service) is how many client connections carry the load.
	Connections int
	// ConnectionLifetime (service) is the mean time a connection stays open; 0: forever.
	ConnectionLifetime time.Duration
}

const (
	// DefaultConnections: 100, the connections one OpenAI Python client keeps open between
	// requests (DEFAULT_CONNECTION_LIMITS max_keepalive_connections=100 in current
	// openai-python src/openai/_constants.py; it was 20 in the 1.0 releases, commit
	// d63ff6559742193ad4edde576f16ebdcbc62aec1). That the load spreads evenly over that many
	// is an assumption (Routing); -connections changes it.
	DefaultConnections = 100
	// DefaultConnectionLifetime: 10 minutes, an assumption. Under steady load nothing closes a
	// busy connection: vLLM's uvicorn server and httpx close only connections idle for 5 s,
	// and neither caps a connection's age. Connections turn over when load dips, clients
	// restart or a proxy between recycles them; no public figure was found.
	// -connection-lifetime changes it (0: never).
	DefaultConnectionLifetime = 10 * time.Minute
)

// DefaultRouting is the routing of the shipped vLLM stack on a GKE cluster llmserve
// creates: GKE Inference Gateway (serving.routing's default there, stacks/routing_default.go).
// Stacks that keep a Service (JetStream, existing clusters, a written exposure cluster) are
// measured with -routing service. Connections and lifetime only matter then, and keep the
// service's defaults so that -routing service alone means the same as before.
var DefaultRouting = Routing{Mode: RoutingGateway, Connections: DefaultConnections, ConnectionLifetime: DefaultConnectionLifetime}

// EPPWeights are the endpoint picker's scorer weights in its default configuration:
// queue-scorer 2, kv-cache-utilization-scorer 2, prefix-cache-scorer 3, no filters, and the
// max-score-picker with random tie-breaking (kubernetes-sigs/gateway-api-inference-extension
// pkg/epp/config/loader/defaults.go loadDefaultConfig at 0c8fd519270ebd8422e0bbbfc03ac4d91fc2f1b0,
// and the same weights in the inferencepool chart's config/charts/inferencepool/templates/
// epp-config.yaml at 0ae94dfbf9dcdf8b7f42bc74e849239c7b8f020a).
//
// The queue scorer gives (max-q)/(max-min) over the candidates' vllm:num_requests_waiting
// (1 to all when equal), the KV-cache scorer 1 - vllm:kv_cache_usage_perc
// (pkg/epp/scheduling/framework/plugins/scorer/queue.go and kvcache_utilization.go at
// 02308be307b248a4ce2e908d34945178468f3f39). The prefix-cache scorer scores the share of a
// prompt's prefix a replica has cached; the lab's requests carry no prompt text, so it is
// the same for every replica and does not change the choice.
//
// Assumptions: the picker sees each replica's state at the request's arrival (it refreshes
// metrics every 50 ms, --refresh-metrics-interval); no request is shed (its saturation
// detector sheds only requests of negative priority, and the lab's have none); when no
// replica is ready the request is refused, as the picker answers 503 without its
// flowControl feature gate, which llmserve does not turn on (Sim.routeOne).
var EPPWeights = struct{ Queue, KVCache, Prefix float64 }{Queue: 2, KVCache: 2, Prefix: 3}

// ParseRoutingMode reads a -routing value.
func ParseRoutingMode(s string) (RoutingMode, error) {
	for _, m := range RoutingModes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("routing %q: want one of %v", s, RoutingModes)
}

// Validate says what is wrong with r, naming the flag that sets it.
func (r Routing) Validate() error {
	if _, err := ParseRoutingMode(string(r.Mode)); err != nil {
		return err
	}
	if r.Mode == RoutingService && r.Connections < 1 {
		return fmt.Errorf("routing service: connections %d: want at least 1 (-connections)", r.Connections)
	}
	if r.ConnectionLifetime < 0 {
		return fmt.Errorf("routing: connection lifetime %s: want 0 (never) or more (-connection-lifetime)", r.ConnectionLifetime)
	}
	return nil
}

// router picks a replica for each request under a Routing.
type router struct {
	Routing
	rng   *rand.Rand // its own, so that routing leaves the ingestion delays as they were
	conns []conn
}

// conn is one client connection: the pod kube-proxy sent it to ("" before it first opens)
// and when it closes (0: never).
type conn struct {
	pod    string
	closes time.Duration
}

func newRouter(r Routing, seed uint64) (*router, error) {
	if r == (Routing{}) {
		r = DefaultRouting
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("lab sim: %w", err)
	}
	rt := &router{Routing: r, rng: rand.New(rand.NewPCG(seed^0x5e41ce, seed))}
	if r.Mode == RoutingService {
		rt.conns = make([]conn, r.Connections)
	}
	return rt, nil
}

// endpoint is what routing sees of a ready replica when a request arrives.
type endpoint struct {
	name    string
	waiting int     // requests in its queue
	kvCache float64 // vllm:kv_cache_usage_perc
}

// pick returns the index in ready (not empty, in a stable order) of the replica that gets a
// request arriving at now.
func (rt *router) pick(now time.Duration, ready []endpoint) int {
	if rt.Mode == RoutingGateway {
		return rt.eppPick(ready)
	}
	c := &rt.conns[rt.rng.IntN(len(rt.conns))]
	i := indexOf(ready, c.pod)
	if i < 0 || (c.closes > 0 && now >= c.closes) {
		i = rt.rng.IntN(len(ready))
		c.pod, c.closes = ready[i].name, 0
		if rt.ConnectionLifetime > 0 {
			c.closes = now + max(1, time.Duration(rt.rng.ExpFloat64()*float64(rt.ConnectionLifetime)))
		}
	}
	return i
}

// eppPick scores every candidate as the endpoint picker's default profile does and returns
// the best, ties broken at random.
func (rt *router) eppPick(ready []endpoint) int {
	minQ, maxQ := math.MaxInt, math.MinInt
	for _, e := range ready {
		minQ, maxQ = min(minQ, e.waiting), max(maxQ, e.waiting)
	}
	var best []int
	bestScore := math.Inf(-1)
	for i, e := range ready {
		q := 1.0
		if maxQ > minQ {
			q = float64(maxQ-e.waiting) / float64(maxQ-minQ)
		}
		score := EPPWeights.Queue*q + EPPWeights.KVCache*(1-e.kvCache) // + Prefix x the same for all
		switch {
		case score > bestScore+1e-12:
			best, bestScore = []int{i}, score
		case score >= bestScore-1e-12:
			best = append(best, i)
		}
	}
	return best[rt.rng.IntN(len(best))]
}

func indexOf(es []endpoint, name string) int {
	for i, e := range es {
		if e.name == name {
			return i
		}
	}
	return -1
}
