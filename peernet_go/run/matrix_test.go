package run_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/report"
	"github.com/peernet/peernet_go/peernet_go/run"
)

// TestMatrix runs a small matrix over every default transport — MQTT at two
// QoS levels — and two sizes, the larger one fragmented by udp, and checks
// the comparison file, the table and each cell's results directory.
func TestMatrix(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	var log bytes.Buffer
	rows, err := run.Matrix(ctx, run.MatrixOptions{
		Sizes: []int{64, 5000}, Iterations: 40, ResultLoc: dir, Timeout: 2 * time.Second, Version: "test", Log: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantCells := []string{"zmq-tcp_64B", "zmq-tcp_5000B", "mqtt-qos0_64B", "mqtt-qos0_5000B", "mqtt-qos1_64B", "mqtt-qos1_5000B", "udp_64B", "udp_5000B"}
	if len(rows) != len(wantCells) {
		t.Fatalf("%d rows, want %d", len(rows), len(wantCells))
	}
	for i, r := range rows {
		if r.Cell != wantCells[i] {
			t.Errorf("row %d is %s, want %s", i, r.Cell, wantCells[i])
		}
		if r.Network == "zmq-tcp" && strings.Contains(r.Err, "without cgo") {
			continue // a CGO_ENABLED=0 build has no ZeroMQ
		}
		if r.Err != "" {
			t.Errorf("%s: %s", r.Cell, r.Err)
			continue
		}
		if r.Iterations != 40 || r.OK != 40 || r.Lost != 0 || r.Loss != 0 {
			t.Errorf("%s: %d iterations, %d ok, %d lost", r.Cell, r.Iterations, r.OK, r.Lost)
		}
		if r.RTTP50 <= 0 || r.RTTP99 < r.RTTP50 || r.UploadP50 <= 0 || r.DownloadP50 <= 0 || r.Throughput <= 0 {
			t.Errorf("%s: implausible figures %+v", r.Cell, r)
		}
		if r.RawP50 <= 0 || r.Ratio <= 0 {
			t.Errorf("%s: no raw baseline: raw p50 %v, ratio %v", r.Cell, r.RawP50, r.Ratio)
		}
		if (r.QoS >= 0) != (r.Network == "mqtt") {
			t.Errorf("%s: qos %d", r.Cell, r.QoS)
		}
		for _, f := range []string{"data.csv", "records.jsonl", "summary.json", "run.yaml"} {
			if st, err := os.Stat(filepath.Join(r.Dir, f)); err != nil || st.Size() == 0 {
				t.Errorf("%s: %s missing or empty", r.Cell, f)
			}
		}
	}

	f, err := os.Open(filepath.Join(dir, run.MatrixFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(report.MatrixColumns(), ",") || len(recs) != len(rows)+1 {
		t.Fatalf("matrix.csv: header %v, %d lines", recs[0], len(recs))
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	for i, rec := range recs[1:] {
		if rec[col["cell"]] != rows[i].Cell || rec[col["size"]] != strconv.Itoa(rows[i].Size) {
			t.Errorf("line %d: %v", i+2, rec)
		}
		if rows[i].Err == "" {
			if v, err := strconv.ParseFloat(rec[col["ratio"]], 64); err != nil || v <= 0 {
				t.Errorf("line %d: ratio %q", i+2, rec[col["ratio"]])
			}
		}
	}
	if q := recs[len(recs)-1][col["qos"]]; q != "" {
		t.Errorf("udp row has qos %q", q)
	}

	var table bytes.Buffer
	if err := report.WriteMatrixTable(&table, rows); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table.String())
	if lines := strings.Split(strings.TrimSpace(table.String()), "\n"); len(lines) < len(rows)+1 || !strings.Contains(lines[0], "ratio") {
		t.Errorf("table:\n%s", table.String())
	}
	if !strings.Contains(log.String(), "cell 8 of 8: udp_5000B") {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestMatrixOptionErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		o    run.MatrixOptions
		want string
	}{
		{run.MatrixOptions{}, "matrix: no results directory"},
		{run.MatrixOptions{ResultLoc: t.TempDir(), Networks: []string{"smoke-signals"}}, `matrix: unknown network "smoke-signals"`},
		{run.MatrixOptions{ResultLoc: t.TempDir(), QoS: []int{3}}, "matrix: qos 3, want 0, 1 or 2"},
		{run.MatrixOptions{ResultLoc: t.TempDir(), Sizes: []int{-1}}, "matrix: size -1 out of range"},
		{run.MatrixOptions{ResultLoc: t.TempDir(), Iterations: 1}, "matrix: iterations: 1, want at least 2"},
	} {
		_, err := run.Matrix(ctx, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.o, err, tc.want)
		}
	}
}

// TestMatrixCancelled: a cancelled matrix stops between cells and still
// writes the rows it has.
func TestMatrixCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var log strings.Builder
	logw := writerFunc(func(p []byte) (int, error) {
		log.Write(p)
		if strings.Contains(log.String(), "cell 2 of") {
			cancel()
		}
		return len(p), nil
	})
	rows, err := run.Matrix(ctx, run.MatrixOptions{Networks: []string{"udp"}, Sizes: []int{64, 128, 256}, Iterations: 10, ResultLoc: dir, Log: logw})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if len(rows) == 0 || len(rows) == 3 {
		t.Errorf("%d rows", len(rows))
	}
	if _, err := os.Stat(filepath.Join(dir, run.MatrixFile)); err != nil {
		t.Error(err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
