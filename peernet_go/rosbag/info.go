package rosbag

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// infoIndent is the width of the field names of `ros2 bag info`.
const infoIndent = 19

// WriteInfo writes info as `ros2 bag info` (Humble) prints it, times in the
// local time zone.
func WriteInfo(w io.Writer, info Info) error {
	return writeInfo(w, info, time.Local)
}

func writeInfo(w io.Writer, info Info, loc *time.Location) error {
	bw := bufio.NewWriter(w)
	field := func(name string) { fmt.Fprintf(bw, "%-*s", infoIndent, name+":") }
	pad := strings.Repeat(" ", infoIndent)

	bw.WriteString("\n")
	field("Files")
	if len(info.RelativeFilePaths) == 0 {
		bw.WriteString("\n")
	}
	for i, p := range info.RelativeFilePaths {
		if i > 0 {
			bw.WriteString(pad)
		}
		bw.WriteString(p + "\n")
	}
	field("Bag size")
	bw.WriteString(formatSize(info.Size) + "\n")
	field("Storage id")
	bw.WriteString(info.StorageID + "\n")
	field("Duration")
	bw.WriteString(formatSeconds(info.Duration.Nanoseconds()) + "s\n")
	field("Start")
	bw.WriteString(formatTimePoint(info.Start, loc) + "\n")
	field("End")
	bw.WriteString(formatTimePoint(info.End(), loc) + "\n")
	field("Messages")
	fmt.Fprintf(bw, "%d\n", info.MessageCount)
	field("Topic information")
	if len(info.Topics) == 0 {
		bw.WriteString("\n")
	}
	for i, t := range info.Topics {
		if i > 0 {
			bw.WriteString(pad)
		}
		fmt.Fprintf(bw, "Topic: %s | Type: %s | Count: %d | Serialization Format: %s\n",
			t.Name, t.Type, t.MessageCount, t.SerializationFormat)
	}
	bw.WriteString("\n")
	return bw.Flush()
}

// formatSize prints a size as rosbag2 does: "345.5 KiB".
func formatSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	size := float64(n)
	i := 0
	for size >= 1024 && i < len(units)-1 {
		size /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", size, units[i])
}

// formatSeconds prints nanoseconds as seconds with nine decimals.
func formatSeconds(ns int64) string {
	sign := ""
	if ns < 0 {
		sign, ns = "-", -ns
	}
	return fmt.Sprintf("%s%d.%09d", sign, ns/1e9, ns%1e9)
}

// formatTimePoint prints "Nov 26 2026 07:24:50.147376008 (1795677890.147376008)".
func formatTimePoint(t time.Time, loc *time.Location) string {
	lt := t.In(loc)
	return fmt.Sprintf("%s %2d %d %s.%09d (%s)", lt.Format("Jan"), lt.Day(), lt.Year(),
		lt.Format("15:04:05"), lt.Nanosecond(), formatSeconds(t.UnixNano()))
}
