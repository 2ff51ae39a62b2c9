package cdr

import (
	"bytes"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

func genBytes() *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		b := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, "bytes")
		if len(b) == 0 {
			return nil // decoders return nil for empty sequences
		}
		return b
	})
}

func genFloat32s() *rapid.Generator[[]float32] {
	return rapid.Custom(func(t *rapid.T) []float32 {
		v := rapid.SliceOfN(rapid.Float32(), 0, 16).Draw(t, "floats")
		if len(v) == 0 {
			return nil
		}
		return v
	})
}

func genHeader(t *rapid.T) Header {
	return Header{
		Stamp:   Time{Sec: rapid.Int32().Draw(t, "sec"), Nanosec: rapid.Uint32().Draw(t, "nanosec")},
		FrameID: rapid.StringN(0, 12, -1).Draw(t, "frame_id"),
	}
}

func genVec(t *rapid.T) Vector3 {
	f := rapid.Float64()
	return Vector3{f.Draw(t, "x"), f.Draw(t, "y"), f.Draw(t, "z")}
}

func genCov(t *rapid.T) (c [9]float64) {
	for i := range c {
		c[i] = rapid.Float64().Draw(t, "cov")
	}
	return c
}

// generators draw a random message of each type.
var generators = map[string]*rapid.Generator[Message]{
	TypeHeader: rapid.Custom(func(t *rapid.T) Message { h := genHeader(t); return &h }),
	TypeString: rapid.Custom(func(t *rapid.T) Message { return &String{Data: rapid.String().Draw(t, "data")} }),
	TypeImage: rapid.Custom(func(t *rapid.T) Message {
		return &Image{
			Header: genHeader(t), Height: rapid.Uint32().Draw(t, "h"), Width: rapid.Uint32().Draw(t, "w"),
			Encoding:    rapid.SampledFrom([]string{"rgb8", "bgr8", "mono8", "16UC1", ""}).Draw(t, "enc"),
			IsBigendian: rapid.Uint8().Draw(t, "be"), Step: rapid.Uint32().Draw(t, "step"), Data: genBytes().Draw(t, "data"),
		}
	}),
	TypeCompressedImage: rapid.Custom(func(t *rapid.T) Message {
		return &CompressedImage{Header: genHeader(t), Format: rapid.StringN(0, 8, -1).Draw(t, "fmt"), Data: genBytes().Draw(t, "data")}
	}),
	TypePointCloud2: rapid.Custom(func(t *rapid.T) Message {
		fields := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) PointField {
			return PointField{
				Name: rapid.StringN(0, 6, -1).Draw(t, "name"), Offset: rapid.Uint32().Draw(t, "off"),
				Datatype: rapid.Uint8().Draw(t, "dt"), Count: rapid.Uint32().Draw(t, "count"),
			}
		}), 0, 5).Draw(t, "fields")
		if len(fields) == 0 {
			fields = nil
		}
		return &PointCloud2{
			Header: genHeader(t), Height: rapid.Uint32().Draw(t, "h"), Width: rapid.Uint32().Draw(t, "w"),
			Fields: fields, IsBigendian: rapid.Bool().Draw(t, "be"), PointStep: rapid.Uint32().Draw(t, "ps"),
			RowStep: rapid.Uint32().Draw(t, "rs"), Data: genBytes().Draw(t, "data"), IsDense: rapid.Bool().Draw(t, "dense"),
		}
	}),
	TypeLaserScan: rapid.Custom(func(t *rapid.T) Message {
		f := rapid.Float32()
		return &LaserScan{
			Header: genHeader(t), AngleMin: f.Draw(t, "amin"), AngleMax: f.Draw(t, "amax"),
			AngleIncrement: f.Draw(t, "ainc"), TimeIncrement: f.Draw(t, "tinc"), ScanTime: f.Draw(t, "scan"),
			RangeMin: f.Draw(t, "rmin"), RangeMax: f.Draw(t, "rmax"),
			Ranges: genFloat32s().Draw(t, "ranges"), Intensities: genFloat32s().Draw(t, "intensities"),
		}
	}),
	TypeImu: rapid.Custom(func(t *rapid.T) Message {
		f := rapid.Float64()
		return &Imu{
			Header:                       genHeader(t),
			Orientation:                  Quaternion{f.Draw(t, "qx"), f.Draw(t, "qy"), f.Draw(t, "qz"), f.Draw(t, "qw")},
			OrientationCovariance:        genCov(t),
			AngularVelocity:              genVec(t),
			AngularVelocityCovariance:    genCov(t),
			LinearAcceleration:           genVec(t),
			LinearAccelerationCovariance: genCov(t),
		}
	}),
}

// TestRoundTripProperty: for every type and both byte orders, decoding what
// the encoder wrote gives the message back, and decoding ignores trailing
// padding.
func TestRoundTripProperty(t *testing.T) {
	for typ, gen := range generators {
		t.Run(typ, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				m := gen.Draw(t, "msg")
				be := rapid.Bool().Draw(t, "bigEndian")
				b := MarshalAppend(nil, m, be)
				pad := rapid.IntRange(0, 3).Draw(t, "pad")
				b = append(b, make([]byte, pad)...)
				got, err := Decode(typ, b)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if !reflect.DeepEqual(got, m) {
					t.Fatalf("round trip:\n got %#v\nwant %#v", got, m)
				}
				if again := MarshalAppend(nil, got, be); !bytes.Equal(again, b[:len(b)-pad]) {
					t.Fatal("re-encoding differs")
				}
			})
		})
	}
}

func TestGeneratorsCoverTypes(t *testing.T) {
	for _, typ := range []string{TypeHeader, TypeString, TypeImage, TypeCompressedImage, TypePointCloud2, TypeLaserScan, TypeImu} {
		if generators[typ] == nil {
			t.Errorf("no generator for %s", typ)
		}
		m, err := New(typ)
		if err != nil || m.TypeName() != typ {
			t.Errorf("New(%s) = %v, %v", typ, m, err)
		}
	}
}
