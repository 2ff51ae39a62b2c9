package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
	"github.com/peernet/peernet_go/peernet_go/internal/loopback"
	"github.com/peernet/peernet_go/peernet_go/metrics"
	"github.com/peernet/peernet_go/peernet_go/network"
	"github.com/peernet/peernet_go/peernet_go/network/mqtt"
	"github.com/peernet/peernet_go/peernet_go/network/udp"
	"github.com/peernet/peernet_go/peernet_go/network/zmq"
	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/sensor"
)

// Defaults of MatrixOptions.
var (
	// DefaultMatrixNetworks are the transports a matrix compares.
	DefaultMatrixNetworks = []string{zmq.Name, mqtt.Name, udp.Name}
	// DefaultMatrixQoS are the MQTT QoS levels a matrix runs.
	DefaultMatrixQoS = []int{0, 1}
	// DefaultMatrixSizes are the payload sizes a matrix runs, in bytes.
	DefaultMatrixSizes = []int{64, 1 << 10, 64 << 10, 1 << 20}
)

// DefaultMatrixIterations is the number of iterations of each cell.
const DefaultMatrixIterations = 300

// MatrixFile is the name of the comparison a matrix writes.
const MatrixFile = "matrix.csv"

// MatrixOptions configure a transport matrix: the same workload — a random
// payload of each size, echoed back by the server — run over each
// transport, on loopback, client and server in this process, with each
// transport's raw baseline run alongside.
type MatrixOptions struct {
	// Networks are the transports, by --network name. They default to
	// DefaultMatrixNetworks.
	Networks []string
	// QoS are the MQTT QoS levels; each makes a cell of its own. Other
	// transports ignore them. They default to DefaultMatrixQoS.
	QoS []int
	// Sizes are the payload sizes in bytes. They default to
	// DefaultMatrixSizes.
	Sizes []int
	// Iterations of each cell's profiled run; the raw baseline runs as
	// many, half before and half after it, so that both see the same
	// machine load. It defaults to DefaultMatrixIterations.
	Iterations int
	// ResultLoc is the directory that receives matrix.csv and, under
	// ResultLoc/CELL/, each cell's results directory. Required.
	ResultLoc string
	// Timeout bounds each round trip. It defaults to DefaultTimeout.
	Timeout time.Duration
	// Version and Command go into each cell's run.yaml.
	Version string
	Command []string
	// Log, if set, receives a line as each cell starts and ends.
	Log io.Writer
}

func (o *MatrixOptions) defaults() error {
	if len(o.Networks) == 0 {
		o.Networks = DefaultMatrixNetworks
	}
	if len(o.QoS) == 0 {
		o.QoS = DefaultMatrixQoS
	}
	if len(o.Sizes) == 0 {
		o.Sizes = DefaultMatrixSizes
	}
	if o.Iterations == 0 {
		o.Iterations = DefaultMatrixIterations
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	switch {
	case o.ResultLoc == "":
		return errors.New("matrix: no results directory")
	case o.Iterations < 2:
		return fmt.Errorf("matrix: iterations: %d, want at least 2", o.Iterations)
	}
	for _, n := range o.Networks {
		if _, err := Transport(n); err != nil {
			return fmt.Errorf("matrix: %w", err)
		}
	}
	for _, q := range o.QoS {
		if q < 0 || q > 2 {
			return fmt.Errorf("matrix: qos %d, want 0, 1 or 2", q)
		}
	}
	for _, s := range o.Sizes {
		if s < 0 || s > sensor.MaxSampleSize {
			return fmt.Errorf("matrix: size %d out of range [0, %d]", s, sensor.MaxSampleSize)
		}
	}
	return nil
}

// matrixCell is one cell to run.
type matrixCell struct {
	network string
	qos     int
	size    int
}

func (c matrixCell) name() string {
	n := c.network
	if c.qos >= 0 {
		n += "-qos" + strconv.Itoa(c.qos)
	}
	return n + "_" + report.SizeLabel(c.size)
}

// Matrix runs every cell — each network (each MQTT QoS a network of its
// own) × each size — in turn, writes each cell's results under
// o.ResultLoc/CELL/ and the comparison to o.ResultLoc/matrix.csv, and
// returns the rows. A cell that fails is reported in its row's Err and the
// matrix goes on; only a cancelled ctx (the rows so far are written) or a
// results directory that cannot be written stop it.
func Matrix(ctx context.Context, o MatrixOptions) ([]report.MatrixRow, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.ResultLoc, 0o755); err != nil {
		return nil, fmt.Errorf("matrix: %w", err)
	}
	var cells []matrixCell
	for _, n := range o.Networks {
		qos := []int{-1}
		if n == mqtt.Name {
			qos = o.QoS
		}
		for _, q := range qos {
			for _, s := range o.Sizes {
				cells = append(cells, matrixCell{n, q, s})
			}
		}
	}
	var rows []report.MatrixRow
	for i, c := range cells {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(o.Log, "matrix: cell %d of %d: %s\n", i+1, len(cells), c.name())
		row := o.runCell(ctx, c)
		rows = append(rows, row)
		if row.Err != "" {
			fmt.Fprintf(o.Log, "matrix: %s: %s\n", c.name(), row.Err)
		}
	}
	f, err := os.Create(filepath.Join(o.ResultLoc, MatrixFile))
	if err != nil {
		return rows, fmt.Errorf("matrix: %w", err)
	}
	if err := errors.Join(report.WriteMatrixCSV(f, rows), f.Close()); err != nil {
		return rows, fmt.Errorf("matrix: writing %s: %w", MatrixFile, err)
	}
	return rows, ctx.Err()
}

// cellConfig returns a loopback network config on a free port for cell c:
// an mqtt cell sets its QoS and the embedded broker.
func cellConfig(c matrixCell) (*network.Config, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return nil, err
	}
	cfg := network.Loopback(port - 1) // the server, device 1, listens on port
	if c.qos >= 0 {
		if err := cfg.SetSection("mqtt", map[string]any{"broker": mqtt.BrokerEmbedded, "qos": c.qos}); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// runCell runs cell c: half the raw baseline, the profiled run, the other
// half.
func (o *MatrixOptions) runCell(ctx context.Context, c matrixCell) report.MatrixRow {
	row := report.MatrixRow{Cell: c.name(), Network: c.network, QoS: c.qos, Size: c.size, Dir: filepath.Join(o.ResultLoc, c.name())}
	tr, err := Transport(c.network)
	if err != nil {
		row.Err = err.Error()
		return row
	}
	payload := make([]byte, c.size)
	var raw []time.Duration
	var rawErr error
	b, hasRaw := tr.(network.Baseline)
	rawHalf := func(n int) {
		if !hasRaw || rawErr != nil || ctx.Err() != nil {
			return
		}
		rtts, err := o.rawRun(ctx, b, c, payload, n)
		raw = append(raw, rtts...)
		rawErr = err
	}
	rawHalf(o.Iterations / 2)
	if err := o.profile(ctx, tr, c, &row); err != nil {
		row.Err = err.Error()
	}
	rawHalf(o.Iterations - o.Iterations/2)
	switch {
	case !hasRaw:
		row.Err = joinMsg(row.Err, "no raw baseline for "+c.network)
	case rawErr != nil:
		row.Err = joinMsg(row.Err, "raw baseline: "+rawErr.Error())
	}
	if len(raw) > 0 {
		slices.Sort(raw)
		row.RawP50 = raw[len(raw)/2]
		if row.RTTP50 > 0 {
			row.Ratio = float64(row.RTTP50) / float64(row.RawP50)
		}
	}
	return row
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// rawRun runs n raw round trips of payload on a config of its own.
func (o *MatrixOptions) rawRun(ctx context.Context, b network.Baseline, c matrixCell, payload []byte, n int) ([]time.Duration, error) {
	if n == 0 {
		return nil, nil
	}
	cfg, err := cellConfig(c)
	if err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- b.RawServe(sctx, cfg, cfg.Server, 0) }()
	rtts, err := b.RawPing(ctx, cfg, "edge", network.Ping{Payload: payload, ReplySize: len(payload), Iterations: n, Timeout: o.Timeout})
	stop()
	return rtts, errors.Join(err, <-served)
}

// profile runs the profiling loop of cell c into its results directory and
// fills row from its summary.
func (o *MatrixOptions) profile(ctx context.Context, tr network.Transport, c matrixCell, row *report.MatrixRow) error {
	cfg, err := cellConfig(c)
	if err != nil {
		return err
	}
	s, err := sensor.Open(ctx, sensor.Options{Type: "random-bytes", Size: strconv.Itoa(c.size)})
	if err != nil {
		return err
	}
	defer s.Close()

	info := report.NewRunInfo(o.Version, o.Command)
	info.Role = "matrix"
	info.Transport = c.network
	host, _ := os.Hostname()
	info.Hosts = report.Hosts{Client: host, Server: host}
	info.Network = report.NetworkInfo{Name: "edge", Server: cfg.Server, Devices: map[string]string{"edge": "127.0.0.1", "cloud": "127.0.0.1"},
		StartPort: cfg.StartPort, Endpoint: cfg.ServerAddr()}
	info.Sensor = report.SensorInfo{Type: "random-bytes", Options: map[string]string{"size": strconv.Itoa(c.size)}}
	info.Model = report.ModelInfo{Name: "echo"}
	if c.qos >= 0 {
		info.Network.ConfigFile = fmt.Sprintf("(mqtt: embedded broker, qos %d)", c.qos)
	}
	info.Sizes = report.Sizes{Sample: strconv.Itoa(c.size)}
	info.Iterations, info.Timeout = o.Iterations, o.Timeout
	info.Clock = report.Clock{Mode: clock.ModeSameClock}
	res, err := CreateResults(row.Dir, &info, ResultsOptions{})
	if err != nil {
		return err
	}

	srv, err := StartServer(ctx, tr, cfg, ServerOptions{Engine: inference.NewEngine(inference.Echo{})})
	if err != nil {
		return errors.Join(err, res.Finish(report.Clock{Mode: clock.ModeSameClock}))
	}
	var tput throughput
	result, runErr := func() (Result, error) {
		conn, err := tr.Dial(ctx, cfg, "edge")
		if err != nil {
			return Result{}, fmt.Errorf("client: %w", err)
		}
		defer conn.Close()
		return Client(ctx, ClientOptions{
			Conn: conn, Sensor: s, Iterations: o.Iterations, Timeout: o.Timeout,
			ClockMode: clock.Mode{Name: clock.ModeSameClock}, // both ends in this process
			Sinks:     append(res.Sinks(), &tput),
		})
	}()
	_, srvErr := srv.Stop()
	info.Interrupted = result.Interrupted || runErr != nil
	finErr := res.Finish(ReportClock(result.Clock, DefaultMaxClockError))

	sum := res.Summary().Result()
	row.Iterations, row.OK, row.Lost = result.Iterations, result.OK, result.Lost
	stage := func(name string, p99 bool) time.Duration {
		st, ok := sum.Stage(name)
		if !ok || st.Count == 0 {
			return 0
		}
		if p99 {
			return time.Duration(st.P99 * float64(time.Second))
		}
		return time.Duration(st.P50 * float64(time.Second))
	}
	row.RTTP50, row.RTTP99 = stage(metrics.StageRTT, false), stage(metrics.StageRTT, true)
	row.UploadP50, row.DownloadP50 = stage(metrics.StageUpload, false), stage(metrics.StageDownload, false)
	row.Throughput = tput.bps()
	if result.Iterations > 0 {
		row.Loss = float64(result.Lost) / float64(result.Iterations)
	}
	return errors.Join(runErr, srvErr, finErr)
}

// throughput sums the frame bytes and round trips of successful
// iterations.
type throughput struct {
	bytes int64
	rtt   time.Duration
}

func (t *throughput) Write(r *metrics.Record) error {
	if r.Status == metrics.OK && !r.Warmup {
		t.bytes += r.UploadBytes + r.DownloadBytes
		t.rtt += r.RTT
	}
	return nil
}

func (t *throughput) Close() error { return nil }

func (t *throughput) bps() float64 { return metrics.Throughput(t.bytes, t.rtt) }
