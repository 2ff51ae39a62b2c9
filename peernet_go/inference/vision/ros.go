package vision

import (
	"bytes"
	"fmt"
	"math"

	"github.com/peernet/peernet_go/peernet_go/cdr"
)

// rosImage decodes a CDR-serialised sensor_msgs/msg/Image with package cdr
// and reads its pixels where they lie, as raw does. The decoder works on
// the pipeline's own Decoder and message, and Image.Data aliases data, so
// the only allocations are the message's two short strings (frame_id and
// encoding).
func (p *Pipeline) rosImage(data []byte) error {
	m := &p.rosIm
	if err := p.decodeROS(data, m); err != nil {
		return err
	}
	pix := m.Data
	m.Data = nil // p.rosIm does not keep the sample alive
	if m.Width > math.MaxInt32 || m.Height > math.MaxInt32 || m.Step > math.MaxInt32 {
		return fmt.Errorf("vision: decode %s: implausible size %dx%d step %d", cdr.TypeImage, m.Width, m.Height, m.Step)
	}
	return p.raw(m.Encoding, int(m.Width), int(m.Height), int(m.Step), pix)
}

// rosCompressedImage decodes a CDR-serialised
// sensor_msgs/msg/CompressedImage and then its JPEG or PNG data, which it
// recognises by its signature rather than by the free-form format field.
// The JPEG path is the same as for a plain JPEG sample.
func (p *Pipeline) rosCompressedImage(data []byte) error {
	m := &p.rosCI
	if err := p.decodeROS(data, m); err != nil {
		return err
	}
	enc := m.Data
	m.Data = nil // p.rosCI does not keep the sample alive
	switch {
	case bytes.HasPrefix(enc, jpegMagic):
		return p.decodeJPEG(enc)
	case bytes.HasPrefix(enc, pngMagic):
		return p.decodePNG(enc)
	}
	return fmt.Errorf("vision: %s with format %q: data is neither JPEG nor PNG", cdr.TypeCompressedImage, m.Format)
}

// decodeROS decodes data into m. It does what cdr.Unmarshal does, but with
// the pipeline's long-lived Decoder: cdr.Unmarshal hands a fresh Decoder to
// the message through an interface, which moves it to the heap on every
// sample.
func (p *Pipeline) decodeROS(data []byte, m cdr.Message) error {
	err := p.dec.Reset(data)
	if err == nil {
		err = m.DecodeCDR(&p.dec)
	}
	p.dec = cdr.Decoder{} // drop the reference to data
	if err != nil {
		return fmt.Errorf("vision: decode %s: %w", m.TypeName(), err)
	}
	return nil
}
