package view

import (
	"fmt"
	"sort"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/metrics/window"
)

// about returns the header rows of a run — what produced it — and its
// warnings.
func about(r *Run) (rows [][2]string, warn []string) {
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, [2]string{k, v})
		}
	}
	i := r.Info
	if i == nil {
		add("source", r.Source+" (no run.yaml)")
		if r.Skipped > 0 {
			warn = append(warn, fmt.Sprintf("%d lines could not be read and are left out", r.Skipped))
		}
		return rows, warn
	}
	add("command", strings.Join(i.Command, " "))
	add("transport", i.Transport)
	sensor := i.Sensor.Type
	if len(i.Sensor.Options) > 0 {
		var opts []string
		for k, v := range i.Sensor.Options {
			opts = append(opts, k+"="+v)
		}
		sort.Strings(opts)
		sensor += " (" + strings.Join(opts, ", ") + ")"
	}
	add("sensor", sensor)
	model := i.Model.Name
	if i.Model.Device != "" && model != "" {
		model += " on " + i.Model.Device
	}
	add("model", model)
	add("sample size", i.Sizes.Sample)
	if i.Rate > 0 {
		add("rate", fmt.Sprintf("%g Hz", i.Rate))
	}
	add("hosts", strings.Trim(i.Hosts.Client+" → "+i.Hosts.Server, " →"))
	if !i.Start.IsZero() {
		add("start", i.Start.UTC().Format("2006-01-02 15:04:05 MST"))
		if !i.End.IsZero() && i.End.After(i.Start) {
			add("duration", i.End.Sub(i.Start).Round(100_000_000).String())
		}
	}
	c := i.Clock
	clk := c.Mode
	if c.Mode != "" && c.Mode != "assume-synced" {
		clk += fmt.Sprintf(", offset %s ± %s", window.Seconds(c.Offset.Seconds()), window.Seconds(c.Bound.Seconds()))
	}
	add("clock", clk)
	if !c.Synced && c.Mode != "" {
		warn = append(warn, fmt.Sprintf("one-way delays are unsync: the clock bound %s exceeds %s", window.Seconds(c.Bound.Seconds()), window.Seconds(c.MaxError.Seconds())))
	}
	if c.Mode == "assume-synced" {
		warn = append(warn, "clock assumed synced: one-way delays are only as right as the two clocks")
	}
	if i.Interrupted {
		warn = append(warn, "the run was interrupted")
	}
	if r.Skipped > 0 {
		warn = append(warn, fmt.Sprintf("%d lines could not be read and are left out", r.Skipped))
	}
	add("version", i.Version)
	return rows, warn
}
