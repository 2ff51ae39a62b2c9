package clock

import (
	"context"
	"os/exec"
	"strings"
	"time"
)

// SyncState describes whether this machine claims its clock is synchronised:
// chrony's tracking report when chronyc answers, else the kernel's view
// (adjtimex), else "". It takes at most about a second.
func SyncState() string {
	if s := chronyTracking(); s != "" {
		return s
	}
	return kernelSyncState()
}

// chronyTracking returns a one-line digest of `chronyc -n tracking`.
func chronyTracking() string {
	path, err := exec.LookPath("chronyc")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-n", "tracking").Output()
	if err != nil {
		return ""
	}
	var parts []string
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "Reference ID", "Stratum", "System time", "Root dispersion", "Leap status":
			parts = append(parts, strings.ToLower(k)+"="+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "chrony: " + strings.Join(parts, "; ")
}
