//go:build !cgo || !(linux || darwin || freebsd)

package goplugin

import (
	"fmt"
	"runtime"
)

// Supported reports whether this build can load Go plugins.
const Supported = false

func lookup(path, _ string) (any, error) {
	return nil, fmt.Errorf("%s: %w: Go plugins need cgo on linux, darwin or freebsd (this is %s/%s, cgo off or unsupported); rebuild with CGO_ENABLED=1 or run the code as an exec: program",
		path, ErrUnsupported, runtime.GOOS, runtime.GOARCH)
}
