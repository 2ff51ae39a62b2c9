//go:build cgo

package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/peernet/peernet_go/peernet_go/inference/vision"
)

// decoder turns a Result into the reply's JSON, appended to b.
type decoder interface {
	decode(b []byte, r *Result) ([]byte, error)
}

// outputs looks up the model's outputs by name for the output section of
// the spec.
type outputs struct {
	infos []ort.InputOutputInfo
	index map[string]int
	names []string
}

func newOutputs(infos []ort.InputOutputInfo) *outputs {
	o := &outputs{infos: infos, index: map[string]int{}}
	for i, out := range infos {
		o.index[out.Name] = i
		o.names = append(o.names, out.Name)
	}
	return o
}

func (o *outputs) isFloat(i int) bool {
	return o.infos[i].OrtValueType == ort.ONNXTypeTensor && o.infos[i].DataType == ort.TensorElementDataTypeFloat
}

// find returns the index of the float output name; key is the spec key
// that named it, for the error.
func (o *outputs) find(key, name string) (int, error) {
	i, ok := o.index[name]
	if !ok {
		return 0, fmt.Errorf("output.%s: model has no output %q (outputs: %s)", key, name, strings.Join(o.names, ", "))
	}
	if !o.isFloat(i) {
		return 0, fmt.Errorf("output.%s: output %s is %v of %v, not float", key, name, o.infos[i].OrtValueType, o.infos[i].DataType)
	}
	return i, nil
}

// setupDecoder builds the output decoder and returns the indexes of the
// model outputs the session must produce.
func (m *Model) setupDecoder(infos []ort.InputOutputInfo) ([]int, error) {
	outs := newOutputs(infos)
	var (
		idx []int
		err error
	)
	switch m.spec.Output.Decoder {
	case DecoderClassify:
		m.dec, idx, err = m.newClassifyDecoder(outs)
	case DecoderSSDAnchors:
		m.dec, idx, err = m.newSSDDecoder(outs)
	default:
		m.dec, idx, err = m.newRawDecoder(outs)
	}
	if err != nil {
		return nil, err
	}
	m.info.Decoder = m.spec.Output.Decoder
	if m.info.Decoder == "" {
		m.info.Decoder = DecoderRaw
	}
	for _, i := range idx {
		m.info.Outputs = append(m.info.Outputs, infos[i].Name)
	}
	return idx, nil
}

// classifyDecoder reads the first output of the Result (the session
// produces only the scores output).
type classifyDecoder struct {
	c *vision.Classifier
}

// newClassifyDecoder reads the scores output named in the spec (the
// model's first output by default), with the spec's labels.
func (m *Model) newClassifyDecoder(outs *outputs) (decoder, []int, error) {
	o := &m.spec.Output
	name := o.Name
	if name == "" && len(outs.infos) > 0 {
		name = outs.infos[0].Name
	}
	i, err := outs.find("name", name)
	if err != nil {
		return nil, nil, err
	}
	cfg := o.ClassifyConfig
	if o.Labels != "" {
		if cfg.Labels, err = m.readLabels(o.Labels); err != nil {
			return nil, nil, fmt.Errorf("output.labels: %w", err)
		}
	}
	c, err := vision.NewClassifier(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("output.%w", err)
	}
	return &classifyDecoder{c: c}, []int{i}, nil
}

// readLabels reads a labels file, one label a line; a relative path is
// relative to the spec file's directory.
func (m *Model) readLabels(path string) ([]string, error) {
	if !filepath.IsAbs(path) && m.spec.dir != "" {
		path = filepath.Join(m.spec.dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return vision.ReadLabels(f)
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

// newSSDDecoder checks each head's scores and boxes outputs against its
// anchors; the anchors come from the image input's size.
func (m *Model) newSSDDecoder(outs *outputs) (decoder, []int, error) {
	o := &m.spec.Output
	if m.pipe == nil {
		return nil, nil, fmt.Errorf("output.decoder: ssd-anchors needs an image input: %w", m.noImage)
	}
	cfg := o.SSDConfig
	pc := m.pipe.Config()
	cfg.InputWidth, cfg.InputHeight = pc.Width, pc.Height
	for _, h := range o.Heads {
		cfg.Heads = append(cfg.Heads, h.SSDHead)
	}
	d, err := vision.NewSSDDecoder(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("output.%w", err)
	}
	sd := &ssdDecoder{d: d}
	var idx []int
	for hi, h := range o.Heads {
		si, err := outs.find(fmt.Sprintf("heads[%d].scores", hi), h.Scores)
		if err != nil {
			return nil, nil, err
		}
		bi, err := outs.find(fmt.Sprintf("heads[%d].boxes", hi), h.Boxes)
		if err != nil {
			return nil, nil, err
		}
		n := int64(len(d.Anchors(hi)))
		if e := elements(staticShape(outs.infos[si].Dimensions)); e > 0 && e != n {
			return nil, nil, fmt.Errorf("output.heads[%d]: %s has %d values, but the head has %d anchors", hi, h.Scores, e, n)
		}
		if e := elements(staticShape(outs.infos[bi].Dimensions)); e > 0 && (e%n != 0 || e/n < int64(4+2*cfg.Keypoints)) {
			return nil, nil, fmt.Errorf("output.heads[%d]: %s has %d values, not %d anchors × at least %d", hi, h.Boxes, e, n, 4+2*cfg.Keypoints)
		}
		sd.scoreIdx = append(sd.scoreIdx, len(idx))
		idx = append(idx, si)
		sd.boxIdx = append(sd.boxIdx, len(idx))
		idx = append(idx, bi)
	}
	sd.scores = make([][]float32, len(o.Heads))
	sd.boxes = make([][]float32, len(o.Heads))
	return sd, idx, nil
}

// staticShape returns shape with a dynamic batch set to 1, or nil when
// another dimension is dynamic.
func staticShape(shape []int64) []int64 {
	s := append([]int64(nil), shape...)
	if !fixBatch(s) {
		return nil
	}
	return s
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

// newRawDecoder reports the outputs named in the spec, or every float
// output.
func (m *Model) newRawDecoder(outs *outputs) (decoder, []int, error) {
	o := &m.spec.Output
	cfg := o.RawConfig
	if err := cfg.Initialize(); err != nil {
		return nil, nil, fmt.Errorf("output.%w", err)
	}
	var idx []int
	if len(o.Names) > 0 {
		for _, n := range o.Names {
			i, err := outs.find("names", n)
			if err != nil {
				return nil, nil, err
			}
			idx = append(idx, i)
		}
	} else {
		for i := range outs.infos {
			if outs.isFloat(i) {
				idx = append(idx, i)
			}
		}
	}
	if len(idx) == 0 {
		return nil, nil, errors.New("output: the model has no float output to report")
	}
	return &rawDecoder{cfg: cfg, tensors: make([]vision.RawTensor, len(idx))}, idx, nil
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
