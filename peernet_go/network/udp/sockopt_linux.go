//go:build linux

package udp

import (
	"net"
	"syscall"
)

// setBuffers asks for socket buffers of read and write bytes. Where the
// kernel caps them (net.core.rmem_max, wmem_max) it tries again with
// SO_RCVBUFFORCE and SO_SNDBUFFORCE, which a process with CAP_NET_ADMIN may
// use. It returns the sizes granted: half what the kernel reports, the
// other half being its bookkeeping share.
func setBuffers(c *net.UDPConn, read, write int) (gotRead, gotWrite int) {
	_ = c.SetReadBuffer(read)
	_ = c.SetWriteBuffer(write)
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0
	}
	_ = raw.Control(func(fd uintptr) {
		s := int(fd)
		gotRead = adjust(s, syscall.SO_RCVBUF, syscall.SO_RCVBUFFORCE, read)
		gotWrite = adjust(s, syscall.SO_SNDBUF, syscall.SO_SNDBUFFORCE, write)
	})
	return gotRead, gotWrite
}

func adjust(fd, opt, force, want int) int {
	got, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, opt)
	if err != nil {
		return 0
	}
	if got/2 < want && syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, force, want) == nil {
		if again, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, opt); err == nil {
			got = again
		}
	}
	return got / 2
}
