package udp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/network"
)

// Authenticated datagrams. With a pre-shared key (the udp section's key or
// key_file) every datagram sets FlagAuth in the fragment header and ends
// with a trailer: the sender's session, a random number chosen when its
// Conn opened, then a tag — HMAC-SHA-256 under the key of everything
// before it (header, fragment bytes and session), truncated to TagSize
// bytes:
//
//	header (16, flags FlagAuth) | fragment bytes | session (8) | tag (16)
//
// The receiver checks the tag before anything else, in constant time,
// and drops a datagram whose tag is missing or wrong before it reaches
// reassembly or the per-sender accounting (Stats.BadTags). It then
// refuses replays: per session it remembers which of the last 1024
// message ids were delivered, and drops a datagram of a delivered message
// that comes from another address than the session's (Stats.Replays) —
// a copy from the same address is a network duplicate, counted as one by
// reassembly — and one of a message older than that window, from any
// address. This is integrity and origin, as OWAMP's authenticated mode
// gives; the frames still travel in the clear.
const (
	// FlagAuth marks an authenticated datagram in the fragment header's
	// flags.
	FlagAuth = 0x01
	// TagSize is the length of a datagram's truncated HMAC-SHA-256 tag.
	TagSize = 16
	// SessionSize is the length of the sender's session in the trailer.
	SessionSize = 8
	// TrailerSize is what authentication adds to every datagram.
	TrailerSize = SessionSize + TagSize
	// MinKeySize is the shortest pre-shared key accepted, in bytes.
	MinKeySize = 16
	// MaxKeySize is the longest pre-shared key accepted, in bytes.
	MaxKeySize = 1024
	// maxSessions bounds the sessions whose replay windows are kept; the
	// one heard from least recently is forgotten first.
	maxSessions = 1024
)

// ErrBadTag reports a datagram whose authentication tag is missing or
// does not verify under the configured key.
var ErrBadTag = errors.New("udp: bad authentication tag")

// parseKey checks a pre-shared key: the text of the key option, or the
// key lines of a key file, which must be exactly one. The key is that
// text's bytes, between MinKeySize and MaxKeySize of them.
func parseKey(lines []network.KeyLine) ([]byte, error) {
	switch {
	case len(lines) == 0:
		return nil, errors.New("no key in it")
	case len(lines) > 1:
		return nil, fmt.Errorf("line %d: a second key; a key file holds one", lines[1].Line)
	}
	return checkKey(lines[0].Text)
}

func checkKey(k string) ([]byte, error) {
	switch {
	case len(k) < MinKeySize:
		return nil, fmt.Errorf("%d bytes, shorter than %d (peernet keygen --psk FILE writes a good one)", len(k), MinKeySize)
	case len(k) > MaxKeySize:
		return nil, fmt.Errorf("%d bytes, longer than %d", len(k), MaxKeySize)
	case strings.TrimSpace(k) != k || strings.ContainsAny(k, "\n\x00"):
		return nil, errors.New("has surrounding white space, a newline or a NUL byte")
	}
	return []byte(k), nil
}

// NewKey returns a fresh random pre-shared key: 32 bytes from
// crypto/rand, as 64 hexadecimal digits.
func NewKey() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("udp: new key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// WriteKey writes key to path as a key file for key_file (mode 0600). It
// refuses, with network.ErrKeyExists, to replace a file unless force is
// set.
func WriteKey(path, key string, force bool) error {
	return network.WriteKeyFile(path, []byte("# peernet udp pre-shared key; keep it private\n"+key+"\n"), 0o600, force)
}

// authenticator tags and checks datagrams under one key. Each goroutine
// (Send's, Recv's) has its own: an HMAC is not safe for concurrent use.
type authenticator struct {
	mac hash.Hash
	sum []byte
}

func newAuthenticator(key []byte) *authenticator {
	return &authenticator{mac: hmac.New(sha256.New, key), sum: make([]byte, 0, sha256.Size)}
}

// tag returns the truncated tag of b, in a buffer reused by the next call.
func (a *authenticator) tag(b []byte) []byte {
	a.mac.Reset()
	a.mac.Write(b)
	a.sum = a.mac.Sum(a.sum[:0])
	return a.sum[:TagSize]
}

// seal appends session and the tag of the datagram d (whose header sets
// FlagAuth) to d.
func (a *authenticator) seal(d []byte, session uint64) []byte {
	d = binary.LittleEndian.AppendUint64(d, session)
	return append(d, a.tag(d)...)
}

// open checks the trailer of datagram d and returns d without it, and the
// sender's session. It allocates nothing. The flags are checked by the
// fragment decoder, after open.
func (a *authenticator) open(d []byte) (body []byte, session uint64, err error) {
	if len(d) < HeaderSize+TrailerSize {
		return nil, 0, fmt.Errorf("%w: %d bytes, shorter than a header and a trailer", ErrBadTag, len(d))
	}
	n := len(d) - TagSize
	if subtle.ConstantTimeCompare(a.tag(d[:n]), d[n:]) != 1 {
		return nil, 0, ErrBadTag
	}
	return d[:n-SessionSize], binary.LittleEndian.Uint64(d[n-SessionSize:]), nil
}

// replayFilter keeps, per sender session, the message ids delivered
// lately and the address they came from.
type replayFilter struct {
	sessions map[uint64]*replayWindow
	tick     uint64
}

// replayWindow is one session's record: the highest id delivered and,
// as a ring of bits, which of the windowBits ids up to it were.
type replayWindow struct {
	addr     netip.AddrPort
	started  bool
	highest  uint32
	bits     [windowBits / 64]uint64
	lastTick uint64
}

func newReplayFilter() *replayFilter {
	return &replayFilter{sessions: map[uint64]*replayWindow{}}
}

// replay reports whether a datagram of message id, in session, from addr
// is a replay: its message was delivered already and addr is not the
// session's, or it is older than the window.
func (r *replayFilter) replay(session uint64, id uint32, addr netip.AddrPort) bool {
	w := r.sessions[session]
	if w == nil || !w.started {
		return false
	}
	d := int32(id - w.highest)
	switch {
	case d > 0:
		return false
	case -d >= windowBits:
		return true
	}
	i, m := bit(id)
	return w.bits[i]&m != 0 && addr != w.addr
}

// delivered records that message id of session, from addr, was delivered;
// addr becomes the session's address.
func (r *replayFilter) delivered(session uint64, id uint32, addr netip.AddrPort) {
	r.tick++
	w := r.sessions[session]
	if w == nil {
		if len(r.sessions) >= maxSessions {
			var oldest, tick uint64
			first := true
			for s, q := range r.sessions {
				if first || q.lastTick < tick {
					oldest, tick, first = s, q.lastTick, false
				}
			}
			delete(r.sessions, oldest)
		}
		w = &replayWindow{}
		r.sessions[session] = w
	}
	w.lastTick, w.addr = r.tick, addr
	if !w.started {
		w.started, w.highest = true, id
	}
	d := int32(id - w.highest)
	switch {
	case d > 0:
		if d >= windowBits {
			w.bits = [windowBits / 64]uint64{}
		} else {
			for skipped := w.highest + 1; skipped != id; skipped++ {
				i, m := bit(skipped)
				w.bits[i] &^= m
			}
		}
		w.highest = id
	case -d >= windowBits:
		return
	}
	i, m := bit(id)
	w.bits[i] |= m
}
