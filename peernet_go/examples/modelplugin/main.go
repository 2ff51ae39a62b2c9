// Command modelplugin is a model packaged as a Go plugin, the Go form of
// PEERNet's "--model-name module::object". Build it with the same Go
// toolchain and module versions as peernet, then name one of its symbols:
//
//	go build -buildmode=plugin -o checksum.so ./peernet_go/examples/modelplugin
//	peernet server ... --model-name ./checksum.so::Model
//	peernet server ... --model-name ./checksum.so::New
//
// The model uses all three stages, which peernet times apart: Preprocess
// checksums the sample, Infer "classifies" it by the checksum, and
// Postprocess encodes the reply as JSON. Run as a program, it only explains
// this.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/media"
)

// features is what preprocessing extracts from a sample.
type features struct {
	Bytes    int    `json:"bytes"`
	Checksum uint32 `json:"crc32"`
}

// result is the model's raw output.
type result struct {
	features
	Label string `json:"label"`
}

// checksum is the model. It keeps no state, so one value serves everyone.
type checksum struct{}

var (
	_ inference.Model         = checksum{}
	_ inference.Preprocessor  = checksum{}
	_ inference.Postprocessor = checksum{}
)

// Preprocess checksums the sample.
func (checksum) Preprocess(ctx context.Context, in inference.Input) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return features{Bytes: len(in.Data), Checksum: crc32.ChecksumIEEE(in.Data)}, nil
}

// Infer labels the sample by the parity of its checksum.
func (checksum) Infer(ctx context.Context, in any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, ok := in.(features)
	if !ok {
		return nil, fmt.Errorf("checksum: input of type %T, want features", in)
	}
	label := "even"
	if f.Checksum%2 == 1 {
		label = "odd"
	}
	return result{features: f, Label: label}, nil
}

// Postprocess encodes the result as JSON.
func (checksum) Postprocess(ctx context.Context, out any) (inference.Output, error) {
	if err := ctx.Err(); err != nil {
		return inference.Output{}, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return inference.Output{}, err
	}
	return inference.Output{Data: b, Encoding: media.JSON}, nil
}

// Model is the model as a plugin variable.
var Model inference.Model = checksum{}

// New is the model as a constructor.
func New() (inference.Model, error) { return checksum{}, nil }

func main() {
	fmt.Fprintln(os.Stderr, errors.New("modelplugin is a Go plugin: build it with go build -buildmode=plugin and load it with --model-name ./modelplugin.so::Model"))
	os.Exit(2)
}
