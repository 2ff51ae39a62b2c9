//go:build !cgo

package vision

// turboDecoder is empty in binaries built without cgo: every JPEG is
// decoded by the standard library.
type turboDecoder struct{}

// turboJPEG leaves every JPEG to the standard library.
func (p *Pipeline) turboJPEG([]byte) (bool, error) { return false, nil }

// decodedByTurbo reports false: there is no libjpeg-turbo.
func (p *Pipeline) decodedByTurbo() bool { return false }
