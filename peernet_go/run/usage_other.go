//go:build !unix

package run

import "time"

// processCPU is not known here.
func processCPU() time.Duration { return 0 }

// maxRSS is not known here.
func maxRSS() int64 { return 0 }
