package clock

import (
	"context"
	"fmt"
	"time"

	"github.com/beevik/ntp"
)

// NTPTimeout bounds one NTP query.
const NTPTimeout = 5 * time.Second

// QueryNTP asks an NTP server ("host" or "host:port") for this machine's
// offset (NTP time minus local time) and bounds its error by the server's
// root distance plus half the round trip. timeout 0 means NTPTimeout.
func QueryNTP(ctx context.Context, server string, timeout time.Duration) (offset, bound time.Duration, err error) {
	if timeout <= 0 || timeout > NTPTimeout {
		timeout = NTPTimeout
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return 0, 0, fmt.Errorf("ntp %s: %w", server, context.DeadlineExceeded)
	}
	resp, err := ntp.QueryWithOptions(server, ntp.QueryOptions{Timeout: timeout})
	if err != nil {
		return 0, 0, fmt.Errorf("ntp %s: %w", server, err)
	}
	if err := resp.Validate(); err != nil {
		return 0, 0, fmt.Errorf("ntp %s: %w", server, err)
	}
	return resp.ClockOffset, resp.RTT/2 + resp.RootDistance, nil
}
