//go:build !cgo

package vision

// turboDecoder is never made in binaries built without cgo: every JPEG is
// decoded by the standard library. It has the field tests look at.
type turboDecoder struct {
	buf []byte
}

// turboJPEG leaves every JPEG to the standard library.
func (p *Pipeline) turboJPEG([]byte) (bool, error) { return false, nil }
