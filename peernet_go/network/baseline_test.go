package network

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPingCheck(t *testing.T) {
	for _, tc := range []struct {
		p    Ping
		want string
		to   time.Duration
	}{
		{Ping{Payload: make([]byte, 10), ReplySize: 10}, "", DefaultPingTimeout},
		{Ping{Timeout: time.Second}, "", time.Second},
		{Ping{ReplySize: -1}, "reply size -1 out of range [0, 10]", 0},
		{Ping{ReplySize: 11}, "reply size 11 out of range [0, 10]", 0},
		{Ping{Payload: make([]byte, 11)}, "payload of 11 bytes exceeds max_frame 10", 0},
		{Ping{Timeout: -time.Second}, "timeout -1s is negative", 0},
	} {
		to, err := tc.p.Check(10)
		if tc.want != "" {
			if err == nil || err.Error() != tc.want {
				t.Errorf("%+v: error %v, want %q", tc.p, err, tc.want)
			}
			continue
		}
		if err != nil || to != tc.to {
			t.Errorf("%+v: %v, %v; want %v", tc.p, to, err, tc.to)
		}
	}
}

func TestRunPing(t *testing.T) {
	ctx := context.Background()
	dialled, closed, trips := 0, 0, 0
	dial := func(context.Context, Ping) (*RawClient, error) {
		dialled++
		return &RawClient{
			Addr: "x:1",
			RoundTrip: func() error {
				if trips++; trips == 3 {
					return errors.New("lost")
				}
				return nil
			},
			Close: func() { closed++ },
		}, nil
	}
	if _, err := RunPing(ctx, "t", Ping{}, dial); err == nil || err.Error() != "t raw ping: iterations: 0, want > 0" || dialled != 0 {
		t.Errorf("no iterations: %v (dialled %d)", err, dialled)
	}
	rtts, err := RunPing(ctx, "t", Ping{Iterations: 2}, dial)
	if err != nil || len(rtts) != 2 || closed != 1 {
		t.Errorf("2 iterations: %d, %v, closed %d", len(rtts), err, closed)
	}
	rtts, err = RunPing(ctx, "t", Ping{Iterations: 5}, dial)
	if err == nil || err.Error() != "t raw ping x:1: iteration 0: lost" || len(rtts) != 0 || closed != 2 {
		t.Errorf("failing round trip: %d, %v, closed %d", len(rtts), err, closed)
	}
	wantErr := errors.New("t raw ping: refused")
	if _, err := RunPing(ctx, "t", Ping{Iterations: 1}, func(context.Context, Ping) (*RawClient, error) { return nil, wantErr }); !errors.Is(err, wantErr) {
		t.Errorf("dial error: %v", err)
	}
}
