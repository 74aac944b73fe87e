package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTPUZonesOutsideTheTable: the v6e zone table was read for North America and Europe
// only, so a zone it lacks is refused there and accepted elsewhere (it may simply be unread).
func TestTPUZonesOutsideTheTable(t *testing.T) {
	asia := devConfig(t).with("gcp:region", "asia-northeast1").
		with("llmserve:cluster", m{"name": "llm-dev", "zones": []string{"asia-northeast1-b"}}).
		with("llmserve:modelStore", m{"location": "ASIA-NORTHEAST1"})
	mustRun(t, "dev", asia)

	_, err := run(t, "dev", devConfig(t).with("llmserve:cluster", m{"name": "llm-dev", "zones": []string{"us-central1-f"}}))
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), `llmserve:cluster.zones[0] "us-central1-f": TPU v6e is not known to be offered in this zone`)
	}
}
