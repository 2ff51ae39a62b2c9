package exporter

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where the metrics are served.
const Path = "/metrics"

// ListenOptions configure Listen.
type ListenOptions struct {
	// TokenFile holds a bearer token (its first line) that every scrape
	// must present: Authorization: Bearer TOKEN. It is required when the
	// address is not a loopback one, so that no anonymous peer reads the
	// metrics; Prometheus sends it with authorization.credentials_file.
	TokenFile string
	// Notice, if set, is told one line when the address is not loopback.
	Notice io.Writer
}

// HTTP serves a registry's metrics over HTTP at Path.
type HTTP struct {
	ln  net.Listener
	srv *http.Server
	end chan error

	mu        sync.Mutex
	scraped   chan struct{} // closed, and replaced, when a scrape has been served
	lastStart time.Time     // when the latest served scrape began
}

// Listen serves g at http://addr/metrics (text, OpenMetrics or protobuf,
// as the scraper asks; protobuf carries native histograms) until Close.
// addr ":0" or "127.0.0.1:0" picks a free port: Addr tells which. An
// address without a host means loopback, never every interface; binding
// beyond loopback needs an explicit host and a TokenFile.
func Listen(addr string, g prometheus.Gatherer, o ListenOptions) (*HTTP, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address %q: want HOST:PORT or :PORT", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	loop := isLoopback(host)
	var token []byte
	if o.TokenFile != "" {
		b, err := os.ReadFile(o.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("metrics token: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if line = strings.TrimSpace(line); len(line) < 16 {
			return nil, fmt.Errorf("metrics token %s: want at least 16 characters on its first line", o.TokenFile)
		}
		token = []byte(line)
	} else if !loop {
		return nil, fmt.Errorf("metrics address %s is not loopback: give --metrics-token-file so that scrapes need a token", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if !loop && o.Notice != nil {
		fmt.Fprintf(o.Notice, "metrics: serving http://%s%s beyond loopback, bearer token required\n", ln.Addr(), Path)
	}
	h := http.Handler(promhttp.HandlerFor(g, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		Timeout:           5 * time.Second,
		ErrorHandling:     promhttp.ContinueOnError,
	}))
	if token != nil {
		h = requireToken(token, h)
	}
	s := &HTTP{ln: ln, end: make(chan error, 1), scraped: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, s.counted(h))
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go func() { s.end <- s.srv.Serve(ln) }()
	return s, nil
}

// counted tells WaitScrape of every successful scrape h serves.
func (s *HTTP) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rw, r)
		if rw.status == http.StatusOK {
			s.mu.Lock()
			if start.After(s.lastStart) {
				s.lastStart = start
			}
			close(s.scraped)
			s.scraped = make(chan struct{})
			s.mu.Unlock()
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// WaitScrape waits until a scrape that started after the call has been
// served, or for at most d, and reports whether one was: a short run can
// so hand its last figures to a scraper before it exits.
func (s *HTTP) WaitScrape(d time.Duration) bool {
	mark := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		s.mu.Lock()
		done, ch := s.lastStart.After(mark), s.scraped
		s.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return false
		}
	}
}

func requireToken(token []byte, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="peernet"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the address the metrics are served on, with the port chosen.
func (s *HTTP) Addr() string { return s.ln.Addr().String() }

// URL is the metrics' URL.
func (s *HTTP) URL() string { return "http://" + s.Addr() + Path }

// Close stops serving, letting a scrape under way finish for up to 2 s.
func (s *HTTP) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	if e := <-s.end; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
