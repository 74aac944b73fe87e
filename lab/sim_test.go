package lab

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const waitingMetric = "prometheus.googleapis.com|vllm:num_requests_waiting|gauge"

func testSim(t *testing.T) *Sim {
	t.Helper()
	s, err := NewSim(ServerModel{MaxNumSeqs: 64, TokensPerSecond: 2000, OutputTokens: 200},
		Ingestion{ScrapeInterval: 5 * time.Second, MinDelay: 3 * time.Second, MaxDelay: 7 * time.Second},
		map[string]string{waitingMetric: "vllm:num_requests_waiting"}, 1)
	require.NoError(t, err)
	return s
}

func TestServerModel(t *testing.T) {
	m := ServerModel{MaxNumSeqs: 64, TokensPerSecond: 2000, OutputTokens: 200}
	require.InDelta(t, 10.0, m.Capacity(), 1e-9)
	require.Equal(t, 6400*time.Millisecond, m.ServiceTime())
	require.Equal(t, 3, PredictReplicas(m, 25, 1, 4))
	require.Equal(t, 4, PredictReplicas(m, 35, 1, 4))
	require.Equal(t, 4, PredictReplicas(m, 100, 1, 4), "capped at maxReplicas")
	require.Equal(t, 1, PredictReplicas(m, 0, 1, 4), "at least minReplicas")
}

// Below capacity the queue stays empty; above it, it grows by the excess.
func TestSimQueue(t *testing.T) {
	s := testSim(t)
	var st State
	for range 120 {
		st = s.Step(time.Second, 8, []string{"a"})
	}
	require.InDelta(t, 0, st.Waiting, 1e-6)
	require.InDelta(t, 8*6.4, st.Running, 1, "Little's law: rate x service time")
	for range 60 {
		st = s.Step(time.Second, 15, []string{"a"})
	}
	require.InDelta(t, 60*5, st.Waiting, 40, "grows at rate - capacity")
	for range 30 {
		st = s.Step(time.Second, 15, []string{"a", "b"})
	}
	require.Less(t, st.Waiting, 300.0, "a second replica drains the shared queue")
}

// A value reaches the adapter 3-7 s after its scrape, never at once; a pod that stops being
// ready loses its series.
func TestSimIngestionDelay(t *testing.T) {
	s := testSim(t)
	_, ok := s.PodMetric(waitingMetric, "llm", "a")
	require.False(t, ok)
	s.Step(time.Second, 100, []string{"a"}) // scraped at t=1s
	s.Step(time.Second, 100, []string{"a"})
	_, ok = s.PodMetric(waitingMetric, "llm", "a")
	require.False(t, ok, "visible before the ingestion delay")
	for range 8 {
		s.Step(time.Second, 100, []string{"a"})
	}
	v, ok := s.PodMetric(waitingMetric, "llm", "a")
	require.True(t, ok)
	require.Greater(t, v, 0.0)
	s.Step(time.Second, 100, nil)
	_, ok = s.PodMetric(waitingMetric, "llm", "a")
	require.False(t, ok)
}

func TestSimRejectsUnmodelledMetric(t *testing.T) {
	_, err := NewSim(ServerModel{MaxNumSeqs: 1, TokensPerSecond: 1, OutputTokens: 1},
		Ingestion{ScrapeInterval: time.Second}, map[string]string{"x": "kubernetes.io|node|accelerator|memory_used"}, 1)
	require.ErrorContains(t, err, "not a server gauge")
}
