//go:build cgo && (linux || darwin || freebsd)

package goplugin

import (
	"fmt"
	"plugin"
	"strings"
)

// Supported reports whether this build can load Go plugins.
const Supported = true

func lookup(path, symbol string) (any, error) {
	p, err := plugin.Open(path)
	if err != nil {
		return nil, translate(path, err)
	}
	sym, err := p.Lookup(symbol)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return nil, fmt.Errorf("%s has no exported symbol %s: %w", path, symbol, ErrSymbol)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sym, nil
}
