package lab

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestImageCacheSkipsPullOnANodeThatHasTheImage: the first pod on a node pulls the whole
// image; a pod started there during that pull waits what is left of it; one started after
// it waits nothing, whichever pod pulled (a placeholder running the server image counts);
// another node, or the same name after the node was removed, pulls again.
func TestImageCacheSkipsPullOnANodeThatHasTheImage(t *testing.T) {
	const img, other = "vllm/vllm-tpu:v1", "busybox"
	pull := 146 * time.Second
	var c ImageCache
	require.Equal(t, pull, c.Pull("n1", img, 10*time.Second, pull))
	require.False(t, c.Has("n1", img, 100*time.Second))
	require.Equal(t, 56*time.Second, c.Pull("n1", img, 100*time.Second, pull), "joins the pull in progress")
	require.True(t, c.Has("n1", img, 156*time.Second))
	require.Equal(t, time.Duration(0), c.Pull("n1", img, 600*time.Second, pull))
	require.Equal(t, pull, c.Pull("n1", other, 600*time.Second, pull), "another image is pulled")
	require.Equal(t, pull, c.Pull("n2", img, 600*time.Second, pull), "another node pulls")
	// A placeholder pulled the server image on n3; a replica that preempts it skips the pull.
	c.Pull("n3", img, 0, pull)
	require.Equal(t, time.Duration(0), c.Pull("n3", img, pull, pull))
	c.Forget(map[string]bool{"n2": true, "n3": true})
	require.Equal(t, pull, c.Pull("n1", img, 700*time.Second, pull), "n1 was removed and came back empty")
}

// TestColdStartWithoutPull: on a node that holds the image a replica serves sooner by the
// whole pull, 146 s for the default 19.5 GB image at 0.134 GB/s.
func TestColdStartWithoutPull(t *testing.T) {
	c := DefaultColdStart(16)
	require.InDelta(t, 145.5, c.Pull().Seconds(), 0.5)
	for _, warm := range []bool{false, true} {
		require.Equal(t, c.Pull(), c.Duration(warm)-c.On(warm, 0))
		require.Equal(t, c.Duration(warm), c.On(warm, c.Pull()))
	}
	require.Equal(t, time.Duration(0), ColdStart{ImageGB: 19.5}.Pull(), "no pull throughput: no pull modelled")
}
