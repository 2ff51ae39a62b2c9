//go:build linux

package transporttest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// LAN is an address of this machine that is not loopback, for tests of
// what a transport does when other machines can reach it (see [LANAddr]).
type LAN struct {
	// IP is the address to bind: the near end of a veth pair whose far
	// end lies in a network namespace of the test's own, or else an
	// existing address of this machine's interfaces.
	IP string
	// Far is where a peer dials from: inside the test's namespace, over
	// the veth pair, when there is one; else this machine.
	Far string
	// Dial opens a TCP or UDP connection to address from the far side.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// LANAddr returns an address of this machine that is not loopback, and a
// way to reach it from elsewhere. As root with iproute2 installed it
// makes a network namespace and a veth pair addressed 10.78.X.1 (here)
// and 10.78.X.2 (in the namespace), which t's cleanup removes, so that
// traffic crosses a real link that never leaves the machine. Otherwise it
// takes the first up, non-loopback IPv4 address of this machine's
// interfaces. With neither it skips t, saying why.
func LANAddr(t testing.TB) LAN {
	t.Helper()
	if lan, err := vethLAN(t); err == nil {
		return lan
	} else {
		t.Logf("transporttest: no network namespace (%v); looking for a local address", err)
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Skipf("transporttest: no non-loopback address: %v", err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			ip := ipn.IP.String()
			var d net.Dialer
			return LAN{IP: ip, Far: ip, Dial: d.DialContext}
		}
	}
	t.Skip("transporttest: neither a network namespace (needs root and ip) nor a non-loopback IPv4 address on this machine")
	return LAN{}
}

// vethLAN makes the namespace and veth pair of LANAddr, trying a few
// subnets in case another test took one.
func vethLAN(t testing.TB) (LAN, error) {
	if os.Geteuid() != 0 {
		return LAN{}, fmt.Errorf("not root")
	}
	ipTool, err := exec.LookPath("ip")
	if err != nil {
		return LAN{}, fmt.Errorf("no ip command (apt-get install iproute2)")
	}
	for range 4 {
		lan, err := veth(t, ipTool, rand.IntN(250)+1)
		if err == nil || !strings.Contains(err.Error(), "exists") {
			return lan, err
		}
	}
	return LAN{}, errors.New("no free 10.78.X.0/30 subnet")
}

// veth makes namespace and veth pair number n (10.78.n.0/30).
func veth(t testing.TB, ipTool string, n int) (LAN, error) {
	ns := fmt.Sprintf("pntest%d-%d", os.Getpid()%100000, n)
	near, far := fmt.Sprintf("pnv%da", n), fmt.Sprintf("pnv%db", n)
	nearIP, farIP := fmt.Sprintf("10.78.%d.1", n), fmt.Sprintf("10.78.%d.2", n)
	ip := func(args ...string) error {
		out, err := exec.Command(ipTool, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if err := ip("netns", "add", ns); err != nil {
		return LAN{}, err
	}
	t.Cleanup(func() {
		_ = ip("link", "del", near) // removes both ends; gone already if set-up failed early
		if err := ip("netns", "del", ns); err != nil {
			t.Errorf("transporttest: %v", err)
		}
	})
	for _, args := range [][]string{
		{"link", "add", near, "type", "veth", "peer", "name", far},
		{"link", "set", far, "netns", ns},
		{"addr", "add", nearIP + "/30", "dev", near},
		{"link", "set", near, "up"},
		{"-n", ns, "addr", "add", farIP + "/30", "dev", far},
		{"-n", ns, "link", "set", far, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	} {
		if err := ip(args...); err != nil {
			return LAN{}, err
		}
	}
	nsPath := "/run/netns/" + ns
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		return dialInNetns(ctx, nsPath, network, address)
	}
	// The veth pair takes a moment to come up.
	var last error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if last = pingUDP(dial, nearIP); last == nil {
			return LAN{IP: nearIP, Far: farIP, Dial: dial}, nil
		}
	}
	return LAN{}, fmt.Errorf("veth pair not up: %w", last)
}

// pingUDP checks that the far side can route to ip.
func pingUDP(dial func(context.Context, string, string) (net.Conn, error), ip string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := dial(ctx, "udp", net.JoinHostPort(ip, "9"))
	if err != nil {
		return err
	}
	return c.Close()
}

// dialInNetns dials from inside the network namespace at nsPath: the
// socket is made by a thread that has entered the namespace, and works
// from any thread afterwards.
func dialInNetns(ctx context.Context, nsPath, network, address string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer self.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{nil, fmt.Errorf("setns %s: %w", nsPath, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, address)
		if serr := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); serr != nil && err == nil {
			c.Close()
			err = serr
		}
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}
