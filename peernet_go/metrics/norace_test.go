//go:build !race

package metrics_test

// raceEnabled shortens the long-running tests under the race detector.
const raceEnabled = false
