package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/peernet/peernet_go/peernet_go/rosbag"
)

// bagCmd inspects rosbag2 recordings: peernet bag info BAG.

const bagUsage = `bag info BAG

Prints what a rosbag2 recording holds — a directory with metadata.yaml, a
.db3 or an .mcap file — as ros2 bag info does, without ROS.

Examples:
  peernet bag info recording/
  peernet bag info recording/recording_0.mcap`

func bagCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintf(stdout, "Usage: peernet %s\n", bagUsage)
		return errHelp
	}
	if len(args) == 0 || args[0] != "info" {
		return usagef("bag needs a subcommand: peernet bag info BAG")
	}
	fs := newFlagSet("bag info", bagUsage, stderr)
	if err := parseN(fs, args[1:], 1, "one bag"); err != nil {
		return err
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
