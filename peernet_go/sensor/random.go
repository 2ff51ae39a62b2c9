package sensor

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
)

// seedStream is the PCG stream used with Options.Seed.
const seedStream = 0x9e3779b97f4a7c15

// random is the random-bytes and random-string sensor.
type random struct {
	closer
	pcg    *rand.PCG
	rng    *rand.Rand // draws sizes; shares pcg
	lo, hi int
	buf    []byte // reused across samples
	text   bool
}

var _ Sensor = (*random)(nil)

func openRandom(o Options, text bool) (Sensor, error) {
	lo, hi, err := ParseSize(o.Size)
	if err != nil {
		return nil, err
	}
	pcg := rand.NewPCG(o.Seed, o.Seed^seedStream)
	return &random{pcg: pcg, rng: rand.New(pcg), lo: lo, hi: hi, buf: make([]byte, hi), text: text}, nil
}

// Sample fills the sensor's buffer with fresh random data.
func (r *random) Sample(ctx context.Context) (Sample, error) {
	if err := r.check(ctx); err != nil {
		return Sample{}, err
	}
	n := r.lo
	if r.hi > r.lo {
		n += r.rng.IntN(r.hi - r.lo + 1)
	}
	b := r.buf[:n]
	enc := media.Bytes
	if r.text {
		fillText(r.pcg, b)
		enc = media.Text
	} else {
		fillBytes(r.pcg, b)
	}
	return Sample{Data: b, Encoding: enc, Time: time.Now()}, nil
}

// Close marks the sensor closed.
func (r *random) Close() error {
	r.closed = true
	return nil
}

// fillBytes fills b with random bytes from src, 8 bytes per draw.
func fillBytes(src *rand.PCG, b []byte) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], src.Uint64())
	}
	if i < len(b) {
		v := src.Uint64()
		for ; i < len(b); i++ {
			b[i] = byte(v)
			v >>= 8
		}
	}
}

// fillText fills b with random printable ASCII (' ' to '~') from src, 8
// characters per draw.
func fillText(src *rand.PCG, b []byte) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v := src.Uint64()
		c := b[i : i+8 : i+8]
		c[0] = printable(v)
		c[1] = printable(v >> 8)
		c[2] = printable(v >> 16)
		c[3] = printable(v >> 24)
		c[4] = printable(v >> 32)
		c[5] = printable(v >> 40)
		c[6] = printable(v >> 48)
		c[7] = printable(v >> 56)
	}
	if i < len(b) {
		v := src.Uint64()
		for ; i < len(b); i++ {
			b[i] = printable(v)
			v >>= 8
		}
	}
}

// printable maps the low byte of v onto the 95 printable ASCII characters.
func printable(v uint64) byte { return ' ' + byte((v&0xff)*95>>8) }
