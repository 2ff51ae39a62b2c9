package msgs

import (
	"errors"
	"fmt"
	"time"

	"github.com/peernet/peernet_go/peernet_go/cdr"
	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/wire"
)

// ErrKind is returned when a frame or message has a kind its direction does
// not carry: samples carry requests, probes and byes; replies carry
// replies, probe replies and errors. Test with errors.Is.
var ErrKind = errors.New("rosmsgs: wrong kind for this direction")

func errTooManyStatistics(n int) error {
	return fmt.Errorf("rosmsgs: metrics message with %d statistics, more than %d", n, MaxStatistics)
}

// SampleKind reports whether a frame kind travels as a Sample.
func SampleKind(k wire.Kind) bool { return k == wire.Request || k == wire.Probe || k == wire.Bye }

// ReplyKind reports whether a frame kind travels as a Reply.
func ReplyKind(k wire.Kind) bool { return k == wire.Reply || k == wire.ProbeReply || k == wire.Error }

// SampleFromFrame returns f as a Sample from connection source of device
// frameID. Data aliases f.Payload. f.Kind must be a SampleKind; the stages
// of f are not carried (samples have none).
func SampleFromFrame(f *wire.Frame, source, frameID string) (Sample, error) {
	if !SampleKind(f.Kind) {
		return Sample{}, fmt.Errorf("%w: a %v frame does not travel as a sample", ErrKind, f.Kind)
	}
	rosType, _ := media.ROSType(f.Encoding)
	return Sample{
		Header:       cdr.Header{Stamp: Nanos(f.Times.ClientSend), FrameID: frameID},
		Source:       source,
		Kind:         uint8(f.Kind),
		Sequence:     f.Seq,
		ClientSendNs: f.Times.ClientSend, ServerRecvNs: f.Times.ServerRecv,
		ServerSendNs: f.Times.ServerSend, ClientRecvNs: f.Times.ClientRecv,
		Encoding: f.Encoding,
		RosType:  rosType,
		Data:     f.Payload,
	}, nil
}

// Frame returns the wire frame m carries, with Peer set to m.Source.
// Payload aliases m.Data.
func (m *Sample) Frame() (wire.Frame, error) {
	if !SampleKind(wire.Kind(m.Kind)) {
		return wire.Frame{}, fmt.Errorf("%w: sample of kind %v", ErrKind, wire.Kind(m.Kind))
	}
	if err := checkEncoding(m.Encoding); err != nil {
		return wire.Frame{}, err
	}
	return wire.Frame{
		Kind: wire.Kind(m.Kind),
		Seq:  m.Sequence,
		Times: wire.Times{
			ClientSend: m.ClientSendNs, ServerRecv: m.ServerRecvNs,
			ServerSend: m.ServerSendNs, ClientRecv: m.ClientRecvNs,
		},
		Encoding: m.Encoding,
		Payload:  m.Data,
		Peer:     m.Source,
	}, nil
}

// ReplyFromFrame returns f as a Reply to connection destination, from
// device frameID. Data aliases f.Payload. f.Kind must be a ReplyKind.
func ReplyFromFrame(f *wire.Frame, destination, frameID string) (Reply, error) {
	if !ReplyKind(f.Kind) {
		return Reply{}, fmt.Errorf("%w: a %v frame does not travel as a reply", ErrKind, f.Kind)
	}
	return Reply{
		Header:       cdr.Header{Stamp: Nanos(f.Times.ServerSend), FrameID: frameID},
		Destination:  destination,
		Kind:         uint8(f.Kind),
		Sequence:     f.Seq,
		ClientSendNs: f.Times.ClientSend, ServerRecvNs: f.Times.ServerRecv,
		ServerSendNs: f.Times.ServerSend, ClientRecvNs: f.Times.ClientRecv,
		QueueNs: int64(f.Stages.Queue), PreprocessNs: int64(f.Stages.Preprocess),
		InferenceNs: int64(f.Stages.Inference), PostprocessNs: int64(f.Stages.Postprocess),
		Encoding: f.Encoding,
		Data:     f.Payload,
	}, nil
}

// Frame returns the wire frame m carries, with Peer set to m.Destination.
// Payload aliases m.Data.
func (m *Reply) Frame() (wire.Frame, error) {
	if !ReplyKind(wire.Kind(m.Kind)) {
		return wire.Frame{}, fmt.Errorf("%w: reply of kind %v", ErrKind, wire.Kind(m.Kind))
	}
	if err := checkEncoding(m.Encoding); err != nil {
		return wire.Frame{}, err
	}
	return wire.Frame{
		Kind: wire.Kind(m.Kind),
		Seq:  m.Sequence,
		Times: wire.Times{
			ClientSend: m.ClientSendNs, ServerRecv: m.ServerRecvNs,
			ServerSend: m.ServerSendNs, ClientRecv: m.ClientRecvNs,
		},
		Stages: wire.Stages{
			Queue: time.Duration(m.QueueNs), Preprocess: time.Duration(m.PreprocessNs),
			Inference: time.Duration(m.InferenceNs), Postprocess: time.Duration(m.PostprocessNs),
		},
		Encoding: m.Encoding,
		Payload:  m.Data,
		Peer:     m.Destination,
	}, nil
}

func checkEncoding(enc string) error {
	if len(enc) > wire.MaxEncodingLen {
		return fmt.Errorf("rosmsgs: encoding of %d bytes, longer than %d", len(enc), wire.MaxEncodingLen)
	}
	return nil
}

// FromRecord returns the IterationMetrics of r, from device frameID. The
// header stamp is the request's send time, t0.
func FromRecord(r *metrics.Record, frameID string) IterationMetrics {
	m := IterationMetrics{
		Header:    cdr.Header{Stamp: Nanos(r.T0), FrameID: frameID},
		Iteration: uint64(max(r.Iteration, 0)),
		Warmup:    r.Warmup,
		Status:    uint8(r.Status),
		Error:     r.Err,
		Topic:     r.Topic,

		Sensing: r.Sensing.Seconds(), Upload: r.Upload.Seconds(), Queue: r.Queue.Seconds(),
		Preprocessing: r.Preprocess.Seconds(), Inference: r.Inference.Seconds(),
		Postprocessing: r.Postprocess.Seconds(), Server: r.Server.Seconds(),
		Download: r.Download.Seconds(), RTT: r.RTT.Seconds(),

		UploadBytes: r.UploadBytes, DownloadBytes: r.DownloadBytes,
		ClockOffset: r.ClockOffset.Seconds(), ClockError: r.ClockError.Seconds(),
		Lag:          r.Lag.Seconds(),
		HasHeaderAge: r.HasHeaderAge,
		T0Ns:         r.T0, T1Ns: r.T1, T2Ns: r.T2, T3Ns: r.T3,
	}
	if r.Replied() {
		m.UploadThroughput = metrics.Throughput(r.UploadBytes, r.Upload)
		m.DownloadThroughput = metrics.Throughput(r.DownloadBytes, r.Download)
	}
	if r.HasHeaderAge {
		m.HeaderAge = r.HeaderAge.Seconds()
	}
	return m
}

// FromStageStats returns the MetricsMessage of one stage's statistics over
// the window [start, stop], measured by source (a node's name). The
// statistics are the five statistics_msgs knows: average, minimum, maximum,
// standard deviation and sample count.
func FromStageStats(source string, start, stop time.Time, s metrics.StageStats) MetricsMessage {
	return MetricsMessage{
		MeasurementSourceName: source,
		MetricsSource:         s.Name,
		Unit:                  string(s.Unit),
		WindowStart:           Time(start),
		WindowStop:            Time(stop),
		Statistics: []StatisticDataPoint{
			{StatisticAverage, s.Mean},
			{StatisticMinimum, s.Min},
			{StatisticMaximum, s.Max},
			{StatisticStddev, s.Std},
			{StatisticSampleCount, float64(s.Count)},
		},
	}
}
