package msgs_test

import (
	"fmt"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/rosnode/msgs"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// A request frame travels the ros2 network as a peernet_msgs/msg/Sample,
// serialized as CDR.
func ExampleSampleFromFrame() {
	f := wire.Frame{Kind: wire.Request, Seq: 7, Encoding: "cdr:sensor_msgs/msg/Image", Payload: []byte{1, 2, 3}}
	s, err := msgs.SampleFromFrame(&f, "edge/3f9c", "edge")
	if err != nil {
		panic(err)
	}
	b := cdr.Marshal(&s) // what the edge publishes

	var got msgs.Sample
	if err := cdr.Unmarshal(b, &got); err != nil {
		panic(err)
	}
	back, err := got.Frame()
	if err != nil {
		panic(err)
	}
	fmt.Println(got.RosType, back.Kind, back.Seq, back.Peer, len(b))
	// Output: sensor_msgs/msg/Image request 7 edge/3f9c 151
}
