package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/inference/onnx"
	"github.com/peernet/peernet_go/peernet_go/rosbag"
)

// openONNX opens --model-name onnx:PATH.
func openONNX(o options) (inference.Model, error) {
	path := strings.TrimPrefix(o.modelName, onnx.Prefix)
	opts := onnx.Options{Library: o.ortLib}
	if dev := strings.ToLower(o.device); dev != "" && dev != "cpu" {
		// --device picks the execution provider: cuda, cuda:N or tensorrt.
		spec, _, err := onnx.FindSpec(path, "")
		if err != nil {
			return nil, fmt.Errorf("-model-name %s: %w", o.modelName, err)
		}
		spec.Provider, _, _ = strings.Cut(dev, ":")
		opts.Spec = &spec
	}
	m, err := onnx.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("-model-name %s: %w", o.modelName, err)
	}
	return m, nil
}

// bagCmd inspects rosbag2 recordings: peernet bag info BAG.
func bagCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "info" {
		return usagef("bag needs a subcommand: peernet bag info BAG")
	}
	fs := newFlagSet("bag info", "bag info BAG (a rosbag2 directory, .db3 or .mcap file)", stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if fs.NArg() != 1 {
		return usagef("bag info needs one bag")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := rosbag.Open(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	defer b.Close()
	return rosbag.WriteInfo(stdout, b.Info())
}
