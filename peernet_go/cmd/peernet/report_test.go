package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestReportInBrowser: two bench runs that differ only in the sample size
// (1 KiB, 256 KiB); their report says upload is slower in the second and
// inference unchanged, and a real headless chromium with networking off
// opens the HTML from file:// without console errors, with every chart
// drawn at a non-zero size, and saves a screenshot.
func TestReportInBrowser(t *testing.T) {
	dir := t.TempDir()
	small, large := filepath.Join(dir, "1KiB"), filepath.Join(dir, "256KiB")
	for _, r := range []struct{ dir, size string }{{small, "1024"}, {large, "262144"}} {
		if _, stderr, code := peernet(t, 2*time.Minute, "bench", "--iterations", "1500", "--sensor-size", r.size,
			"--model-name", "dummy:infer=1ms", "--quiet", "--result-loc", r.dir); code != 0 {
			t.Fatalf("bench: exit %d: %s", code, stderr)
		}
	}
	page := filepath.Join(dir, "report.html")
	if _, stderr, code := peernet(t, time.Minute, "report", small, large, "-o", page); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	md, stderr, code := peernet(t, time.Minute, "report", "--format", "md", small, large, "-o", "-")
	if code != 0 {
		t.Fatalf("report --format md: exit %d: %s", code, stderr)
	}
	var upload, inference string
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "- 256KiB: upload "):
			upload = l
		case strings.HasPrefix(l, "- 256KiB: inference "):
			inference = l
		}
	}
	if !strings.HasSuffix(upload, "— slower") || !strings.HasSuffix(inference, "— no significant change") {
		t.Fatalf("verdicts:\n%s\n%s\n%s", upload, inference, md)
	}
	t.Log(upload)
	t.Log(inference)

	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium to open the report in (.ci/run installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"), chromedp.Flag("proxy-server", "127.0.0.1:9"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 1400))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				problems = append(problems, string(ev.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, ev.ExceptionDetails.Text)
		}
	}); err != nil {
		t.Fatal(err)
	}
	type size struct {
		Name          string
		Width, Height float64
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitReady("body")); err != nil {
		t.Fatal(err)
	}
	sizes, err := chromedp.Run(ctx, chromedp.Evaluate[[]size](`Array.from(document.querySelectorAll("svg.chart")).map(e => {
		const r = e.getBoundingClientRect(); return {Name: e.dataset.chart, Width: r.width, Height: r.height} })`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(problems) > 0 {
		t.Errorf("console: %v", problems)
	}
	mu.Unlock()
	if len(sizes) < 10 {
		t.Fatalf("%d charts in the page", len(sizes))
	}
	for _, s := range sizes {
		if s.Width <= 0 || s.Height <= 0 {
			t.Errorf("chart %s drawn at %v × %v", s.Name, s.Width, s.Height)
		}
	}
	out := filepath.Join(os.TempDir(), "peernet-report-screenshot.jpg")
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d charts drawn; screenshot %s (%d bytes)", len(sizes), out, len(shot))
}

// TestReportBadInput: one line and exit 2 for what cannot be reported.
func TestReportBadInput(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"report"}, "needs at least one run"},
		{[]string{"report", "/nonexistent/run"}, "no such file or directory"},
		{[]string{"report", empty}, "no records.jsonl or data.csv"},
		{[]string{"report", "--format", "pdf", empty}, `-format "pdf": want html, md or json`},
	} {
		_, stderr, code := peernet(t, time.Minute, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.msg) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, %q; want 2 and one line with %q", tc.args, code, stderr, tc.msg)
		}
	}
}

// TestReportKilledRun reports a run killed with kill -9: it is summarized
// first and the report says it was interrupted.
func TestReportKilledRun(t *testing.T) {
	netcfg := writeNetConfig(t)
	startServer(t, "--name", "cloud", "--network-config", netcfg)
	dir := filepath.Join(t.TempDir(), "run")
	client := exec.Command(peernetBin, "client", "--name", "edge", "--network-config", netcfg, "--quiet",
		"--rate", "50", "--iterations", "1000", "--result-loc", dir)
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	_ = client.Process.Kill()
	_ = client.Wait()
	md, stderr, code := peernet(t, time.Minute, "report", "--format", "md", dir, "-o", "-")
	if code != 0 || !strings.Contains(md, "**warning**: the run was interrupted") || !strings.Contains(md, "| rtt |") {
		t.Fatalf("exit %d: %s\n%s", code, stderr, md)
	}
}
