//go:build race

package goplugin

// raceEnabled reports whether this program was built with -race; a plugin
// must be built the same way.
const raceEnabled = true
