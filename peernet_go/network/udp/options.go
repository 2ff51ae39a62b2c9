package udp

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// Defaults of the udp section.
const (
	// DefaultPayloadSize keeps a datagram (frame bytes, fragment header,
	// UDP and IPv4 headers) within a 1500-byte Ethernet MTU.
	DefaultPayloadSize       = 1400
	DefaultMaxFrame          = 16 << 20
	DefaultReassemblyTimeout = time.Second
	DefaultMaxPartial        = 64
	DefaultBuffer            = 4 << 20
	// MinPayloadSize is the smallest payload_size accepted.
	MinPayloadSize = 64
	// MaxPayloadSize is the largest payload_size: a UDP datagram over IPv4
	// less the fragment header.
	MaxPayloadSize = MaxDatagram - HeaderSize
	// maxBuffer bounds read_buffer and write_buffer.
	maxBuffer = 1 << 30
)

// Options is the udp section of the network YAML. Every field is optional;
// the zero value selects the defaults. [Options.Initialize] fills them in
// and validates.
// The package documentation (# Configuration) shows the whole section
// with every key and its default.
type Options struct {
	// Bind is the address the server listens on instead of its device's
	// host, e.g. "0.0.0.0" for every interface. It defaults to the server
	// device's host.
	Bind string `yaml:"bind"`
	// PayloadSize is the most frame bytes one datagram carries; frames
	// longer than this are split into fragments. It defaults to
	// DefaultPayloadSize and lies in [MinPayloadSize, MaxPayloadSize]. The
	// receiver accepts any fragment size.
	PayloadSize int `yaml:"payload_size"`
	// MaxFrame is the largest encoded frame, in bytes, sent or accepted.
	// Send refuses larger frames; the receiver drops fragments that
	// announce larger ones. It defaults to DefaultMaxFrame and may not
	// exceed MaxFragments × PayloadSize.
	MaxFrame int `yaml:"max_frame"`
	// ReassemblyTimeout is how long a frame may take to arrive whole once
	// its first fragment arrived; a frame still missing fragments after
	// it is dropped and counted in Stats.TimedOut. It defaults to
	// DefaultReassemblyTimeout.
	ReassemblyTimeout time.Duration `yaml:"reassembly_timeout"`
	// MaxPartial is the most frames reassembled at once; beyond it the
	// oldest is dropped and counted in Stats.Evicted. It defaults to
	// DefaultMaxPartial.
	MaxPartial int `yaml:"max_partial"`
	// MaxPartialBytes caps the memory of the frames being reassembled;
	// beyond it the oldest are dropped and counted in Stats.Evicted. It
	// defaults to twice MaxFrame and may not be less than MaxFrame.
	MaxPartialBytes int `yaml:"max_partial_bytes"`
	// ReadBuffer and WriteBuffer are the socket buffer sizes asked for
	// (SO_RCVBUF, SO_SNDBUF). The kernel caps them at
	// net.core.rmem_max and wmem_max unless the process may override the
	// caps (CAP_NET_ADMIN); Stats reports the sizes granted. A burst of
	// fragments larger than the receiver's buffer is lost. They default
	// to DefaultBuffer.
	ReadBuffer  int `yaml:"read_buffer"`
	WriteBuffer int `yaml:"write_buffer"`
	// Key is a pre-shared key, between MinKeySize and MaxKeySize bytes of
	// text, that authenticates every datagram: each carries an
	// HMAC-SHA-256 tag, and datagrams whose tag does not verify are
	// dropped before reassembly and counted (see FlagAuth). Both ends
	// need the same key. It defaults to none: datagrams are not
	// authenticated. Prefer KeyFile, which keeps the secret out of the
	// network YAML; give one of the two.
	Key string `yaml:"key"`
	// KeyFile is a file holding the pre-shared key on its one line that
	// is not blank or a "#" comment, such as `peernet keygen --psk FILE`
	// writes. Other users may not read it (chmod 600). Dial and Listen
	// read it. It defaults to none.
	KeyFile string `yaml:"key_file"`

	// Drop, when set, is called for every datagram Send is about to write
	// — fragment index of frame f — and withholds the datagram when it
	// returns true, as a lossy link would. The datagram is counted as
	// sent and in Stats.Dropped. It is for loss experiments and tests, and
	// cannot be set from YAML.
	Drop func(f *wire.Frame, fragment int) bool `yaml:"-"`
}

// LoadOptions decodes the udp section of cfg (unknown keys are an error)
// and initializes it. A config without a udp section gives the defaults.
func LoadOptions(cfg *network.Config) (*Options, error) {
	return network.LoadSection[Options](cfg, "udp")
}

// Initialize fills in defaults and validates o. Its errors name the field.
func (o *Options) Initialize() error {
	if o.PayloadSize == 0 {
		o.PayloadSize = DefaultPayloadSize
	}
	if o.MaxFrame == 0 {
		o.MaxFrame = DefaultMaxFrame
	}
	if o.ReassemblyTimeout == 0 {
		o.ReassemblyTimeout = DefaultReassemblyTimeout
	}
	if o.MaxPartial == 0 {
		o.MaxPartial = DefaultMaxPartial
	}
	if o.MaxPartialBytes == 0 {
		o.MaxPartialBytes = 2 * o.MaxFrame
	}
	if o.ReadBuffer == 0 {
		o.ReadBuffer = DefaultBuffer
	}
	if o.WriteBuffer == 0 {
		o.WriteBuffer = DefaultBuffer
	}
	switch {
	case o.Bind != "" && net.ParseIP(o.Bind) == nil && strings.ContainsAny(o.Bind, ":/ \t[]*"):
		return fmt.Errorf("udp: bind: %q is not an IP address or a host name", o.Bind)
	case o.Key != "" && o.KeyFile != "":
		return errors.New("udp: key, key_file: give one of them, not both")
	case o.PayloadSize < MinPayloadSize || o.PayloadSize > MaxPayloadSize:
		return fmt.Errorf("udp: payload_size: %d out of range [%d, %d]", o.PayloadSize, MinPayloadSize, MaxPayloadSize)
	case o.authenticated() && o.PayloadSize > MaxPayloadSize-TrailerSize:
		return fmt.Errorf("udp: payload_size: %d out of range [%d, %d] (with a key every datagram carries a %d-byte trailer too)",
			o.PayloadSize, MinPayloadSize, MaxPayloadSize-TrailerSize, TrailerSize)
	case o.MaxFrame < wire.FixedHeaderSize || o.MaxFrame > MaxFragments*o.PayloadSize:
		return fmt.Errorf("udp: max_frame: %d out of range [%d, %d] (at most %d fragments of payload_size %d)",
			o.MaxFrame, wire.FixedHeaderSize, MaxFragments*o.PayloadSize, MaxFragments, o.PayloadSize)
	case o.ReassemblyTimeout < time.Millisecond:
		return fmt.Errorf("udp: reassembly_timeout: %v is shorter than 1ms", o.ReassemblyTimeout)
	case o.MaxPartial < 1:
		return fmt.Errorf("udp: max_partial: %d, want at least 1", o.MaxPartial)
	case o.MaxPartialBytes < o.MaxFrame:
		return fmt.Errorf("udp: max_partial_bytes: %d is less than max_frame %d", o.MaxPartialBytes, o.MaxFrame)
	case o.ReadBuffer < 1 || o.ReadBuffer > maxBuffer:
		return fmt.Errorf("udp: read_buffer: %d out of range [1, %d]", o.ReadBuffer, maxBuffer)
	case o.WriteBuffer < 1 || o.WriteBuffer > maxBuffer:
		return fmt.Errorf("udp: write_buffer: %d out of range [1, %d]", o.WriteBuffer, maxBuffer)
	}
	if o.Key != "" {
		if _, err := checkKey(o.Key); err != nil {
			return fmt.Errorf("udp: key: %w", err)
		}
	}
	return nil
}

// authenticated reports whether datagrams carry tags.
func (o *Options) authenticated() bool { return o.Key != "" || o.KeyFile != "" }

// key returns the pre-shared key, reading KeyFile, or nil without one.
func (o *Options) key() ([]byte, error) {
	switch {
	case o.Key != "":
		return checkKey(o.Key)
	case o.KeyFile == "":
		return nil, nil
	}
	lines, err := network.ReadKeyFile(o.KeyFile, true)
	if err != nil {
		return nil, fmt.Errorf("udp: key_file: %w", err)
	}
	k, err := parseKey(lines)
	if err != nil {
		return nil, fmt.Errorf("udp: key_file: %s: %w", o.KeyFile, err)
	}
	return k, nil
}
