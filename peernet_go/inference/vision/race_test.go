//go:build race

package vision

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts of pooled buffers are not exact.
const raceEnabled = true
