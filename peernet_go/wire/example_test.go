package wire_test

import (
	"fmt"

	"github.com/peernet/peernet_go/peernet_go/wire"
)

func Example() {
	req := wire.Frame{Kind: wire.Request, Seq: 42, Encoding: "text", Payload: []byte("sample")}
	req.Times.ClientSend = 1_000
	b, err := req.Marshal()
	if err != nil {
		panic(err)
	}

	got, err := wire.Decode(b, wire.DefaultMaxSize)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Kind, got.Seq, got.Encoding, string(got.Payload), len(b))
	// Output: request 42 text sample 98
}
