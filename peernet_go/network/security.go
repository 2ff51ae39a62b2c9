package network

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// Security is what a Conn's peer authentication did since the Conn was
// opened: the protection in force and what it refused. Each transport
// fills in the counters that apply to it and leaves the others zero.
type Security struct {
	// Mode names the protection in force, such as "curve" (zmq-tcp),
	// "hmac-sha256" (udp), "password+acl" or "tls+password+acl" (mqtt
	// with an embedded broker); "" means none: anyone who can reach the
	// port may send frames, and the frames travel in the clear.
	Mode string
	// Refused counts peers refused when they connected: CURVE keys not
	// on the allow-list, anonymous MQTT clients, wrong passwords.
	Refused uint64
	// Denied counts operations of connected peers that an access rule
	// refused, such as an MQTT client publishing on another client's
	// topic or subscribing to "#".
	Denied uint64
	// BadTags counts datagrams dropped because their authentication tag
	// was missing or did not verify.
	BadTags uint64
	// Replays counts authenticated datagrams dropped as replays of ones
	// already received.
	Replays uint64
}

// SecurityReporter is an optional capability of a Conn whose transport
// authenticates its peers. The server's summary reads it at the end of a
// run to report what was refused:
//
//	if s, ok := conn.(network.SecurityReporter); ok {
//		sec := s.Security()
//		fmt.Printf("security %s: %d refused, %d denied\n", sec.Mode, sec.Refused, sec.Denied)
//	}
//
// Every Conn of zmq, mqtt and udp implements it, also when no protection
// is configured (Mode is then "").
type SecurityReporter interface {
	Security() Security
}

// IsLoopback reports whether a listener on addr (host:port, or a bare
// host) can only be reached from this machine: its host is "localhost"
// or a loopback address, or a name all of whose addresses are loopback.
// An empty host, "*", an unspecified address ("0.0.0.0", "::"), any other
// address, or a name that does not resolve (within a second) is not.
func IsLoopback(ctx context.Context, addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.IsLoopback()
	}
	if host == "" || host == "*" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return false
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false
		}
	}
	return true
}
