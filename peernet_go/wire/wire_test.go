package wire

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// cases drive the decoder test, the encoder test and the fuzz seeds.
var cases = []struct {
	name  string
	frame Frame
}{
	{"request", Frame{Kind: Request, Seq: 1, Times: Times{ClientSend: 1_700_000_000_000_000_000}, Encoding: "bytes", Payload: []byte("hello")}},
	{"reply", Frame{
		Kind: Reply, Seq: 1 << 40,
		Times:    Times{ClientSend: 1, ServerRecv: 2, ServerSend: 3, ClientRecv: 4},
		Stages:   Stages{Queue: 5, Preprocess: 6 * time.Microsecond, Inference: 7 * time.Millisecond, Postprocess: 8},
		Encoding: "json", Payload: []byte(`{"label":"dummy"}`),
	}},
	{"probe", Frame{Kind: Probe, Seq: 7, Times: Times{ClientSend: -5}}},
	{"probe-reply", Frame{Kind: ProbeReply, Seq: 7, Times: Times{ClientSend: -5, ServerRecv: 10, ServerSend: 11}}},
	{"bye", Frame{Kind: Bye}},
	{"error", Frame{Kind: Error, Seq: 3, Encoding: "text", Payload: []byte("model failed")}},
	{"image", Frame{Kind: Request, Seq: 9, Encoding: "rgb8:4x2", Payload: make([]byte, 24)}},
}

func TestRoundTrip(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.frame.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != c.frame.Len() {
				t.Fatalf("len %d, Len() %d", len(b), c.frame.Len())
			}
			got, err := Decode(b, 0)
			if err != nil {
				t.Fatal(err)
			}
			assertEqual(t, got, &c.frame)
		})
	}
}

func assertEqual(t *testing.T, got, want *Frame) {
	t.Helper()
	if got.Kind != want.Kind || got.Seq != want.Seq || got.Times != want.Times ||
		got.Stages != want.Stages || got.Encoding != want.Encoding || !bytes.Equal(got.Payload, want.Payload) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	good, _ := (&Frame{Kind: Request, Encoding: "bytes", Payload: []byte("abcdef")}).Marshal()
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
		max  int
		want error
		msg  string
	}{
		{"empty", nil, 0, ErrTruncated, "wire: truncated frame: 0 bytes, header needs 88"},
		{"short header", good[:40], 0, ErrTruncated, "wire: truncated frame: 40 bytes, header needs 88"},
		{"short encoding", good[:90], 0, ErrTruncated, "wire: truncated frame: 90 bytes, header needs 93"},
		{"short payload", good[:len(good)-1], 0, ErrTruncated, "wire: truncated frame: payload has 5 of 6 bytes"},
		{"magic", mut(func(b []byte) []byte { b[0] = 'X'; return b }), 0, ErrMagic, "wire: not a peernet frame: magic 0x584e"},
		{"version", mut(func(b []byte) []byte { b[2] = 9; return b }), 0, ErrVersion, "wire: unsupported frame version: 9 (this build reads version 1)"},
		{"kind", mut(func(b []byte) []byte { b[3] = 0; return b }), 0, ErrKind, "wire: unknown frame kind: 0"},
		{"too large", good, 50, ErrTooLarge, "wire: frame exceeds maximum size: 99 bytes announced, maximum 50"},
		{"huge length", mut(func(b []byte) []byte { b[80], b[81], b[82], b[83] = 0xff, 0xff, 0xff, 0xff; return b }), 0, ErrTooLarge, "wire: frame exceeds maximum size: 4294967388 bytes announced, maximum 67108864"},
		{"trailing", append(bytes.Clone(good), 0), 0, nil, "wire: 1 bytes after the payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in, tt.max)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v is not %v", err, tt.want)
			}
			if err.Error() != tt.msg {
				t.Errorf("message\n got %q\nwant %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	if _, err := (&Frame{}).Marshal(); !errors.Is(err, ErrKind) {
		t.Errorf("zero kind: %v", err)
	}
	long := string(bytes.Repeat([]byte("x"), 256))
	if _, err := (&Frame{Kind: Request, Encoding: long}).Marshal(); err == nil {
		t.Error("256-byte encoding accepted")
	}
}

func TestDecodeReusesEncoding(t *testing.T) {
	b, _ := (&Frame{Kind: Request, Encoding: "jpeg", Payload: []byte{1}}).Marshal()
	var f Frame
	if err := f.Decode(b, 0); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := f.Decode(b, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode of a steady stream allocates %.0f times", allocs)
	}
}

func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := Frame{
			Kind: Kind(rapid.IntRange(1, int(kindEnd)-1).Draw(t, "kind")),
			Seq:  rapid.Uint64().Draw(t, "seq"),
			Times: Times{
				rapid.Int64().Draw(t, "t0"), rapid.Int64().Draw(t, "t1"),
				rapid.Int64().Draw(t, "t2"), rapid.Int64().Draw(t, "t3"),
			},
			Stages: Stages{
				time.Duration(rapid.Int64().Draw(t, "q")), time.Duration(rapid.Int64().Draw(t, "pre")),
				time.Duration(rapid.Int64().Draw(t, "inf")), time.Duration(rapid.Int64().Draw(t, "post")),
			},
			Encoding: rapid.StringN(0, MaxEncodingLen, MaxEncodingLen).Draw(t, "enc"),
			Payload:  rapid.SliceOfN(rapid.Byte(), 0, 4096).Draw(t, "payload"),
		}
		b, err := f.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var g Frame
		if err := g.Decode(b, 0); err != nil {
			t.Fatal(err)
		}
		if g.Kind != f.Kind || g.Seq != f.Seq || g.Times != f.Times || g.Stages != f.Stages ||
			g.Encoding != f.Encoding || !bytes.Equal(g.Payload, f.Payload) {
			t.Fatalf("got %+v, want %+v", g, f)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, c := range cases {
		b, _ := c.frame.Marshal()
		f.Add(b, 0)
		f.Add(b, len(b)-1)
	}
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		max %= 1 << 20
		var fr Frame
		if err := fr.Decode(b, max); err != nil {
			return
		}
		if max > 0 && fr.Len() > max {
			t.Fatalf("accepted %d bytes over maximum %d", fr.Len(), max)
		}
		again, err := fr.Marshal()
		if err != nil {
			t.Fatalf("decoded frame does not re-encode: %v", err)
		}
		var g Frame
		if err := g.Decode(again, max); err != nil {
			t.Fatalf("re-encoded frame does not decode: %v", err)
		}
		if g.Kind != fr.Kind || g.Seq != fr.Seq || g.Times != fr.Times || g.Stages != fr.Stages ||
			g.Encoding != fr.Encoding || !bytes.Equal(g.Payload, fr.Payload) {
			t.Fatalf("round trip changed the frame")
		}
	})
}

func BenchmarkAppendHeader(b *testing.B) {
	f := Frame{Kind: Request, Seq: 1, Encoding: "bytes", Payload: make([]byte, 1024)}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = f.AppendHeader(buf[:0])
	}
}

func BenchmarkDecode(b *testing.B) {
	f := Frame{Kind: Request, Seq: 1, Encoding: "bytes", Payload: make([]byte, 1024)}
	enc, _ := f.Marshal()
	var g Frame
	b.ReportAllocs()
	for b.Loop() {
		if err := g.Decode(enc, 0); err != nil {
			b.Fatal(err)
		}
	}
}
