// Package msgs holds the ROS 2 messages the peernet nodes publish and
// take — the peernet_msgs interfaces of msgs/ and statistics_msgs'
// MetricsMessage — as Go types that encode and decode themselves as CDR with
// package cdr, and converts them to and from the profiler's own types: wire
// frames, metrics records and stage statistics.
//
// The nodes publish these messages already serialized, so the codec here,
// tested without ROS, is the one that talks to DDS; the ROS-tagged tests of
// peernet_go/ros2 check it byte for byte against the middleware's own
// serializer.
//
// Usage:
//
//	s := msgs.SampleFromFrame(&frame, "edge/1a2b", "edge")
//	b := cdr.Marshal(&s)           // publish b on the edge's sample topic
//
//	var got msgs.Sample
//	if err := cdr.Unmarshal(b, &got); err != nil { ... }
//	f, err := got.Frame()          // back to a wire.Frame
package msgs

import (
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
)

// ROS 2 type names of the messages.
const (
	TypeSample             = "peernet_msgs/msg/Sample"
	TypeReply              = "peernet_msgs/msg/Reply"
	TypeIterationMetrics   = "peernet_msgs/msg/IterationMetrics"
	TypeDistribution       = "peernet_msgs/msg/Distribution"
	TypeTopicStatistics    = "peernet_msgs/msg/TopicStatistics"
	TypeMetricsMessage     = "statistics_msgs/msg/MetricsMessage"
	TypeStatisticDataPoint = "statistics_msgs/msg/StatisticDataPoint"
)

var (
	_ cdr.Message = (*Sample)(nil)
	_ cdr.Message = (*Reply)(nil)
	_ cdr.Message = (*IterationMetrics)(nil)
	_ cdr.Message = (*Distribution)(nil)
	_ cdr.Message = (*TopicStatistics)(nil)
	_ cdr.Message = (*MetricsMessage)(nil)
)

// Sample is peernet_msgs/msg/Sample: a request, probe or bye frame from an
// edge to the cloud. Data aliases the decoded message.
type Sample struct {
	Header   cdr.Header
	Source   string
	Kind     uint8
	Sequence uint64
	// Times are the four timestamps, Unix ns.
	ClientSendNs, ServerRecvNs, ServerSendNs, ClientRecvNs int64
	Encoding                                               string
	RosType                                                string
	Data                                                   []byte
}

// TypeName returns TypeSample.
func (*Sample) TypeName() string { return TypeSample }

// EncodeCDR appends m to e.
func (m *Sample) EncodeCDR(e *cdr.Encoder) {
	m.Header.EncodeCDR(e)
	e.String(m.Source)
	e.Uint8(m.Kind)
	e.Uint64(m.Sequence)
	e.Int64(m.ClientSendNs)
	e.Int64(m.ServerRecvNs)
	e.Int64(m.ServerSendNs)
	e.Int64(m.ClientRecvNs)
	e.String(m.Encoding)
	e.String(m.RosType)
	e.Bytes(m.Data)
}

// DecodeCDR reads m from d.
func (m *Sample) DecodeCDR(d *cdr.Decoder) error {
	_ = m.Header.DecodeCDR(d)
	m.Source = d.String()
	m.Kind = d.Uint8()
	m.Sequence = d.Uint64()
	m.ClientSendNs = d.Int64()
	m.ServerRecvNs = d.Int64()
	m.ServerSendNs = d.Int64()
	m.ClientRecvNs = d.Int64()
	m.Encoding = d.String()
	m.RosType = d.String()
	m.Data = d.Bytes()
	return d.Err()
}

// Reply is peernet_msgs/msg/Reply: a reply, probe reply or error frame from
// the cloud to an edge, or an inference result the cloud node republishes.
// Data aliases the decoded message.
type Reply struct {
	Header      cdr.Header
	Destination string
	Kind        uint8
	Sequence    uint64
	// Times are the four timestamps, Unix ns.
	ClientSendNs, ServerRecvNs, ServerSendNs, ClientRecvNs int64
	// Stages are the server's stage durations, ns.
	QueueNs, PreprocessNs, InferenceNs, PostprocessNs int64
	Encoding                                          string
	Data                                              []byte
}

// TypeName returns TypeReply.
func (*Reply) TypeName() string { return TypeReply }

// EncodeCDR appends m to e.
func (m *Reply) EncodeCDR(e *cdr.Encoder) {
	m.Header.EncodeCDR(e)
	e.String(m.Destination)
	e.Uint8(m.Kind)
	e.Uint64(m.Sequence)
	e.Int64(m.ClientSendNs)
	e.Int64(m.ServerRecvNs)
	e.Int64(m.ServerSendNs)
	e.Int64(m.ClientRecvNs)
	e.Int64(m.QueueNs)
	e.Int64(m.PreprocessNs)
	e.Int64(m.InferenceNs)
	e.Int64(m.PostprocessNs)
	e.String(m.Encoding)
	e.Bytes(m.Data)
}

// DecodeCDR reads m from d.
func (m *Reply) DecodeCDR(d *cdr.Decoder) error {
	_ = m.Header.DecodeCDR(d)
	m.Destination = d.String()
	m.Kind = d.Uint8()
	m.Sequence = d.Uint64()
	m.ClientSendNs = d.Int64()
	m.ServerRecvNs = d.Int64()
	m.ServerSendNs = d.Int64()
	m.ClientRecvNs = d.Int64()
	m.QueueNs = d.Int64()
	m.PreprocessNs = d.Int64()
	m.InferenceNs = d.Int64()
	m.PostprocessNs = d.Int64()
	m.Encoding = d.String()
	m.Data = d.Bytes()
	return d.Err()
}

// Status values of IterationMetrics.Status, as metrics.Status numbers them.
const (
	StatusOK    uint8 = 0
	StatusLost  uint8 = 1
	StatusError uint8 = 2
	// StatusMissed: a slot of the schedule passed without a sample.
	StatusMissed uint8 = 3
)

// IterationMetrics is peernet_msgs/msg/IterationMetrics: one iteration of
// the profiling loop. Durations are in seconds, throughputs in bit/s.
type IterationMetrics struct {
	Header    cdr.Header
	Iteration uint64
	Warmup    bool
	Status    uint8
	Error     string
	Topic     string

	Sensing, Upload, Queue, Preprocessing, Inference, Postprocessing float64
	Server, Download, RTT                                            float64

	UploadBytes, DownloadBytes           int64
	UploadThroughput, DownloadThroughput float64

	ClockOffset, ClockError float64
	Lag                     float64
	HasHeaderAge            bool
	HeaderAge               float64

	T0Ns, T1Ns, T2Ns, T3Ns int64
}

// TypeName returns TypeIterationMetrics.
func (*IterationMetrics) TypeName() string { return TypeIterationMetrics }

// EncodeCDR appends m to e.
func (m *IterationMetrics) EncodeCDR(e *cdr.Encoder) {
	m.Header.EncodeCDR(e)
	e.Uint64(m.Iteration)
	e.Bool(m.Warmup)
	e.Uint8(m.Status)
	e.String(m.Error)
	e.String(m.Topic)
	for _, v := range [...]float64{
		m.Sensing, m.Upload, m.Queue, m.Preprocessing, m.Inference, m.Postprocessing,
		m.Server, m.Download, m.RTT,
	} {
		e.Float64(v)
	}
	e.Int64(m.UploadBytes)
	e.Int64(m.DownloadBytes)
	e.Float64(m.UploadThroughput)
	e.Float64(m.DownloadThroughput)
	e.Float64(m.ClockOffset)
	e.Float64(m.ClockError)
	e.Float64(m.Lag)
	e.Bool(m.HasHeaderAge)
	e.Float64(m.HeaderAge)
	e.Int64(m.T0Ns)
	e.Int64(m.T1Ns)
	e.Int64(m.T2Ns)
	e.Int64(m.T3Ns)
}

// DecodeCDR reads m from d.
func (m *IterationMetrics) DecodeCDR(d *cdr.Decoder) error {
	_ = m.Header.DecodeCDR(d)
	m.Iteration = d.Uint64()
	m.Warmup = d.Bool()
	m.Status = d.Uint8()
	m.Error = d.String()
	m.Topic = d.String()
	for _, p := range [...]*float64{
		&m.Sensing, &m.Upload, &m.Queue, &m.Preprocessing, &m.Inference, &m.Postprocessing,
		&m.Server, &m.Download, &m.RTT,
	} {
		*p = d.Float64()
	}
	m.UploadBytes = d.Int64()
	m.DownloadBytes = d.Int64()
	m.UploadThroughput = d.Float64()
	m.DownloadThroughput = d.Float64()
	m.ClockOffset = d.Float64()
	m.ClockError = d.Float64()
	m.Lag = d.Float64()
	m.HasHeaderAge = d.Bool()
	m.HeaderAge = d.Float64()
	m.T0Ns = d.Int64()
	m.T1Ns = d.Int64()
	m.T2Ns = d.Int64()
	m.T3Ns = d.Int64()
	return d.Err()
}

// Distribution is peernet_msgs/msg/Distribution: statistics of one
// quantity over a window.
type Distribution struct {
	Count                                 uint64
	Mean, Stddev, Min, Max, P50, P90, P99 float64
}

// TypeName returns TypeDistribution.
func (*Distribution) TypeName() string { return TypeDistribution }

// EncodeCDR appends m to e.
func (m *Distribution) EncodeCDR(e *cdr.Encoder) {
	e.Uint64(m.Count)
	for _, v := range [...]float64{m.Mean, m.Stddev, m.Min, m.Max, m.P50, m.P90, m.P99} {
		e.Float64(v)
	}
}

// DecodeCDR reads m from d.
func (m *Distribution) DecodeCDR(d *cdr.Decoder) error {
	m.Count = d.Uint64()
	for _, p := range [...]*float64{&m.Mean, &m.Stddev, &m.Min, &m.Max, &m.P50, &m.P90, &m.P99} {
		*p = d.Float64()
	}
	return d.Err()
}

// TopicStatistics is peernet_msgs/msg/TopicStatistics: what a topic did
// over one window.
type TopicStatistics struct {
	Header                                  cdr.Header
	Topic, Type                             string
	WindowStart, WindowStop                 cdr.Time
	Messages                                uint64
	Rate, Bandwidth                         float64
	Size, Period, HeaderAge, TransportDelay Distribution
}

// TypeName returns TypeTopicStatistics.
func (*TopicStatistics) TypeName() string { return TypeTopicStatistics }

// EncodeCDR appends m to e.
func (m *TopicStatistics) EncodeCDR(e *cdr.Encoder) {
	m.Header.EncodeCDR(e)
	e.String(m.Topic)
	e.String(m.Type)
	m.WindowStart.EncodeCDR(e)
	m.WindowStop.EncodeCDR(e)
	e.Uint64(m.Messages)
	e.Float64(m.Rate)
	e.Float64(m.Bandwidth)
	m.Size.EncodeCDR(e)
	m.Period.EncodeCDR(e)
	m.HeaderAge.EncodeCDR(e)
	m.TransportDelay.EncodeCDR(e)
}

// DecodeCDR reads m from d.
func (m *TopicStatistics) DecodeCDR(d *cdr.Decoder) error {
	_ = m.Header.DecodeCDR(d)
	m.Topic = d.String()
	m.Type = d.String()
	_ = m.WindowStart.DecodeCDR(d)
	_ = m.WindowStop.DecodeCDR(d)
	m.Messages = d.Uint64()
	m.Rate = d.Float64()
	m.Bandwidth = d.Float64()
	_ = m.Size.DecodeCDR(d)
	_ = m.Period.DecodeCDR(d)
	_ = m.HeaderAge.DecodeCDR(d)
	return m.TransportDelay.DecodeCDR(d)
}

// StatisticDataType values of statistics_msgs/msg/StatisticDataType.
const (
	StatisticAverage     uint8 = 1
	StatisticMinimum     uint8 = 2
	StatisticMaximum     uint8 = 3
	StatisticStddev      uint8 = 4
	StatisticSampleCount uint8 = 5
)

// StatisticDataPoint is statistics_msgs/msg/StatisticDataPoint.
type StatisticDataPoint struct {
	DataType uint8
	Data     float64
}

// statisticDataPointMin is the fewest bytes one point takes in CDR (a
// uint8, then a float64 that may follow without padding when the point
// starts just before an 8-byte boundary), for bounding sequence lengths.
const statisticDataPointMin = 9

// MaxStatistics bounds the statistics of one decoded MetricsMessage.
const MaxStatistics = 1 << 16

// MetricsMessage is statistics_msgs/msg/MetricsMessage: statistics of one
// metric over a window, the message ROS 2's topic statistics publish.
type MetricsMessage struct {
	MeasurementSourceName   string
	MetricsSource           string
	Unit                    string
	WindowStart, WindowStop cdr.Time
	Statistics              []StatisticDataPoint
}

// TypeName returns TypeMetricsMessage.
func (*MetricsMessage) TypeName() string { return TypeMetricsMessage }

// EncodeCDR appends m to e.
func (m *MetricsMessage) EncodeCDR(e *cdr.Encoder) {
	e.String(m.MeasurementSourceName)
	e.String(m.MetricsSource)
	e.String(m.Unit)
	m.WindowStart.EncodeCDR(e)
	m.WindowStop.EncodeCDR(e)
	e.SequenceLen(len(m.Statistics))
	for _, p := range m.Statistics {
		e.Uint8(p.DataType)
		e.Float64(p.Data)
	}
}

// DecodeCDR reads m from d. A message announcing more than MaxStatistics
// points, or more than its bytes can hold, is an error.
func (m *MetricsMessage) DecodeCDR(d *cdr.Decoder) error {
	m.MeasurementSourceName = d.String()
	m.MetricsSource = d.String()
	m.Unit = d.String()
	_ = m.WindowStart.DecodeCDR(d)
	_ = m.WindowStop.DecodeCDR(d)
	n := d.SequenceLen(statisticDataPointMin)
	if d.Err() != nil {
		return d.Err()
	}
	m.Statistics = m.Statistics[:0]
	if n > MaxStatistics {
		return errTooManyStatistics(n)
	}
	for range n {
		p := StatisticDataPoint{DataType: d.Uint8(), Data: d.Float64()}
		if d.Err() != nil {
			return d.Err()
		}
		m.Statistics = append(m.Statistics, p)
	}
	return d.Err()
}

// Stat returns the value of the statistic of the given data type, and
// whether the message has it.
func (m *MetricsMessage) Stat(dataType uint8) (float64, bool) {
	for _, p := range m.Statistics {
		if p.DataType == dataType {
			return p.Data, true
		}
	}
	return 0, false
}

// Time converts t to builtin_interfaces/msg/Time. The zero time.Time
// becomes the zero stamp.
func Time(t time.Time) cdr.Time {
	if t.IsZero() {
		return cdr.Time{}
	}
	return Nanos(t.UnixNano())
}

// Nanos converts Unix nanoseconds to builtin_interfaces/msg/Time; negative
// values keep a non-negative nanosec, as ROS does.
func Nanos(ns int64) cdr.Time {
	sec, nsec := ns/1e9, ns%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	return cdr.Time{Sec: int32(sec), Nanosec: uint32(nsec)}
}
