package clock

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// kernelSyncState reads the kernel's NTP discipline state with adjtimex.
func kernelSyncState() string {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return ""
	}
	synced := "synchronised"
	if state == unix.TIME_ERROR || tx.Status&unix.STA_UNSYNC != 0 {
		synced = "unsynchronised"
	}
	// With ADJ_NANO set the offset is in ns, else in µs; maxerror and
	// esterror are always in µs.
	offset := fmt.Sprintf("%dus", tx.Offset)
	if tx.Status&unix.STA_NANO != 0 {
		offset = fmt.Sprintf("%dns", tx.Offset)
	}
	return fmt.Sprintf("kernel: %s; offset=%s; maxerror=%dus; esterror=%dus", synced, offset, tx.Maxerror, tx.Esterror)
}
