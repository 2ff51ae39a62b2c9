//go:build cgo

package vision

/*
#cgo pkg-config: libturbojpeg
#include <turbojpeg.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// turboDecoder is a Pipeline's libjpeg-turbo decompressor and the buffer
// it decodes into. The header fields are C values in a heap object, so
// that passing their addresses to C allocates nothing.
type turboDecoder struct {
	handle                  C.tjhandle
	width, height           C.int
	subsampling, colorspace C.int
	buf                     []byte
	refused                 bool // tjInitDecompress failed: always use the standard library
}

// turboFlags: stop at the first warning, and stop at a progressive JPEG's
// 501st scan (libjpeg-turbo's guard against scans crafted to take minutes).
// Either way the JPEG goes to the standard library, which decides.
const turboFlags = C.TJFLAG_STOPONWARNING | C.TJFLAG_LIMITSCANS

// turboJPEG decodes a JPEG with libjpeg-turbo into p.frame, at 1/2, 1/4 or
// 1/8 scale when the input is that much smaller (see dctScale), straight
// to the tensor's channel order, into a buffer the pipeline reuses. It
// reports false, and no error, for every JPEG it leaves to the standard
// library: one whose header libjpeg-turbo cannot read, CMYK and YCCK
// JPEGs, and any error or warning while decoding. Its only error is a
// header whose size exceeds max_pixels, reported before anything is
// allocated.
func (p *Pipeline) turboJPEG(data []byte) (bool, error) {
	if len(data) == 0 {
		return false, nil
	}
	if p.tj == nil {
		p.tj = newTurboDecoder()
	}
	d := p.tj
	if d.refused {
		return false, nil
	}
	src, size := (*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data))
	// A stream that ends before the frame header reads as tables only: the
	// call succeeds and leaves the size alone.
	d.width, d.height = 0, 0
	if C.tjDecompressHeader3(d.handle, src, size, &d.width, &d.height, &d.subsampling, &d.colorspace) != 0 ||
		d.width <= 0 || d.height <= 0 {
		return false, nil
	}
	w, h := int(d.width), int(d.height)
	if err := p.checkSize("jpeg", w, h); err != nil {
		return false, err
	}
	format, bpp, bgr := C.int(C.TJPF_RGB), 3, false
	switch {
	case d.colorspace == C.TJCS_CMYK || d.colorspace == C.TJCS_YCCK:
		return false, nil
	case p.ch == 1 || d.colorspace == C.TJCS_GRAY:
		format, bpp = C.TJPF_GRAY, 1
	case p.cfg.Color == BGR:
		format, bgr = C.TJPF_BGR, true
	}
	r, _ := p.place(w, h)
	scale := dctScale(w, h, r.Dx(), r.Dy())
	sw, sh := (w+scale-1)/scale, (h+scale-1)/scale
	n := sw * sh * bpp
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	dst := d.buf[:n]
	if C.tjDecompress2(d.handle, src, size, (*C.uchar)(unsafe.Pointer(&dst[0])),
		C.int(sw), C.int(sw*bpp), C.int(sh), format, turboFlags) != 0 {
		return false, nil
	}
	p.frame = frame{pix: dst, w: sw, h: sh, stride: sw * bpp, bpp: bpp, bgr: bgr, srcW: w, srcH: h, scale: scale}
	return true, nil
}

// newTurboDecoder returns a decoder with its own libjpeg-turbo handle,
// which is destroyed when the decoder is garbage.
func newTurboDecoder() *turboDecoder {
	h := C.tjInitDecompress()
	if h == nil {
		return &turboDecoder{refused: true}
	}
	d := &turboDecoder{handle: h}
	runtime.AddCleanup(d, func(h C.tjhandle) { C.tjDestroy(h) }, h)
	return d
}
