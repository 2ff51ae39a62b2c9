package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Tensor is a named float32 tensor: a model input given to Infer, or an
// output in a [Result].
type Tensor struct {
	Name  string
	Shape []int64
	Data  []float32
}

// Elements returns the number of elements Shape describes, or -1 when a
// dimension is negative or the product overflows.
func (t *Tensor) Elements() int64 {
	return elements(t.Shape)
}

func elements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return -1
		}
		n *= d
	}
	return n
}

// ONNX TensorProto field numbers and data types this reader understands.
const (
	tpDims      = 1
	tpDataType  = 2
	tpFloatData = 4
	tpName      = 8
	tpRawData   = 9

	dataTypeFloat = 1
)

// MaxTensorDims bounds the rank ReadTensorProto accepts.
const MaxTensorDims = 16

// ReadTensorProto decodes a serialised onnx.TensorProto of data type FLOAT,
// with its values in raw_data (little-endian) or float_data, as the ONNX
// test data sets (input_0.pb, output_0.pb) store them. Other data types are
// rejected. The result never holds more values than the input has bytes.
func ReadTensorProto(b []byte) (Tensor, error) {
	t, err := readTensorProto(b)
	if err != nil {
		return Tensor{}, fmt.Errorf("onnx: TensorProto: %w", err)
	}
	return t, nil
}

func readTensorProto(b []byte) (Tensor, error) {
	var t Tensor
	dataType := int64(-1)
	var raw []byte
	var haveRaw, haveFloat bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Tensor{}, fmt.Errorf("tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == tpDims && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return Tensor{}, fmt.Errorf("dims: %w", protowire.ParseError(n))
			}
			b = b[n:]
			if err := t.addDim(v); err != nil {
				return Tensor{}, err
			}
		case num == tpDims && typ == protowire.BytesType: // packed
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return Tensor{}, fmt.Errorf("dims: %w", protowire.ParseError(n))
			}
			b = b[n:]
			for len(v) > 0 {
				d, m := protowire.ConsumeVarint(v)
				if m < 0 {
					return Tensor{}, fmt.Errorf("dims: %w", protowire.ParseError(m))
				}
				v = v[m:]
				if err := t.addDim(d); err != nil {
					return Tensor{}, err
				}
			}
		case num == tpDataType && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return Tensor{}, fmt.Errorf("data_type: %w", protowire.ParseError(n))
			}
			b = b[n:]
			dataType = int64(v)
		case num == tpFloatData && typ == protowire.BytesType: // packed
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return Tensor{}, fmt.Errorf("float_data: %w", protowire.ParseError(n))
			}
			b = b[n:]
			if len(v)%4 != 0 {
				return Tensor{}, fmt.Errorf("float_data: %d bytes is not a whole number of floats", len(v))
			}
			for ; len(v) >= 4; v = v[4:] {
				t.Data = append(t.Data, math.Float32frombits(binary.LittleEndian.Uint32(v)))
			}
			haveFloat = true
		case num == tpFloatData && typ == protowire.Fixed32Type:
			v, n := protowire.ConsumeFixed32(b)
			if n < 0 {
				return Tensor{}, fmt.Errorf("float_data: %w", protowire.ParseError(n))
			}
			b = b[n:]
			t.Data = append(t.Data, math.Float32frombits(v))
			haveFloat = true
		case num == tpName && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return Tensor{}, fmt.Errorf("name: %w", protowire.ParseError(n))
			}
			b = b[n:]
			t.Name = string(v)
		case num == tpRawData && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return Tensor{}, fmt.Errorf("raw_data: %w", protowire.ParseError(n))
			}
			b = b[n:]
			raw, haveRaw = v, true
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return Tensor{}, fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	if dataType != dataTypeFloat {
		return Tensor{}, fmt.Errorf("data_type %d is not supported (only FLOAT, 1)", dataType)
	}
	if haveRaw && haveFloat {
		return Tensor{}, errors.New("both raw_data and float_data are set")
	}
	want := t.Elements()
	if want < 0 {
		return Tensor{}, fmt.Errorf("dims %v overflow", t.Shape)
	}
	if haveRaw {
		if int64(len(raw)) != want*4 {
			return Tensor{}, fmt.Errorf("raw_data has %d bytes, dims %v need %d", len(raw), t.Shape, want*4)
		}
		t.Data = make([]float32, want)
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[i*4:]))
		}
		return t, nil
	}
	if int64(len(t.Data)) != want {
		return Tensor{}, fmt.Errorf("%d values, dims %v need %d", len(t.Data), t.Shape, want)
	}
	if t.Data == nil {
		t.Data = []float32{}
	}
	return t, nil
}

func (t *Tensor) addDim(v uint64) error {
	if len(t.Shape) == MaxTensorDims {
		return fmt.Errorf("dims: more than %d", MaxTensorDims)
	}
	if v > math.MaxInt32 {
		return fmt.Errorf("dims: %d is too large", int64(v))
	}
	t.Shape = append(t.Shape, int64(v))
	return nil
}

// AppendTensorProto appends t serialised as a FLOAT onnx.TensorProto with
// its values in raw_data.
func AppendTensorProto(b []byte, t *Tensor) []byte {
	for _, d := range t.Shape {
		b = protowire.AppendTag(b, tpDims, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, tpDataType, protowire.VarintType)
	b = protowire.AppendVarint(b, dataTypeFloat)
	if t.Name != "" {
		b = protowire.AppendTag(b, tpName, protowire.BytesType)
		b = protowire.AppendString(b, t.Name)
	}
	b = protowire.AppendTag(b, tpRawData, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(t.Data)*4))
	for _, v := range t.Data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}
