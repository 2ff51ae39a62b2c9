package udp

import (
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"
)

// windowBits is how many message ids below the highest one a peer's
// sequence window remembers, for duplicate and reorder accounting.
const windowBits = 1024

// maxPeers bounds the senders a Conn keeps sequence state for; the one
// heard from least recently is forgotten first.
const maxPeers = 1024

// spareBuffers is how many reassembly buffers are kept for reuse.
const spareBuffers = 2

// Stats count what a Conn's datagrams did since it was opened. Message ids
// are per sender; Lost, Duplicates and Reordered are what the receiving
// end saw of them.
type Stats struct {
	// FragmentsSent counts datagrams sent (those Options.Drop withheld
	// included); FragmentsReceived counts datagrams received, valid or
	// not.
	FragmentsSent, FragmentsReceived uint64
	// MessagesSent counts frames sent; MessagesReceived counts frames
	// received whole (reassembled, when they took several datagrams).
	MessagesSent, MessagesReceived uint64
	// Lost counts message ids skipped by the senders and never received
	// since: frames of which at least one datagram was lost.
	Lost uint64
	// TimedOut counts partly received messages dropped when the
	// reassembly timeout passed.
	TimedOut uint64
	// Evicted counts partly received messages dropped to stay within
	// max_partial or max_partial_bytes.
	Evicted uint64
	// Duplicates counts datagrams received twice, or of a message already
	// received whole; they are dropped.
	Duplicates uint64
	// Reordered counts messages received after a later message of the
	// same sender.
	Reordered uint64
	// Malformed counts datagrams that were not valid fragments.
	Malformed uint64
	// BadTags counts datagrams dropped, with a pre-shared key, because
	// their authentication tag was missing or did not verify.
	BadTags uint64
	// Replays counts authenticated datagrams dropped as replays: of a
	// message already delivered, from another address, or older than
	// the replay window.
	Replays uint64
	// Dropped counts datagrams that Options.Drop withheld.
	Dropped uint64
	// Unreachable counts ICMP port-unreachable reports received by a
	// client (nothing listened at the server's port).
	Unreachable uint64
	// ReadBuffer and WriteBuffer are the socket buffer sizes in bytes,
	// as the kernel reports them.
	ReadBuffer, WriteBuffer int
}

// counters are a Conn's Stats, updated as it goes.
type counters struct {
	fragmentsSent, fragmentsReceived atomic.Uint64
	messagesSent, messagesReceived   atomic.Uint64
	lost                             atomic.Int64
	timedOut, evicted                atomic.Uint64
	duplicates, reordered            atomic.Uint64
	malformed, dropped, unreachable  atomic.Uint64
	badTags, replays                 atomic.Uint64
	readBuffer, writeBuffer          atomic.Int64
}

func (c *counters) stats() Stats {
	return Stats{
		FragmentsSent: c.fragmentsSent.Load(), FragmentsReceived: c.fragmentsReceived.Load(),
		MessagesSent: c.messagesSent.Load(), MessagesReceived: c.messagesReceived.Load(),
		Lost:     uint64(max(0, c.lost.Load())),
		TimedOut: c.timedOut.Load(), Evicted: c.evicted.Load(),
		Duplicates: c.duplicates.Load(), Reordered: c.reordered.Load(),
		Malformed: c.malformed.Load(), Dropped: c.dropped.Load(), Unreachable: c.unreachable.Load(),
		BadTags: c.badTags.Load(), Replays: c.replays.Load(),
		ReadBuffer: int(c.readBuffer.Load()), WriteBuffer: int(c.writeBuffer.Load()),
	}
}

// peerState is the sequence accounting of one sender.
type peerState struct {
	name     string // Frame.Peer: the address, as a string
	started  bool
	first    uint32 // the first id heard
	highest  uint32 // the highest id completed
	window   [windowBits / 64]uint64
	lastTick uint64
}

// bit returns the word and mask of id in the ring window.
func bit(id uint32) (int, uint64) { return int(id%windowBits) / 64, 1 << (id % 64) }

// seen reports whether message id was already received whole.
func (p *peerState) seen(id uint32) bool {
	if !p.started {
		return false
	}
	d := int32(id - p.highest)
	if d > 0 || -d >= windowBits {
		return d == 0
	}
	w, m := bit(id)
	return p.window[w]&m != 0
}

// complete records that message id was received whole, counting the ids
// it skips as lost and a late id as reordered.
func (p *peerState) complete(id uint32, st *counters) {
	if !p.started {
		p.started, p.first, p.highest = true, id, id
		w, m := bit(id)
		p.window[w] |= m
		return
	}
	d := int32(id - p.highest)
	switch {
	case d > 0:
		st.lost.Add(int64(d - 1))
		if d >= windowBits {
			p.window = [windowBits / 64]uint64{}
		} else {
			for skipped := p.highest + 1; skipped != id; skipped++ {
				w, m := bit(skipped)
				p.window[w] &^= m
			}
		}
		p.highest = id
		w, m := bit(id)
		p.window[w] |= m
	case -d < windowBits:
		st.reordered.Add(1)
		if int32(id-p.first) > 0 {
			st.lost.Add(-1) // it was counted as lost when a later id arrived
		}
		w, m := bit(id)
		p.window[w] |= m
	default:
		st.reordered.Add(1) // older than the window: counted, not tracked
	}
}

// msgKey identifies a message being reassembled.
type msgKey struct {
	peer netip.AddrPort
	id   uint32
}

// partial is a message being reassembled.
type partial struct {
	key          msgKey
	started      time.Time
	total, count int
	got          int
	have         []uint64 // bit i: fragment i received
	buf          []byte
}

// reassembler puts fragments back together, within a memory cap, and keeps
// each sender's sequence accounting. It is used by one goroutine (Recv's);
// only its counters are shared.
type reassembler struct {
	maxTotal, maxPartial, maxBytes int
	timeout                        time.Duration
	st                             *counters

	partials map[msgKey]*partial
	order    []*partial // oldest first
	bytes    int        // capacity of the partials' buffers
	spare    [][]byte

	peers map[netip.AddrPort]*peerState
	tick  uint64
}

func newReassembler(o *Options, st *counters) *reassembler {
	return &reassembler{
		maxTotal: o.MaxFrame, maxPartial: o.MaxPartial, maxBytes: o.MaxPartialBytes,
		timeout: o.ReassemblyTimeout, st: st,
		partials: map[msgKey]*partial{}, peers: map[netip.AddrPort]*peerState{},
	}
}

// peer returns the state of sender addr, making room for it if needed.
func (r *reassembler) peer(addr netip.AddrPort) *peerState {
	r.tick++
	p := r.peers[addr]
	if p == nil {
		if len(r.peers) >= maxPeers {
			var oldest netip.AddrPort
			first := true
			var tick uint64
			for a, q := range r.peers {
				if first || q.lastTick < tick {
					oldest, tick, first = a, q.lastTick, false
				}
			}
			delete(r.peers, oldest)
		}
		p = &peerState{name: addr.String()}
		r.peers[addr] = p
	}
	p.lastTick = r.tick
	return p
}

// add takes fragment f from addr, received at now. When f completes a
// message it returns the message's bytes and whether they are a reassembly
// buffer (to be given back with release once used) rather than f.data.
func (r *reassembler) add(addr netip.AddrPort, ps *peerState, f *fragment, now time.Time) (msg []byte, owned bool, err error) {
	if len(r.order) > 0 {
		r.expire(now)
	}
	if ps.seen(f.id) {
		r.st.duplicates.Add(1)
		return nil, false, nil
	}
	if f.count == 1 {
		ps.complete(f.id, r.st)
		return f.data, false, nil
	}
	key := msgKey{addr, f.id}
	p := r.partials[key]
	if p == nil {
		if p, err = r.start(key, f, now); p == nil {
			return nil, false, err
		}
	} else if p.total != f.total || p.count != f.count {
		return nil, false, fmt.Errorf("%w: fragment %d of message %d says %d fragments of %d bytes, earlier ones %d of %d",
			ErrFragment, f.index, f.id, f.count, f.total, p.count, p.total)
	}
	w, m := f.index/64, uint64(1)<<(f.index%64)
	if p.have[w]&m != 0 {
		r.st.duplicates.Add(1)
		return nil, false, nil
	}
	p.have[w] |= m
	copy(p.buf[f.offset():], f.data)
	p.got++
	if p.got < p.count {
		return nil, false, nil
	}
	r.remove(p)
	r.bytes -= cap(p.buf)
	ps.complete(f.id, r.st)
	return p.buf, true, nil
}

// start begins reassembling the message of f, evicting the oldest partial
// messages while the caps would be exceeded.
func (r *reassembler) start(key msgKey, f *fragment, now time.Time) (*partial, error) {
	for len(r.order) > 0 && (len(r.order) >= r.maxPartial || r.bytes+f.total > r.maxBytes) {
		r.drop(r.order[0])
		r.st.evicted.Add(1)
	}
	if f.total > r.maxBytes { // not reached: Options require max_partial_bytes ≥ max_frame
		r.st.evicted.Add(1)
		return nil, fmt.Errorf("%w: %d-byte message over max_partial_bytes %d", ErrTooLarge, f.total, r.maxBytes)
	}
	p := &partial{
		key: key, started: now, total: f.total, count: f.count,
		have: make([]uint64, (f.count+63)/64), buf: r.buffer(f.total),
	}
	r.partials[key] = p
	r.order = append(r.order, p)
	r.bytes += cap(p.buf)
	return p, nil
}

// expire drops the partial messages older than the reassembly timeout.
func (r *reassembler) expire(now time.Time) {
	for len(r.order) > 0 && now.Sub(r.order[0].started) > r.timeout {
		r.drop(r.order[0])
		r.st.timedOut.Add(1)
	}
}

// drop forgets partial p and keeps its buffer for reuse.
func (r *reassembler) drop(p *partial) {
	r.remove(p)
	r.bytes -= cap(p.buf)
	r.release(p.buf)
}

func (r *reassembler) remove(p *partial) {
	delete(r.partials, p.key)
	for i, q := range r.order {
		if q == p {
			r.order = slices.Delete(r.order, i, i+1)
			break
		}
	}
}

// buffer returns a buffer of n bytes, reusing a spare one when it is big
// enough. Its contents are not cleared: reassembly overwrites every byte.
func (r *reassembler) buffer(n int) []byte {
	for i, b := range r.spare {
		if cap(b) >= n {
			r.spare = slices.Delete(r.spare, i, i+1)
			return b[:n]
		}
	}
	return make([]byte, n)
}

// release keeps b for reuse, if there is room among the spares.
func (r *reassembler) release(b []byte) {
	if b != nil && len(r.spare) < spareBuffers {
		r.spare = append(r.spare, b)
	}
}
