package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

// RuntimeVersion is the ONNX Runtime release that scripts/fetch-onnxruntime
// installs into the cache. Any release whose C API is at least 24 (ONNX
// Runtime 1.24 and later) works when given explicitly.
const RuntimeVersion = "1.30.0"

// LibraryEnv is the environment variable naming the ONNX Runtime shared
// library; it comes after Options.Library and before the cache.
const LibraryEnv = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

// CacheEnv overrides the project's cache directory.
const CacheEnv = "PEERNET_CACHE"

// BlazeFaceModel is where scripts/fetch-models installs the BlazeFace model,
// relative to [CacheDir].
const BlazeFaceModel = "models/blazeface/face_detection_front_128x128_barracuda.onnx"

// PPOCRDetModel is where scripts/fetch-models installs the PaddleOCR text
// detector, relative to [CacheDir].
const PPOCRDetModel = "models/ppocr/ch_PP-OCRv4_det_infer.onnx"

// ErrNoLibrary is reported (wrapped in a *LibraryError) when no ONNX Runtime
// library exists at any of the paths looked at.
var ErrNoLibrary = errors.New("ONNX Runtime library not found")

// ErrNoCgo is returned by Open in binaries built without cgo.
var ErrNoCgo = errors.New("onnx: this binary was built without cgo (CGO_ENABLED=0); the ONNX Runtime backend needs cgo")

// CacheDir returns the project's cache directory: $PEERNET_CACHE if set,
// else os.UserCacheDir()/peernet_go. It does not create it.
func CacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("onnx: no cache directory (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(d, "peernet_go"), nil
}

// CachedLibraryPath returns where scripts/fetch-onnxruntime installs the
// library: <cache>/onnxruntime/<RuntimeVersion>/libonnxruntime.so.1.
func CachedLibraryPath() (string, error) {
	d, err := CacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "onnxruntime", RuntimeVersion, "libonnxruntime.so.1"), nil
}

// LibraryError says why no ONNX Runtime library could be loaded. Its message
// is one line naming every path tried.
type LibraryError struct {
	// Tried lists each candidate as "path (where it came from: outcome)".
	Tried []string
	// Err is ErrNoLibrary when no candidate existed, else the error loading
	// the first one that did.
	Err error
}

// Error returns the one-line message.
func (e *LibraryError) Error() string {
	hint := "run scripts/fetch-onnxruntime, or pass --ort-lib or set " + LibraryEnv
	if errors.Is(e.Err, ErrNoLibrary) {
		return fmt.Sprintf("onnx: %v; tried %s; %s", e.Err, strings.Join(e.Tried, ", "), hint)
	}
	return fmt.Sprintf("onnx: cannot load ONNX Runtime (need 1.24 or later): %s; tried %s; %s",
		errline.Flat(e.Err.Error()), strings.Join(e.Tried, ", "), hint)
}

// Unwrap returns e.Err.
func (e *LibraryError) Unwrap() error { return e.Err }

// candidate is a place the library may be.
type candidate struct {
	path   string
	source string
	// final stops the search when path is missing (an explicit choice is
	// never silently replaced by another library).
	final bool
}

// libraryCandidates lists, in order, where the library is looked for:
// explicit (Options.Library, --ort-lib), $ONNXRUNTIME_SHARED_LIBRARY_PATH,
// then the cache. An explicit path is the only candidate.
func libraryCandidates(explicit string) []candidate {
	if explicit != "" {
		return []candidate{{path: explicit, source: "--ort-lib", final: true}}
	}
	var c []candidate
	if p := os.Getenv(LibraryEnv); p != "" {
		c = append(c, candidate{path: p, source: "$" + LibraryEnv})
	}
	if p, err := CachedLibraryPath(); err == nil {
		c = append(c, candidate{path: p, source: "cache"})
	}
	return c
}

// findLibrary returns the first candidate that exists, with the list of
// candidates looked at (the last one being the one returned), or a
// *LibraryError wrapping ErrNoLibrary.
func findLibrary(cands []candidate) (string, []string, error) {
	var tried []string
	if len(cands) == 0 || cands[0].source == "cache" {
		tried = append(tried, "$"+LibraryEnv+" (unset)")
	}
	for _, c := range cands {
		if _, err := os.Stat(c.path); err != nil {
			tried = append(tried, fmt.Sprintf("%s (%s: not found)", c.path, c.source))
			if c.final {
				break
			}
			continue
		}
		tried = append(tried, fmt.Sprintf("%s (%s)", c.path, c.source))
		return c.path, tried, nil
	}
	return "", nil, &LibraryError{Tried: tried, Err: ErrNoLibrary}
}
