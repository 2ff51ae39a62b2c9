package onnx

import (
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// onnxTestData is where Debian's libonnx-testdata package installs the ONNX
// backend test models.
const onnxTestData = "/usr/share/libonnx-testdata/data"

func requireTestData(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(onnxTestData); err != nil {
		t.Skipf("ONNX test data not found at %s: apt-get install libonnx-testdata", onnxTestData)
	}
}

func TestReadTensorProtoTestData(t *testing.T) {
	requireTestData(t)
	// x of test_conv_with_strides_padding: 0..34 in a 1×1×7×5 tensor.
	b, err := os.ReadFile(onnxTestData + "/node/test_conv_with_strides_padding/test_data_set_0/input_0.pb")
	if err != nil {
		t.Fatal(err)
	}
	x, err := ReadTensorProto(b)
	if err != nil {
		t.Fatal(err)
	}
	if x.Name != "x" || !reflect.DeepEqual(x.Shape, []int64{1, 1, 7, 5}) || len(x.Data) != 35 {
		t.Fatalf("x = %s %v (%d values)", x.Name, x.Shape, len(x.Data))
	}
	for i, v := range x.Data {
		if v != float32(i) {
			t.Fatalf("x[%d] = %v, want %d", i, v, i)
		}
	}
}

// floatDataProto builds a TensorProto with its values in float_data,
// packed or not.
func floatDataProto(shape []int64, data []float32, packed bool) []byte {
	var b []byte
	for _, d := range shape {
		b = protowire.AppendTag(b, tpDims, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, tpDataType, protowire.VarintType)
	b = protowire.AppendVarint(b, dataTypeFloat)
	if packed {
		var p []byte
		for _, v := range data {
			p = protowire.AppendFixed32(p, math.Float32bits(v))
		}
		b = protowire.AppendTag(b, tpFloatData, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
	} else {
		for _, v := range data {
			b = protowire.AppendTag(b, tpFloatData, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, math.Float32bits(v))
		}
	}
	// An unknown field (doc_string) is skipped.
	b = protowire.AppendTag(b, 12, protowire.BytesType)
	return protowire.AppendString(b, "doc")
}

func TestReadTensorProto(t *testing.T) {
	want := Tensor{Name: "t", Shape: []int64{2, 3}, Data: []float32{1, -2, 3.5, 0, float32(math.Inf(1)), 6}}
	got, err := ReadTensorProto(AppendTensorProto(nil, &want))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("raw_data: %+v, %v", got, err)
	}
	for _, packed := range []bool{true, false} {
		got, err := ReadTensorProto(floatDataProto(want.Shape, want.Data, packed))
		want.Name = ""
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("float_data packed=%v: %+v, %v", packed, got, err)
		}
	}
	scalar, err := ReadTensorProto(floatDataProto(nil, []float32{7}, true))
	if err != nil || len(scalar.Shape) != 0 || !reflect.DeepEqual(scalar.Data, []float32{7}) {
		t.Fatalf("scalar: %+v, %v", scalar, err)
	}

	int64Type := protowire.AppendVarint(protowire.AppendTag(nil, tpDataType, protowire.VarintType), 7)
	tooManyDims := []byte{}
	for i := 0; i <= MaxTensorDims; i++ {
		tooManyDims = protowire.AppendVarint(protowire.AppendTag(tooManyDims, tpDims, protowire.VarintType), 1)
	}
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"int64", int64Type, "data_type 7 is not supported"},
		{"no type", nil, "data_type -1 is not supported"},
		{"short", floatDataProto([]int64{2, 3}, []float32{1, 2}, true), "2 values, dims [2 3] need 6"},
		{"raw short", AppendTensorProto(nil, &Tensor{Shape: []int64{4}, Data: []float32{1}}), "raw_data has 4 bytes, dims [4] need 16"},
		{"truncated", AppendTensorProto(nil, &want)[:5], "TensorProto"},
		{"dims", tooManyDims, "more than 16"},
		{"huge dims", protowire.AppendVarint(protowire.AppendTag(nil, tpDims, protowire.VarintType), 1<<40), "too large"},
		{"bad tag", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "tag"},
	} {
		_, err := ReadTensorProto(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// FuzzReadTensorProto checks that the reader never panics, never returns
// more values than the input has bytes, and that what it reads re-encodes
// to a tensor it reads back unchanged.
func FuzzReadTensorProto(f *testing.F) {
	f.Add(AppendTensorProto(nil, &Tensor{Name: "x", Shape: []int64{1, 2}, Data: []float32{1, 2}}))
	f.Add(floatDataProto([]int64{3}, []float32{1, 2, 3}, true))
	f.Add(floatDataProto([]int64{1, 1}, []float32{-1}, false))
	f.Add([]byte{0x08, 0x80, 0x80, 0x80, 0x80, 0x08, 0x10, 0x01})
	if b, err := os.ReadFile(onnxTestData + "/node/test_relu/test_data_set_0/output_0.pb"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ReadTensorProto(b)
		if err != nil {
			return
		}
		if len(got.Data) > len(b) {
			t.Fatalf("%d values from %d bytes", len(got.Data), len(b))
		}
		back, err := ReadTensorProto(AppendTensorProto(nil, &got))
		if err != nil {
			t.Fatal(err)
		}
		if back.Name != got.Name || !reflect.DeepEqual(back.Shape, got.Shape) || len(back.Data) != len(got.Data) {
			t.Fatalf("round trip: %+v != %+v", back, got)
		}
		for i := range got.Data {
			if math.Float32bits(back.Data[i]) != math.Float32bits(got.Data[i]) {
				t.Fatalf("value %d: %v != %v", i, back.Data[i], got.Data[i])
			}
		}
	})
}
