package cdr

import (
	"fmt"
	"time"
)

// ROS 2 type names of the messages this package decodes.
const (
	TypeHeader          = "std_msgs/msg/Header"
	TypeString          = "std_msgs/msg/String"
	TypeImage           = "sensor_msgs/msg/Image"
	TypeCompressedImage = "sensor_msgs/msg/CompressedImage"
	TypePointCloud2     = "sensor_msgs/msg/PointCloud2"
	TypeLaserScan       = "sensor_msgs/msg/LaserScan"
	TypeImu             = "sensor_msgs/msg/Imu"
)

// Message is a ROS 2 message type that this package can encode and decode.
type Message interface {
	// TypeName returns the ROS 2 type name, e.g. "sensor_msgs/msg/Image".
	TypeName() string
	// EncodeCDR appends the message's fields to e.
	EncodeCDR(e *Encoder)
	// DecodeCDR reads the message's fields from d and returns d.Err().
	DecodeCDR(d *Decoder) error
}

var (
	_ Message = (*Header)(nil)
	_ Message = (*String)(nil)
	_ Message = (*Image)(nil)
	_ Message = (*CompressedImage)(nil)
	_ Message = (*PointCloud2)(nil)
	_ Message = (*LaserScan)(nil)
	_ Message = (*Imu)(nil)
)

// Time is builtin_interfaces/msg/Time.
type Time struct {
	Sec     int32
	Nanosec uint32
}

// Time returns t as a time.Time.
func (t Time) Time() time.Time { return time.Unix(int64(t.Sec), int64(t.Nanosec)) }

// IsZero reports whether t is 0 s 0 ns, the stamp of messages whose
// publisher did not set one.
func (t Time) IsZero() bool { return t == Time{} }

// EncodeCDR appends t to e.
func (t *Time) EncodeCDR(e *Encoder) {
	e.Int32(t.Sec)
	e.Uint32(t.Nanosec)
}

// DecodeCDR reads t from d.
func (t *Time) DecodeCDR(d *Decoder) error {
	t.Sec = d.Int32()
	t.Nanosec = d.Uint32()
	return d.Err()
}

// Header is std_msgs/msg/Header.
type Header struct {
	Stamp   Time
	FrameID string
}

// TypeName returns "std_msgs/msg/Header".
func (*Header) TypeName() string { return TypeHeader }

// EncodeCDR appends h to e.
func (h *Header) EncodeCDR(e *Encoder) {
	h.Stamp.EncodeCDR(e)
	e.String(h.FrameID)
}

// DecodeCDR reads h from d.
func (h *Header) DecodeCDR(d *Decoder) error {
	_ = h.Stamp.DecodeCDR(d)
	h.FrameID = d.String()
	return d.Err()
}

// String is std_msgs/msg/String.
type String struct {
	Data string
}

// TypeName returns "std_msgs/msg/String".
func (*String) TypeName() string { return TypeString }

// EncodeCDR appends m to e.
func (m *String) EncodeCDR(e *Encoder) { e.String(m.Data) }

// DecodeCDR reads m from d.
func (m *String) DecodeCDR(d *Decoder) error {
	m.Data = d.String()
	return d.Err()
}

// Image is sensor_msgs/msg/Image. Data aliases the decoded message.
type Image struct {
	Header      Header
	Height      uint32
	Width       uint32
	Encoding    string
	IsBigendian uint8
	Step        uint32
	Data        []byte
}

// TypeName returns "sensor_msgs/msg/Image".
func (*Image) TypeName() string { return TypeImage }

// EncodeCDR appends m to e.
func (m *Image) EncodeCDR(e *Encoder) {
	m.Header.EncodeCDR(e)
	e.Uint32(m.Height)
	e.Uint32(m.Width)
	e.String(m.Encoding)
	e.Uint8(m.IsBigendian)
	e.Uint32(m.Step)
	e.Bytes(m.Data)
}

// DecodeCDR reads m from d.
func (m *Image) DecodeCDR(d *Decoder) error {
	_ = m.Header.DecodeCDR(d)
	m.Height = d.Uint32()
	m.Width = d.Uint32()
	m.Encoding = d.String()
	m.IsBigendian = d.Uint8()
	m.Step = d.Uint32()
	m.Data = d.Bytes()
	return d.Err()
}

// CompressedImage is sensor_msgs/msg/CompressedImage. Data aliases the
// decoded message.
type CompressedImage struct {
	Header Header
	// Format is the image format, e.g. "jpeg" or "png".
	Format string
	Data   []byte
}

// TypeName returns "sensor_msgs/msg/CompressedImage".
func (*CompressedImage) TypeName() string { return TypeCompressedImage }

// EncodeCDR appends m to e.
func (m *CompressedImage) EncodeCDR(e *Encoder) {
	m.Header.EncodeCDR(e)
	e.String(m.Format)
	e.Bytes(m.Data)
}

// DecodeCDR reads m from d.
func (m *CompressedImage) DecodeCDR(d *Decoder) error {
	_ = m.Header.DecodeCDR(d)
	m.Format = d.String()
	m.Data = d.Bytes()
	return d.Err()
}

// PointField datatypes of sensor_msgs/msg/PointField.
const (
	PointInt8    = 1
	PointUint8   = 2
	PointInt16   = 3
	PointUint16  = 4
	PointInt32   = 5
	PointUint32  = 6
	PointFloat32 = 7
	PointFloat64 = 8
)

// PointField is sensor_msgs/msg/PointField.
type PointField struct {
	Name     string
	Offset   uint32
	Datatype uint8
	Count    uint32
}

// pointFieldMinSize is the fewest bytes one PointField takes on the wire:
// name length, offset, datatype, count.
const pointFieldMinSize = 4 + 4 + 1 + 4

func (f *PointField) encode(e *Encoder) {
	e.String(f.Name)
	e.Uint32(f.Offset)
	e.Uint8(f.Datatype)
	e.Uint32(f.Count)
}

func (f *PointField) decode(d *Decoder) {
	f.Name = d.String()
	f.Offset = d.Uint32()
	f.Datatype = d.Uint8()
	f.Count = d.Uint32()
}

// PointCloud2 is sensor_msgs/msg/PointCloud2. Data aliases the decoded
// message.
type PointCloud2 struct {
	Header      Header
	Height      uint32
	Width       uint32
	Fields      []PointField
	IsBigendian bool
	PointStep   uint32
	RowStep     uint32
	Data        []byte
	IsDense     bool
}

// TypeName returns "sensor_msgs/msg/PointCloud2".
func (*PointCloud2) TypeName() string { return TypePointCloud2 }

// EncodeCDR appends m to e.
func (m *PointCloud2) EncodeCDR(e *Encoder) {
	m.Header.EncodeCDR(e)
	e.Uint32(m.Height)
	e.Uint32(m.Width)
	e.SequenceLen(len(m.Fields))
	for i := range m.Fields {
		m.Fields[i].encode(e)
	}
	e.Bool(m.IsBigendian)
	e.Uint32(m.PointStep)
	e.Uint32(m.RowStep)
	e.Bytes(m.Data)
	e.Bool(m.IsDense)
}

// DecodeCDR reads m from d.
func (m *PointCloud2) DecodeCDR(d *Decoder) error {
	_ = m.Header.DecodeCDR(d)
	m.Height = d.Uint32()
	m.Width = d.Uint32()
	n := d.SequenceLen(pointFieldMinSize)
	m.Fields = nil
	if n > 0 {
		m.Fields = make([]PointField, n)
		for i := range m.Fields {
			m.Fields[i].decode(d)
		}
	}
	m.IsBigendian = d.Bool()
	m.PointStep = d.Uint32()
	m.RowStep = d.Uint32()
	m.Data = d.Bytes()
	m.IsDense = d.Bool()
	return d.Err()
}

// LaserScan is sensor_msgs/msg/LaserScan.
type LaserScan struct {
	Header         Header
	AngleMin       float32
	AngleMax       float32
	AngleIncrement float32
	TimeIncrement  float32
	ScanTime       float32
	RangeMin       float32
	RangeMax       float32
	Ranges         []float32
	Intensities    []float32
}

// TypeName returns "sensor_msgs/msg/LaserScan".
func (*LaserScan) TypeName() string { return TypeLaserScan }

// EncodeCDR appends m to e.
func (m *LaserScan) EncodeCDR(e *Encoder) {
	m.Header.EncodeCDR(e)
	e.Float32(m.AngleMin)
	e.Float32(m.AngleMax)
	e.Float32(m.AngleIncrement)
	e.Float32(m.TimeIncrement)
	e.Float32(m.ScanTime)
	e.Float32(m.RangeMin)
	e.Float32(m.RangeMax)
	e.Float32s(m.Ranges)
	e.Float32s(m.Intensities)
}

// DecodeCDR reads m from d.
func (m *LaserScan) DecodeCDR(d *Decoder) error {
	_ = m.Header.DecodeCDR(d)
	m.AngleMin = d.Float32()
	m.AngleMax = d.Float32()
	m.AngleIncrement = d.Float32()
	m.TimeIncrement = d.Float32()
	m.ScanTime = d.Float32()
	m.RangeMin = d.Float32()
	m.RangeMax = d.Float32()
	m.Ranges = d.Float32s()
	m.Intensities = d.Float32s()
	return d.Err()
}

// Quaternion is geometry_msgs/msg/Quaternion.
type Quaternion struct{ X, Y, Z, W float64 }

// Vector3 is geometry_msgs/msg/Vector3.
type Vector3 struct{ X, Y, Z float64 }

// Imu is sensor_msgs/msg/Imu.
type Imu struct {
	Header                       Header
	Orientation                  Quaternion
	OrientationCovariance        [9]float64
	AngularVelocity              Vector3
	AngularVelocityCovariance    [9]float64
	LinearAcceleration           Vector3
	LinearAccelerationCovariance [9]float64
}

// TypeName returns "sensor_msgs/msg/Imu".
func (*Imu) TypeName() string { return TypeImu }

// EncodeCDR appends m to e.
func (m *Imu) EncodeCDR(e *Encoder) {
	m.Header.EncodeCDR(e)
	o := m.Orientation
	e.Float64Array([]float64{o.X, o.Y, o.Z, o.W})
	e.Float64Array(m.OrientationCovariance[:])
	v := m.AngularVelocity
	e.Float64Array([]float64{v.X, v.Y, v.Z})
	e.Float64Array(m.AngularVelocityCovariance[:])
	a := m.LinearAcceleration
	e.Float64Array([]float64{a.X, a.Y, a.Z})
	e.Float64Array(m.LinearAccelerationCovariance[:])
}

// DecodeCDR reads m from d.
func (m *Imu) DecodeCDR(d *Decoder) error {
	_ = m.Header.DecodeCDR(d)
	var q [4]float64
	d.Float64Array(q[:])
	m.Orientation = Quaternion{q[0], q[1], q[2], q[3]}
	d.Float64Array(m.OrientationCovariance[:])
	var v [3]float64
	d.Float64Array(v[:])
	m.AngularVelocity = Vector3{v[0], v[1], v[2]}
	d.Float64Array(m.AngularVelocityCovariance[:])
	d.Float64Array(v[:])
	m.LinearAcceleration = Vector3{v[0], v[1], v[2]}
	d.Float64Array(m.LinearAccelerationCovariance[:])
	return d.Err()
}

// New returns a zero message of the named type, or ErrUnknownType.
func New(typeName string) (Message, error) {
	switch typeName {
	case TypeHeader:
		return new(Header), nil
	case TypeString:
		return new(String), nil
	case TypeImage:
		return new(Image), nil
	case TypeCompressedImage:
		return new(CompressedImage), nil
	case TypePointCloud2:
		return new(PointCloud2), nil
	case TypeLaserScan:
		return new(LaserScan), nil
	case TypeImu:
		return new(Imu), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownType, typeName)
}

// Decode decodes msg as the named ROS 2 type. For a type without a decoder
// in this package it returns an error wrapping ErrUnknownType: the bytes are
// then best passed through untouched.
func Decode(typeName string, msg []byte) (Message, error) {
	m, err := New(typeName)
	if err != nil {
		return nil, err
	}
	if err := Unmarshal(msg, m); err != nil {
		return nil, err
	}
	return m, nil
}

// Unmarshal decodes msg into m. Bytes after the last field (middleware
// padding) are ignored.
func Unmarshal(msg []byte, m Message) error {
	var d Decoder
	if err := d.Reset(msg); err != nil {
		return fmt.Errorf("cdr: decode %s: %w", m.TypeName(), err)
	}
	if err := m.DecodeCDR(&d); err != nil {
		return fmt.Errorf("cdr: decode %s: %w", m.TypeName(), err)
	}
	return nil
}

// Marshal encodes m as little-endian CDR, the representation ROS 2 uses on
// every common platform.
func Marshal(m Message) []byte {
	var e Encoder
	e.Reset(false, nil)
	m.EncodeCDR(&e)
	return e.Data()
}

// MarshalAppend encodes m in the given byte order, appending to dst[:0]
// so that a caller can reuse one buffer for many messages.
func MarshalAppend(dst []byte, m Message, bigEndian bool) []byte {
	var e Encoder
	e.Reset(bigEndian, dst)
	m.EncodeCDR(&e)
	return e.Data()
}

// HeaderStamp reads header.stamp of a message whose first field is a
// std_msgs/msg/Header (see [HasHeader]) without decoding anything else.
func HeaderStamp(msg []byte) (Time, error) {
	var d Decoder
	if err := d.Reset(msg); err != nil {
		return Time{}, err
	}
	var t Time
	if err := t.DecodeCDR(&d); err != nil {
		return Time{}, fmt.Errorf("cdr: header stamp: %w", err)
	}
	return t, nil
}

// headerFirst lists common ROS 2 types whose first field is a
// std_msgs/msg/Header.
var headerFirst = map[string]bool{
	TypeHeader:                                     true,
	TypeImage:                                      true,
	TypeCompressedImage:                            true,
	TypePointCloud2:                                true,
	TypeLaserScan:                                  true,
	TypeImu:                                        true,
	"sensor_msgs/msg/PointCloud":                   true,
	"sensor_msgs/msg/CameraInfo":                   true,
	"sensor_msgs/msg/NavSatFix":                    true,
	"sensor_msgs/msg/Range":                        true,
	"sensor_msgs/msg/Temperature":                  true,
	"sensor_msgs/msg/FluidPressure":                true,
	"sensor_msgs/msg/Illuminance":                  true,
	"sensor_msgs/msg/RelativeHumidity":             true,
	"sensor_msgs/msg/MagneticField":                true,
	"sensor_msgs/msg/JointState":                   true,
	"sensor_msgs/msg/BatteryState":                 true,
	"sensor_msgs/msg/Joy":                          true,
	"sensor_msgs/msg/MultiEchoLaserScan":           true,
	"sensor_msgs/msg/MultiDOFJointState":           true,
	"sensor_msgs/msg/TimeReference":                true,
	"stereo_msgs/msg/DisparityImage":               true,
	"nav_msgs/msg/Odometry":                        true,
	"nav_msgs/msg/Path":                            true,
	"nav_msgs/msg/OccupancyGrid":                   true,
	"nav_msgs/msg/GridCells":                       true,
	"visualization_msgs/msg/Marker":                true,
	"visualization_msgs/msg/ImageMarker":           true,
	"geometry_msgs/msg/PolygonStamped":             true,
	"geometry_msgs/msg/PoseStamped":                true,
	"geometry_msgs/msg/PointStamped":               true,
	"geometry_msgs/msg/TwistStamped":               true,
	"geometry_msgs/msg/WrenchStamped":              true,
	"geometry_msgs/msg/AccelStamped":               true,
	"geometry_msgs/msg/QuaternionStamped":          true,
	"geometry_msgs/msg/Vector3Stamped":             true,
	"geometry_msgs/msg/TransformStamped":           true,
	"geometry_msgs/msg/InertiaStamped":             true,
	"geometry_msgs/msg/PoseArray":                  true,
	"geometry_msgs/msg/PoseWithCovarianceStamped":  true,
	"geometry_msgs/msg/TwistWithCovarianceStamped": true,
	"geometry_msgs/msg/AccelWithCovarianceStamped": true,
}

// HasHeader reports whether messages of the named type start with a
// std_msgs/msg/Header, so that [HeaderStamp] applies. It knows the common
// sensor_msgs, geometry_msgs, nav_msgs, stereo_msgs and visualization_msgs
// types.
func HasHeader(typeName string) bool { return headerFirst[typeName] }
