package run

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/peernet/peernet_go/peernet_go/clock"
	"github.com/peernet/peernet_go/peernet_go/inference"
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

// MatrixRow is one cell of a matrix: a transport (at a QoS) and a size.
type MatrixRow struct {
	// Cell names the cell and its results directory, e.g. "mqtt-qos1_64KiB".
	Cell string
	// Network is the transport; QoS its MQTT QoS, or -1.
	Network string
	QoS     int
	// Size is the payload size in bytes.
	Size int
	// Iterations, OK and Lost count the profiled run's iterations.
	Iterations, OK, Lost int
	// RTT, Upload and Download are the profiled run's percentiles.
	RTTP50, RTTP99         time.Duration
	UploadP50, DownloadP50 time.Duration
	// Throughput is the bits of the successful iterations' frames, both
	// ways, over the sum of their round trips, in bit/s.
	Throughput float64
	// Loss is the fraction of iterations that got no reply in time.
	Loss float64
	// RawP50 is the raw baseline's median round trip, and Ratio the
	// profiled median over it (0 when either is missing).
	RawP50 time.Duration
	Ratio  float64
	// Dir is the cell's results directory.
	Dir string
	// Err says why the cell, or its baseline, failed.
	Err string
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
	return n + "_" + SizeLabel(c.size)
}

// SizeLabel writes a size in bytes the way the matrix names cells: "64B",
// "1KiB", "64KiB", "1MiB", or bytes when it is not a whole unit.
func SizeLabel(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// Matrix runs every cell — each network (each MQTT QoS a network of its
// own) × each size — in turn, writes each cell's results under
// o.ResultLoc/CELL/ and the comparison to o.ResultLoc/matrix.csv, and
// returns the rows. A cell that fails is reported in its row's Err and the
// matrix goes on; only a cancelled ctx (the rows so far are written) or a
// results directory that cannot be written stop it.
func Matrix(ctx context.Context, o MatrixOptions) ([]MatrixRow, error) {
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
	var rows []MatrixRow
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
	if err := errors.Join(WriteMatrixCSV(f, rows), f.Close()); err != nil {
		return rows, fmt.Errorf("matrix: writing %s: %w", MatrixFile, err)
	}
	return rows, ctx.Err()
}

// cellConfig returns a loopback network config on a free port for cell c:
// an mqtt cell sets its QoS and the embedded broker.
func cellConfig(c matrixCell) (*network.Config, error) {
	port, err := freeLoopbackPort(c.network == udp.Name)
	if err != nil {
		return nil, err
	}
	doc := fmt.Sprintf("devices:\n  edge: 127.0.0.1\n  cloud: 127.0.0.1\nserver: cloud\nstart_port: %d\n", port-1)
	if c.qos >= 0 {
		doc += fmt.Sprintf("mqtt:\n  broker: %s\n  qos: %d\n", mqtt.BrokerEmbedded, c.qos)
	}
	return network.ParseConfig([]byte(doc))
}

// freeLoopbackPort returns a TCP (or UDP) port of 127.0.0.1 that was free
// a moment ago.
func freeLoopbackPort(udpPort bool) (int, error) {
	if udpPort {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free port: %w", err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// runCell runs cell c: half the raw baseline, the profiled run, the other
// half.
func (o *MatrixOptions) runCell(ctx context.Context, c matrixCell) MatrixRow {
	row := MatrixRow{Cell: c.name(), Network: c.network, QoS: c.qos, Size: c.size, Dir: filepath.Join(o.ResultLoc, c.name())}
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
	go func() { served <- b.RawServe(sctx, cfg, cfg.Server) }()
	rtts, err := b.RawPing(ctx, cfg, "edge", network.Ping{Payload: payload, ReplySize: len(payload), Iterations: n, Timeout: o.Timeout})
	stop()
	return rtts, errors.Join(err, <-served)
}

// profile runs the profiling loop of cell c into its results directory and
// fills row from its summary.
func (o *MatrixOptions) profile(ctx context.Context, tr network.Transport, c matrixCell, row *MatrixRow) error {
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
	info.Clock = report.Clock{Mode: clock.ModeAssumeSynced}
	res, err := CreateResults(row.Dir, &info, ResultsOptions{})
	if err != nil {
		return err
	}

	// The server's Conn lives and dies in its own goroutine (ZeroMQ
	// sockets must be closed by the goroutine that uses them).
	srvCtx, srvStop := context.WithCancel(ctx)
	defer srvStop()
	ready, served := make(chan error, 1), make(chan error, 1)
	go func() {
		conn, err := tr.Listen(srvCtx, cfg, cfg.Server)
		ready <- err
		if err != nil {
			return
		}
		_, err = Serve(srvCtx, ServerOptions{Conn: conn, Engine: inference.NewEngine(inference.Echo{})})
		served <- errors.Join(err, conn.Close())
	}()
	if err := <-ready; err != nil {
		res.Finish(report.Clock{Mode: clock.ModeAssumeSynced})
		return fmt.Errorf("server: %w", err)
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
			ClockMode: clock.Mode{Name: clock.ModeAssumeSynced},
			Sinks:     append(res.Sinks(), &tput),
		})
	}()
	srvStop()
	srvErr := <-served
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

// matrixColumns are the columns of matrix.csv. Durations are in seconds,
// throughput in bit/s, loss a fraction; qos is empty for transports
// without one.
var matrixColumns = []string{
	"cell", "network", "qos", "size", "iterations", "ok", "lost",
	"rtt-p50", "rtt-p99", "upload-p50", "download-p50", "throughput", "loss",
	"raw-rtt-p50", "ratio", "dir", "error",
}

// MatrixColumns returns the column names of matrix.csv.
func MatrixColumns() []string { return slices.Clone(matrixColumns) }

// WriteMatrixCSV writes rows as CSV with a header line of MatrixColumns.
func WriteMatrixCSV(w io.Writer, rows []MatrixRow) error {
	cw := csv.NewWriter(w)
	cw.Write(matrixColumns)
	sec := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 9, 64) }
	for _, r := range rows {
		qos := ""
		if r.QoS >= 0 {
			qos = strconv.Itoa(r.QoS)
		}
		cw.Write([]string{
			r.Cell, r.Network, qos, strconv.Itoa(r.Size),
			strconv.Itoa(r.Iterations), strconv.Itoa(r.OK), strconv.Itoa(r.Lost),
			sec(r.RTTP50), sec(r.RTTP99), sec(r.UploadP50), sec(r.DownloadP50),
			strconv.FormatFloat(r.Throughput, 'f', 0, 64), strconv.FormatFloat(r.Loss, 'f', 4, 64),
			sec(r.RawP50), strconv.FormatFloat(r.Ratio, 'f', 3, 64), r.Dir, r.Err,
		})
	}
	cw.Flush()
	return cw.Error()
}

// WriteMatrixTable writes rows as an aligned text table.
func WriteMatrixTable(w io.Writer, rows []MatrixRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "network\tqos\tsize\trtt p50\trtt p99\tupload p50\tdownload p50\tthroughput\tloss\traw p50\tratio\t")
	dur := func(d time.Duration) string { return report.FormatValue(d.Seconds(), metrics.Seconds) }
	for _, r := range rows {
		qos := "-"
		if r.QoS >= 0 {
			qos = strconv.Itoa(r.QoS)
		}
		ratio := "-"
		if r.Ratio > 0 {
			ratio = strconv.FormatFloat(r.Ratio, 'f', 2, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f %%\t%s\t%s\t\n",
			r.Network, qos, SizeLabel(r.Size), dur(r.RTTP50), dur(r.RTTP99), dur(r.UploadP50), dur(r.DownloadP50),
			report.FormatValue(r.Throughput, metrics.BitsPerSecond), 100*r.Loss, dur(r.RawP50), ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if r.Err != "" {
			if _, err := fmt.Fprintf(w, "%s: %s\n", r.Cell, strings.TrimSpace(r.Err)); err != nil {
				return err
			}
		}
	}
	return nil
}
