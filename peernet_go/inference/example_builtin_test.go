package inference_test

import (
	"context"
	"fmt"
	"log"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/media"
)

func ExampleOpenBuiltin() {
	m, ok, err := inference.OpenBuiltin("dummy:infer=1ms")
	if !ok || err != nil {
		log.Fatal(ok, err)
	}
	e := inference.NewEngine(m)
	defer e.Close()
	out, t, err := e.Run(context.Background(), inference.Input{Data: []byte("sample"), Encoding: media.Bytes})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out.Data), out.Encoding, t.Inference >= 1e6)
	// Output: {"label":"dummy"} json true
}

func ExampleParseDummy() {
	o, err := inference.ParseDummy("dummy:pre=1ms,infer=10ms,post=1ms")
	fmt.Println(o.Preprocess, o.Inference, o.Postprocess, err)
	// Output: 1ms 10ms 1ms <nil>
}
