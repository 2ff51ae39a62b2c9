package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/peernet/peernet_go/peernet_go/run"
)

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: peernet %s\n\nOptions:\n", strings.TrimSpace(usage))
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, turning flag errors into usage errors. Positional
// arguments are refused.
func parse(fs *flag.FlagSet, args []string) error { return parseN(fs, args, 0, "") }

// parseAtLeast parses args and wants n or more positional arguments,
// described by what.
func parseAtLeast(fs *flag.FlagSet, args []string, n int, what string) error {
	err := parseN(fs, args, -1, what)
	if err == nil && fs.NArg() < n {
		return usagef("%s needs %s", fs.Name(), what)
	}
	return err
}

// parseN parses args and wants exactly n positional arguments (any number
// when n is negative), described by what.
func parseN(fs *flag.FlagSet, args []string, n int, what string) error {
	fs.SetOutput(io.Discard) // the one-line error is printed by runMain
	err := fs.Parse(flagsFirst(fs, args))
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(os.Stderr)
		fs.Usage()
		return errHelp
	case err != nil:
		return usageError{err}
	case n == 0 && fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case n >= 0 && fs.NArg() != n:
		return usagef("%s needs %s", fs.Name(), what)
	}
	return nil
}

// interruptible returns a context cancelled by the first Ctrl-C (or
// SIGTERM); a second one exits at once.
func interruptible(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sig:
		case <-ctx.Done():
			return
		}
		fmt.Fprintln(stderr, "\npeernet: stopping, writing the results (interrupt again to quit at once)")
		cancel()
		<-sig
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(sig); cancel() }
}

func logWriter(quiet bool, stderr io.Writer) io.Writer {
	if quiet {
		return io.Discard
	}
	return stderr
}

func transportNames() []string { return run.TransportNames() }

// flagsFirst moves the flags of args (with their values) before the
// positional arguments, so that flags may follow them, as in
// "report A B -o out.html"; "--" ends the flags.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(append(flags, "--"), append(pos, args[i+1:]...)...)
		case len(a) < 2 || a[0] != '-':
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // Parse reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return append(flags, pos...)
}
