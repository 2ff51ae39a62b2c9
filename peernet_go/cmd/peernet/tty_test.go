package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// onTerminal runs peernet with a real pseudo-terminal as its stdin, stdout
// and stderr (util-linux script) and returns what it drew.
func onTerminal(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("no script(1) to give the command a terminal")
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + a + "'"
	}
	cmd := exec.Command("timeout", "60", "script", "-qfec", "stty cols 200 rows 40; "+peernetBin+" "+strings.Join(quoted, " "), "/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestLiveLine: on a terminal the client draws, below its progress bar,
// one line per second with the window's counts, rtt and one-way delays;
// -quiet draws neither.
func TestLiveLine(t *testing.T) {
	dir := t.TempDir()
	out := onTerminal(t, "bench", "--iterations", "500", "--rate", "200", "--result-loc", filepath.Join(dir, "a"))
	lines := regexp.MustCompile(`\x1b\[2K(window [^\x1b]*)\x1b\[1A`).FindAllStringSubmatch(out, -1)
	if len(lines) < 2 {
		t.Fatalf("%d live lines in a 2.5 s run:\n%q", len(lines), out)
	}
	want := regexp.MustCompile(`^window 1\.0 s: \d+ iterations, \d+ ok(, \d+ (lost|errors|missed))*; rtt p50 [0-9.]+ [µm]s p99 [0-9.]+ [µm]s; upload p50 -?[0-9.]+ [nµm]?s ± 0 s, download p50 -?[0-9.]+ [nµm]?s ± 0 s$`)
	for _, l := range lines {
		if !want.MatchString(l[1]) {
			t.Errorf("live line %q", l[1])
		}
	}
	if !strings.Contains(out, "iterations 100%") {
		t.Errorf("no finished progress bar:\n%q", out)
	}
	quiet := onTerminal(t, "bench", "--iterations", "300", "--rate", "200", "--quiet", "--result-loc", filepath.Join(dir, "b"))
	if strings.Contains(quiet, "window") || strings.Contains(quiet, "iterations") {
		t.Errorf("-quiet drew on the terminal:\n%q", quiet)
	}
}
