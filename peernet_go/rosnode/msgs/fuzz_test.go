package msgs

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/cdr"
)

// fuzzDecode checks the decoders' round-trip property on arbitrary input:
// whatever decodes re-encodes, and decodes again to a message that encodes
// to the same bytes (bytes, not values, so that NaNs compare).
func fuzzDecode(f *testing.F, proto cdr.Message) {
	for _, m := range cases() {
		if reflect.TypeOf(m) == reflect.TypeOf(proto) {
			f.Add(cdr.Marshal(m))
			f.Add(cdr.MarshalAppend(nil, m, true))
		}
	}
	f.Add([]byte{0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := newOf(proto)
		if err := cdr.Unmarshal(b, m); err != nil {
			return
		}
		b1 := cdr.Marshal(m)
		again := newOf(proto)
		if err := cdr.Unmarshal(b1, again); err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", proto.TypeName(), err)
		}
		if b2 := cdr.Marshal(again); !bytes.Equal(b1, b2) {
			t.Fatalf("round trip changed %s:\n%+v\n%+v", proto.TypeName(), m, again)
		}
	})
}

func FuzzSample(f *testing.F)           { fuzzDecode(f, &Sample{}) }
func FuzzReply(f *testing.F)            { fuzzDecode(f, &Reply{}) }
func FuzzIterationMetrics(f *testing.F) { fuzzDecode(f, &IterationMetrics{}) }
func FuzzTopicStatistics(f *testing.F)  { fuzzDecode(f, &TopicStatistics{}) }
func FuzzMetricsMessage(f *testing.F)   { fuzzDecode(f, &MetricsMessage{}) }
