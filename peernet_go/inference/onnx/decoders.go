package onnx

import (
	"fmt"

	"github.com/peernet/peernet_go/peernet_go/inference/vision"
)

// decoder turns a Result into the reply's JSON, appended to b.
type decoder interface {
	decode(b []byte, r *Result) ([]byte, error)
}

// classifyDecoder reads the first output of the Result (the session
// produces only the scores output).
type classifyDecoder struct {
	c *vision.Classifier
}

func (d *classifyDecoder) decode(b []byte, r *Result) ([]byte, error) {
	if len(r.Outputs) != 1 {
		return b, fmt.Errorf("onnx: classify: want 1 output, got %d", len(r.Outputs))
	}
	return vision.AppendClassesJSON(b, d.c.Decode(r.Outputs[0].Data)), nil
}

// ssdDecoder reads a scores and a boxes output per head.
type ssdDecoder struct {
	d                *vision.SSDDecoder
	scoreIdx, boxIdx []int // indexes into Result.Outputs
	scores, boxes    [][]float32
}

func (d *ssdDecoder) decode(b []byte, r *Result) ([]byte, error) {
	for h := range d.scores {
		si, bi := d.scoreIdx[h], d.boxIdx[h]
		if si >= len(r.Outputs) || bi >= len(r.Outputs) {
			return b, fmt.Errorf("onnx: ssd-anchors: result has %d outputs, want %d", len(r.Outputs), 2*len(d.scores))
		}
		d.scores[h], d.boxes[h] = r.Outputs[si].Data, r.Outputs[bi].Data
	}
	boxes, err := d.d.Decode(d.scores, d.boxes, &r.Geometry)
	if err != nil {
		return b, err
	}
	return vision.AppendBoxesJSON(b, boxes), nil
}

// rawDecoder reports every output of the Result.
type rawDecoder struct {
	cfg     vision.RawConfig
	tensors []vision.RawTensor
}

func (d *rawDecoder) decode(b []byte, r *Result) ([]byte, error) {
	if cap(d.tensors) < len(r.Outputs) {
		d.tensors = make([]vision.RawTensor, len(r.Outputs))
	}
	ts := d.tensors[:len(r.Outputs)]
	for i, o := range r.Outputs {
		ts[i] = vision.RawTensor{Name: o.Name, Shape: o.Shape, Data: o.Data}
	}
	return vision.AppendRawJSON(b, ts, d.cfg), nil
}
