package modeltest_test

import (
	"testing"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/inference/modeltest"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// A model author's test runs the kit with inputs the model accepts.
func ExampleRun() {
	var t *testing.T // the test's *testing.T
	modeltest.Run(t, inference.Echo{}, inference.Input{Data: []byte(`{"x":1}`), Encoding: media.JSON})
}
