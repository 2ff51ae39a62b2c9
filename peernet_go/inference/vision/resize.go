package vision

import "math"

// frame is a decoded image ready to resize: interleaved 8-bit pixels, one
// or three channels used, and the size of the image they came from.
type frame struct {
	pix    []byte
	w, h   int // pixels in pix
	stride int // bytes from one row to the next
	bpp    int // bytes per pixel: 1 (gray), 3 or 4; only the first three are read
	bgr    bool

	// srcW and srcH are the source image's size; w and h are smaller when
	// the decoder produced a reduced image (JPEG DCT scaling), which then
	// covers srcW/scale × srcH/scale of its pixels.
	srcW, srcH int
	scale      int
}

// setPacked makes f a view of w×h pixels of bpp bytes in pix, rows step
// bytes apart, at full scale.
func (f *frame) setPacked(pix []byte, w, h, step, bpp int, bgr bool) {
	*f = frame{pix: pix, w: w, h: h, stride: step, bpp: bpp, bgr: bgr, srcW: w, srcH: h, scale: 1}
}

// filter is a resampling filter of the resampler.
type filter uint8

const (
	filterNearest  filter = iota // the nearest source sample
	filterLinear                 // the two nearest samples, linear weights
	filterBilinear               // filterLinear up to a 2× shrink, the area each output covers beyond
	filterCubic                  // the Catmull-Rom kernel, widened when shrinking
)

// Fixed-point scales. Weights sum to 1<<weightBits. A horizontal pass
// keeps midBits fractional bits of each value; the vertical pass ends with
// outBits, so that 255<<outBits is a full-scale sample. Horizontal values
// are at most 255<<midBits (a little more with Catmull-Rom's overshoot,
// whose weights' magnitudes sum to less than 1.2), so every sum fits in an
// int32.
const (
	weightBits = 14
	midBits    = 7
	midShift   = weightBits - midBits
	outBits    = weightBits + midBits
	maxOut     = 255 << outBits
)

// taps says how one axis is resampled: output i is the sum over k < n of
// w[i*n+k] × source sample start[i]+k. Every output has n taps (padded with
// zero weights), start never decreases, and start[i]+n never exceeds the
// source length.
type taps struct {
	n     int
	start []int32
	w     []int32
}

// tapsKey identifies a taps table: filter, source samples, output samples
// and the source extent the outputs cover, in 1/scale units.
type tapsKey struct {
	f             filter
	src, dst, ext int
	scale         int
}

// make fills t for resampling k.src source samples, of which the first
// k.ext/k.scale (at most k.src) are covered by k.dst output samples, with
// filter k.f. Output i's centre lies at source coordinate
// (i+0.5)×ext/scale/dst, source sample j's at j+0.5. wf is scratch space,
// returned grown for the next call.
func (t *taps) make(k tapsKey, wf []float64) []float64 {
	src, dst := k.src, k.dst
	extent := float64(k.ext) / float64(k.scale)
	scale := extent / float64(dst)
	type span struct {
		a, b int // source samples a..b-1
		off  int // index of sample a's weight in wf
	}
	spans := make([]span, dst)
	wf = wf[:0]
	for i := range spans {
		a, off := 0, len(wf)
		switch k.f {
		case filterNearest:
			a = min(int((float64(i)+0.5)*scale), src-1)
			wf = append(wf, 1)
		case filterBilinear:
			if scale > 2 {
				// Each output averages the source interval it covers,
				// [i, i+1)×scale, weighting each sample by the length
				// they share. At a 2× shrink this is linear
				// interpolation halfway between two samples.
				lo, hi := float64(i)*scale, float64(i+1)*scale
				a = int(lo)
				for j := a; j < src && float64(j) < hi; j++ {
					wf = append(wf, min(hi, float64(j+1))-max(lo, float64(j)))
				}
				break
			}
			fallthrough
		case filterLinear:
			c := max((float64(i)+0.5)*scale-0.5, 0)
			a = int(c)
			if a >= src-1 {
				a = src - 1
				wf = append(wf, 1)
			} else {
				f := c - float64(a)
				wf = append(wf, 1-f, f)
			}
		default:
			a = cubicWeights(&wf, i, src, scale)
		}
		// Trim zero weights at both ends.
		b := a + len(wf) - off
		for b > a+1 && wf[off+b-a-1] == 0 {
			b--
		}
		for a < b-1 && wf[off] == 0 {
			a++
			off++
		}
		spans[i] = span{a, b, off}
	}
	// Starts never decrease (the vertical pass relies on it), though
	// trimming can make a span begin before the one above it: each start
	// is the least first sample of its own span and all those after it.
	t.start = resize32(t.start, dst)
	first := src
	for i := dst - 1; i >= 0; i-- {
		first = min(first, spans[i].a)
		t.start[i] = int32(first)
	}
	n := 1
	for i, s := range spans {
		n = max(n, s.b-int(t.start[i]))
	}
	t.n = n
	t.w = resize32(t.w, dst*n)
	clear(t.w)
	for i, s := range spans {
		start := min(int(t.start[i]), src-n)
		t.start[i] = int32(start)
		quantize(t.w[i*n+s.a-start:i*n+s.b-start], wf[s.off:s.off+s.b-s.a])
	}
	return wf
}

// cubicWeights appends the weights of the Catmull-Rom kernel for output i
// to wf and returns the first source sample they apply to. As in
// golang.org/x/image/draw, the kernel is widened by the scale when
// shrinking, and samples outside the source are left out (the weights are
// normalised later).
func cubicWeights(wf *[]float64, i, src int, scale float64) int {
	const support = 2
	half, argScale := float64(support), 1.0
	if scale > 1 {
		half *= scale
		argScale = 1 / scale
	}
	c := (float64(i)+0.5)*scale - 0.5
	a := max(int(math.Floor(c-half)), 0)
	b := min(int(math.Ceil(c+half)), src)
	first := -1
	for j := a; j < b; j++ {
		d := math.Abs((c - float64(j)) * argScale)
		w := 0.0
		if d < support {
			w = catmullRom(d)
		}
		if first < 0 {
			if w == 0 {
				continue
			}
			first = j
		}
		*wf = append(*wf, w)
	}
	if first < 0 { // no sample in reach: take the nearest
		*wf = append(*wf, 1)
		return min(max(int(c+0.5), 0), src-1)
	}
	return first
}

// catmullRom is the Catmull-Rom kernel at distance d < 2.
func catmullRom(d float64) float64 {
	if d < 1 {
		return (1.5*d-2.5)*d*d + 1
	}
	return ((-0.5*d+2.5)*d-4)*d + 2
}

// quantize writes the weights wf, normalised to sum 1<<weightBits, into w.
// Rounding errors go to the largest weight, so the sum is exact and a
// uniform image stays uniform.
func quantize(w []int32, wf []float64) {
	var sum float64
	for _, v := range wf {
		sum += v
	}
	var total int32
	big := 0
	for j, v := range wf {
		w[j] = int32(math.Round(v / sum * (1 << weightBits)))
		total += w[j]
		if abs32(w[j]) > abs32(w[big]) {
			big = j
		}
	}
	w[big] += 1<<weightBits - total
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

func resize32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// resampler resizes a frame into a float32 tensor: a horizontal pass per
// source row into a ring of fixed-point rows, then a vertical pass per
// output row that normalises and stores each value in the tensor's layout.
// Its buffers and tap tables are kept and rebuilt only when a size
// changes.
type resampler struct {
	f          filter
	xs, ys     taps
	xkey, ykey tapsKey
	wf         []float64 // scratch for building taps
	ring       []int32   // ys.n rows of dw × channels values
	acc        []int32   // one output row
}

// out says where the resampler writes: the tensor, its size, layout and
// channel order, the rectangle of it the image fills, and the affine map
// from a fixed-point sample to a tensor value, per tensor channel.
type out struct {
	t        []float32
	w, h, ch int
	nhwc     bool
	bgr      bool
	x0, y0   int
	dw, dh   int
	mul, add [3]float32
}

// resize resamples f into the rectangle of o.
func (z *resampler) resize(f *frame, o *out) {
	xk := tapsKey{z.f, f.w, o.dw, f.srcW, f.scale}
	yk := tapsKey{z.f, f.h, o.dh, f.srcH, f.scale}
	if xk != z.xkey {
		z.wf = z.xs.make(xk, z.wf)
		z.xkey = xk
	}
	if yk != z.ykey {
		z.wf = z.ys.make(yk, z.wf)
		z.ykey = yk
	}
	cm := 3 // channels of the fixed-point rows
	if f.bpp == 1 || o.ch == 1 {
		cm = 1
	}
	rowLen := o.dw * cm
	ny := z.ys.n
	z.ring = resize32(z.ring, ny*rowLen)
	z.acc = resize32(z.acc, rowLen)
	next := 0 // the next source row to resample horizontally
	for oy := 0; oy < o.dh; oy++ {
		s := int(z.ys.start[oy])
		for r := max(next, s); r < s+ny; r++ {
			row := f.pix[r*f.stride:]
			dst := z.ring[(r%ny)*rowLen : (r%ny+1)*rowLen]
			switch {
			case f.bpp == 1:
				hpass1(dst, row, &z.xs)
			case cm == 1:
				hpassLuma(dst, row, &z.xs, f.bpp, f.bgr)
			default:
				hpass3(dst, row, &z.xs, f.bpp)
			}
		}
		next = s + ny
		ws := z.ys.w[oy*ny : oy*ny+ny]
		acc := z.acc
		if ny == 1 { // the one weight is exactly 1<<weightBits
			for i, v := range z.ring[:rowLen] {
				acc[i] = v << weightBits
			}
		} else {
			vpass(acc, z.ring, rowLen, s, ws)
		}
		o.store(oy, acc, cm, f.bgr)
	}
	o.pad()
}

// hpass3 resamples one row of 3 or 4 bytes per pixel into 3 values per
// output, in the source's channel order. Packed 3-byte rows with up to 6
// taps, the common case, take unrolled loops.
func hpass3(dst []int32, row []byte, t *taps, bpp int) {
	if bpp == 3 {
		switch t.n {
		case 1:
			hpassRGB1(dst, row, t)
			return
		case 2:
			hpassRGB2(dst, row, t)
			return
		case 3:
			hpassRGB3(dst, row, t)
			return
		case 4:
			hpassRGB4(dst, row, t)
			return
		case 5:
			hpassRGB5(dst, row, t)
			return
		case 6:
			hpassRGB6(dst, row, t)
			return
		}
	}
	n := t.n
	ws := t.w[:len(t.start)*n]
	dst = dst[:len(t.start)*3]
	for x, s := range t.start {
		p := row[int(s)*bpp:]
		w := ws[x*n : x*n+n : x*n+n]
		var a0, a1, a2 int32
		for k, wk := range w {
			q := p[k*bpp : k*bpp+3 : k*bpp+3]
			a0 += wk * int32(q[0])
			a1 += wk * int32(q[1])
			a2 += wk * int32(q[2])
		}
		mid3(dst, x, a0, a1, a2)
	}
}

// mid3 stores output x of a horizontal pass, rounded to midBits.
func mid3(dst []int32, x int, a0, a1, a2 int32) {
	d := dst[x*3 : x*3+3 : x*3+3]
	d[0] = (a0 + 1<<(midShift-1)) >> midShift
	d[1] = (a1 + 1<<(midShift-1)) >> midShift
	d[2] = (a2 + 1<<(midShift-1)) >> midShift
}

// hpassRGB1 to hpassRGB6 are hpass3 for 3-byte pixels and 1 to 6 taps.
func hpassRGB1(dst []int32, row []byte, t *taps) {
	ws := t.w[:len(t.start)*1]
	for x, s := range t.start {
		o := int(s) * 3
		p := row[o : o+3 : o+3]
		w := ws[x*1 : x*1+1 : x*1+1]
		a0 := w[0] * int32(p[0])
		a1 := w[0] * int32(p[1])
		a2 := w[0] * int32(p[2])
		mid3(dst, x, a0, a1, a2)
	}
}

func hpassRGB2(dst []int32, row []byte, t *taps) {
	ws := t.w[:len(t.start)*2]
	for x, s := range t.start {
		o := int(s) * 3
		p := row[o : o+6 : o+6]
		w := ws[x*2 : x*2+2 : x*2+2]
		a0 := w[0]*int32(p[0]) + w[1]*int32(p[3])
		a1 := w[0]*int32(p[1]) + w[1]*int32(p[4])
		a2 := w[0]*int32(p[2]) + w[1]*int32(p[5])
		mid3(dst, x, a0, a1, a2)
	}
}

func hpassRGB3(dst []int32, row []byte, t *taps) {
	ws := t.w[:len(t.start)*3]
	for x, s := range t.start {
		o := int(s) * 3
		p := row[o : o+9 : o+9]
		w := ws[x*3 : x*3+3 : x*3+3]
		a0 := w[0]*int32(p[0]) + w[1]*int32(p[3]) + w[2]*int32(p[6])
		a1 := w[0]*int32(p[1]) + w[1]*int32(p[4]) + w[2]*int32(p[7])
		a2 := w[0]*int32(p[2]) + w[1]*int32(p[5]) + w[2]*int32(p[8])
		mid3(dst, x, a0, a1, a2)
	}
}

func hpassRGB4(dst []int32, row []byte, t *taps) {
	ws := t.w[:len(t.start)*4]
	for x, s := range t.start {
		o := int(s) * 3
		p := row[o : o+12 : o+12]
		w := ws[x*4 : x*4+4 : x*4+4]
		a0 := w[0]*int32(p[0]) + w[1]*int32(p[3]) + w[2]*int32(p[6]) + w[3]*int32(p[9])
		a1 := w[0]*int32(p[1]) + w[1]*int32(p[4]) + w[2]*int32(p[7]) + w[3]*int32(p[10])
		a2 := w[0]*int32(p[2]) + w[1]*int32(p[5]) + w[2]*int32(p[8]) + w[3]*int32(p[11])
		mid3(dst, x, a0, a1, a2)
	}
}

func hpassRGB5(dst []int32, row []byte, t *taps) {
	ws := t.w[:len(t.start)*5]
	for x, s := range t.start {
		o := int(s) * 3
		p := row[o : o+15 : o+15]
		w := ws[x*5 : x*5+5 : x*5+5]
		a0 := w[0]*int32(p[0]) + w[1]*int32(p[3]) + w[2]*int32(p[6]) + w[3]*int32(p[9]) + w[4]*int32(p[12])
		a1 := w[0]*int32(p[1]) + w[1]*int32(p[4]) + w[2]*int32(p[7]) + w[3]*int32(p[10]) + w[4]*int32(p[13])
		a2 := w[0]*int32(p[2]) + w[1]*int32(p[5]) + w[2]*int32(p[8]) + w[3]*int32(p[11]) + w[4]*int32(p[14])
		mid3(dst, x, a0, a1, a2)
	}
}

func hpassRGB6(dst []int32, row []byte, t *taps) {
	ws := t.w[:len(t.start)*6]
	for x, s := range t.start {
		o := int(s) * 3
		p := row[o : o+18 : o+18]
		w := ws[x*6 : x*6+6 : x*6+6]
		a0 := w[0]*int32(p[0]) + w[1]*int32(p[3]) + w[2]*int32(p[6]) + w[3]*int32(p[9]) + w[4]*int32(p[12]) + w[5]*int32(p[15])
		a1 := w[0]*int32(p[1]) + w[1]*int32(p[4]) + w[2]*int32(p[7]) + w[3]*int32(p[10]) + w[4]*int32(p[13]) + w[5]*int32(p[16])
		a2 := w[0]*int32(p[2]) + w[1]*int32(p[5]) + w[2]*int32(p[8]) + w[3]*int32(p[11]) + w[4]*int32(p[14]) + w[5]*int32(p[17])
		mid3(dst, x, a0, a1, a2)
	}
}

// hpass1 resamples one row of a one-byte-per-pixel (gray) source.
func hpass1(dst []int32, row []byte, t *taps) {
	n := t.n
	ws := t.w[:len(t.start)*n]
	dst = dst[:len(t.start)]
	for x, s := range t.start {
		p := row[s:]
		w := ws[x*n : x*n+n : x*n+n]
		var a int32
		for k, wk := range w {
			a += wk * int32(p[k])
		}
		dst[x] = (a + 1<<(midShift-1)) >> midShift
	}
}

// Luma weights of ITU-R BT.601 in 16-bit fixed point, as image/color
// converts RGB to Gray.
const (
	lumaR = 19595
	lumaG = 38470
	lumaB = 7471
)

// hpassLuma resamples the luma of one row of 3 or 4 bytes per pixel.
func hpassLuma(dst []int32, row []byte, t *taps, bpp int, bgr bool) {
	wr, wb := int32(lumaR), int32(lumaB)
	if bgr {
		wr, wb = wb, wr
	}
	n := t.n
	ws := t.w[:len(t.start)*n]
	dst = dst[:len(t.start)]
	for x, s := range t.start {
		p := row[int(s)*bpp:]
		w := ws[x*n : x*n+n : x*n+n]
		var a int32
		for k, wk := range w {
			q := p[k*bpp : k*bpp+3 : k*bpp+3]
			y := (wr*int32(q[0]) + lumaG*int32(q[1]) + wb*int32(q[2]) + 1<<15) >> 16
			a += wk * y
		}
		dst[x] = (a + 1<<(midShift-1)) >> midShift
	}
}

// vpass sums the rows s..s+len(ws)-1 of the ring, weighted, into acc.
func vpass(acc, ring []int32, rowLen, s int, ws []int32) {
	n := len(ws)
	slot := func(k int) []int32 {
		r := (s + k) % n
		return ring[r*rowLen : (r+1)*rowLen : (r+1)*rowLen]
	}
	acc = acc[:rowLen]
	m0 := slot(0)
	w0 := ws[0]
	if n == 2 {
		m1, w1 := slot(1), ws[1]
		m1 = m1[:len(m0)]
		acc = acc[:len(m0)]
		for i, v := range m0 {
			acc[i] = w0*v + w1*m1[i]
		}
		return
	}
	acc = acc[:len(m0)]
	for i, v := range m0 {
		acc[i] = w0 * v
	}
	for k := 1; k < n; k++ {
		w := ws[k]
		if w == 0 {
			continue
		}
		m := slot(k)[:len(acc)]
		for i, v := range m {
			acc[i] += w * v
		}
	}
}

func clampOut(v int32) float32 {
	return float32(min(max(v, 0), maxOut))
}

// store writes one output row of fixed-point values (cm per pixel, in the
// frame's channel order) into the tensor.
func (o *out) store(oy int, acc []int32, cm int, bgr bool) {
	y := o.y0 + oy
	plane := o.w * o.h
	m0, m1, m2 := o.mul[0], o.mul[1], o.mul[2]
	a0, a1, a2 := o.add[0], o.add[1], o.add[2]
	switch {
	case o.ch == 1:
		t := o.t[y*o.w+o.x0 : y*o.w+o.x0+o.dw]
		acc = acc[:len(t)]
		for x, v := range acc {
			t[x] = clampOut(v)*m0 + a0
		}
	case cm == 1 && o.nhwc:
		t := o.t[(y*o.w+o.x0)*3 : (y*o.w+o.x0+o.dw)*3]
		acc = acc[:len(t)/3]
		for x, v := range acc {
			f := clampOut(v)
			d := t[x*3 : x*3+3 : x*3+3]
			d[0], d[1], d[2] = f*m0+a0, f*m1+a1, f*m2+a2
		}
	case cm == 1:
		i := y*o.w + o.x0
		t0, t1, t2 := o.t[i:i+o.dw], o.t[plane+i:plane+i+o.dw], o.t[2*plane+i:2*plane+i+o.dw]
		acc = acc[:len(t0)]
		for x, v := range acc {
			f := clampOut(v)
			t0[x], t1[x], t2[x] = f*m0+a0, f*m1+a1, f*m2+a2
		}
	default:
		// Tensor channel 0 is red for an RGB tensor, blue for a BGR one;
		// the rows hold the frame's order.
		c0, c2 := 0, 2
		if bgr != o.bgr {
			c0, c2 = 2, 0
		}
		if o.nhwc {
			t := o.t[(y*o.w+o.x0)*3 : (y*o.w+o.x0+o.dw)*3]
			acc = acc[:len(t)]
			for x := 0; x < len(t); x += 3 {
				s, d := acc[x:x+3:x+3], t[x:x+3:x+3]
				d[0] = clampOut(s[c0])*m0 + a0
				d[1] = clampOut(s[1])*m1 + a1
				d[2] = clampOut(s[c2])*m2 + a2
			}
			return
		}
		i := y*o.w + o.x0
		t0, t1, t2 := o.t[i:i+o.dw], o.t[plane+i:plane+i+o.dw], o.t[2*plane+i:2*plane+i+o.dw]
		acc = acc[:len(t0)*3]
		for x := range t0 {
			s := acc[x*3 : x*3+3 : x*3+3]
			t0[x] = clampOut(s[c0])*m0 + a0
			t1[x] = clampOut(s[1])*m1 + a1
			t2[x] = clampOut(s[c2])*m2 + a2
		}
	}
}

// pad sets the tensor outside the image's rectangle to black.
func (o *out) pad() {
	if o.dw == o.w && o.dh == o.h {
		return
	}
	plane := o.w * o.h
	for c := 0; c < o.ch; c++ {
		v := o.add[c]
		set := func(y, x0, x1 int) {
			if o.nhwc {
				for x := x0; x < x1; x++ {
					o.t[(y*o.w+x)*o.ch+c] = v
				}
				return
			}
			row := o.t[c*plane+y*o.w:]
			for x := x0; x < x1; x++ {
				row[x] = v
			}
		}
		for y := 0; y < o.h; y++ {
			if y < o.y0 || y >= o.y0+o.dh {
				set(y, 0, o.w)
				continue
			}
			set(y, 0, o.x0)
			set(y, o.x0+o.dw, o.w)
		}
	}
}
