// Command peernet profiles the loop of a networked robot: a client (edge)
// samples a sensor and sends each sample to a server (cloud) that runs
// inference and replies; every stage is timed.
//
// Usage:
//
//	peernet server --name cloud --network-config net.yaml [--model-name dummy]
//	peernet client --name edge --network-config net.yaml --sensor-type random-bytes --iterations 1000 --result-loc results/run1
//	peernet bench  [client and server options]   both ends in one process over loopback
//	peernet plot DIR                              histograms of an existing results directory
//	peernet summarize DIR                         rebuild a killed run's summary from its records
//	peernet bag info BAG                          what a rosbag2 recording holds
//	peernet baseline serve|ping                   raw transport ping-pong, no profiler
//	peernet version
//
// PEERNet's own spelling is accepted too: peernet --client --name edge ...
// and peernet --server ... --model_name custom_model::custom_object.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError marks errors in how the command was called: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// command is one subcommand.
type command struct {
	summary string
	fn      func(args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"server":    {"answer requests with an inference model", serverCmd},
		"client":    {"sample a sensor, send, time every stage", clientCmd},
		"bench":     {"client and server in one process over loopback", benchCmd},
		"fleet":     {"N edges at once against one server", fleetCmd},
		"sweep":     {"find the load a server takes within a latency budget", sweepCmd},
		"plot":      {"write histograms for a results directory", plotCmd},
		"summarize": {"rebuild the summary of a results directory from its records", summarizeCmd},
		"bag":       {"inspect rosbag2 recordings (bag info BAG)", bagCmd},
		"baseline":  {"raw transport ping-pong without the profiler", baselineCmd},
		"matrix":    {"compare transports × payload sizes on loopback", matrixCmd},
		"merge":     {"pool results directories into exact percentiles", mergeCmd},
		"report":    {"write an HTML (or Markdown, JSON) report of runs, and compare them", reportCmd},
		"keygen":    {"write CURVE key pairs and udp pre-shared keys", keygenCmd},
		"version":   {"print the version", versionCmd},
	}
}

// runMain executes the command line and returns the exit status.
func runMain(args []string, stdout, stderr io.Writer) int {
	err := dispatch(args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	}
	fmt.Fprintln(stderr, "peernet: "+oneLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

var errHelp = errors.New("help requested")

func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUsage(stderr)
		return usagef("no command given")
	}
	cmds := commands()
	if c, ok := cmds[args[0]]; ok {
		return c.fn(args[1:], stdout, stderr)
	}
	if isHelp(args[0]) {
		printUsage(stdout)
		return errHelp
	}
	if role, rest, ok := legacyRole(args); ok { // PEERNet: peernet --client ... / --server ...
		return cmds[role].fn(rest, stdout, stderr)
	}
	printUsage(stderr)
	return usagef("unknown command %q", args[0])
}

// legacyRole recognises PEERNet's spelling, flags first with --client or
// --server among them, and returns the matching command and the other
// arguments. PEERNet's default role is server.
func legacyRole(args []string) (role string, rest []string, ok bool) {
	if !strings.HasPrefix(args[0], "-") {
		return "", nil, false
	}
	role = "server"
	for _, a := range args {
		switch a {
		case "--client", "-client":
			role = "client"
			continue
		case "--server", "-server":
			continue
		}
		rest = append(rest, a)
	}
	return role, rest, true
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `peernet profiles the sense → upload → infer → download loop of a networked robot.

Usage: peernet <command> [options]

Commands:
`)
	for _, name := range []string{"server", "client", "bench", "fleet", "sweep", "plot", "summarize", "bag", "baseline", "matrix", "merge", "report", "keygen", "version"} {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands()[name].summary)
	}
	fmt.Fprint(w, `
Run "peernet <command> -h" for a command's options.

Examples:
  peernet bench --iterations 2000 --sensor-type random-string --sensor-size 1024 --result-loc /tmp/r
  peernet server --name cloud --network-config config/network.yaml
  peernet client --name edge --network-config config/network.yaml --iterations 1000 --result-loc results/edge
`)
}

// oneLine keeps an error message on one line; a cut is marked.
func oneLine(s string) string {
	first := errline.First(s)
	if first != strings.TrimSpace(s) {
		first += " …"
	}
	return first
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"
