package vision

import (
	"bytes"
	"image"
	"image/jpeg"

	"golang.org/x/image/draw"
)

// legacyPipeline is JPEG preprocessing as it was before libjpeg-turbo and
// the fixed-point resampler, kept as the benchmarks' baseline: image/jpeg
// decodes the sample, the image is converted to RGBA, x/image/draw's
// BiLinear kernel scaler draws it into an RGBA image of the input's size,
// and a lookup table normalises that into the tensor. It stretches, and
// writes RGB in either layout.
type legacyPipeline struct {
	cfg    Config
	tensor []float32
	lut    [3][256]float32
	dst    *image.RGBA
	conv   []byte
	rgba   image.RGBA
	rd     bytes.Reader
	scaler draw.Scaler
	key    [4]int
}

func newLegacyPipeline(cfg Config) (*legacyPipeline, error) {
	if err := cfg.Initialize(); err != nil {
		return nil, err
	}
	p := &legacyPipeline{cfg: cfg, tensor: make([]float32, cfg.Width*cfg.Height*3)}
	p.dst = image.NewRGBA(image.Rect(0, 0, cfg.Width, cfg.Height))
	for c := 0; c < 3; c++ {
		for v := 0; v < 256; v++ {
			p.lut[c][v] = (float32(v)*cfg.Scale - cfg.Mean[c]) / cfg.Std[c]
		}
	}
	return p, nil
}

func (p *legacyPipeline) run(jpg []byte) error {
	p.rd.Reset(jpg)
	src, err := jpeg.Decode(&p.rd)
	if err != nil {
		return err
	}
	b := src.Bounds()
	if n := b.Dx() * b.Dy() * 4; cap(p.conv) < n {
		p.conv = make([]byte, n)
	}
	p.rgba = image.RGBA{Pix: p.conv[:b.Dx()*b.Dy()*4], Stride: b.Dx() * 4, Rect: b}
	draw.Draw(&p.rgba, b, src, b.Min, draw.Src)
	key := [4]int{p.cfg.Width, p.cfg.Height, b.Dx(), b.Dy()}
	if p.scaler == nil || p.key != key {
		p.scaler = draw.BiLinear.NewScaler(key[0], key[1], key[2], key[3])
		p.key = key
	}
	p.scaler.Scale(p.dst, p.dst.Rect, &p.rgba, b, draw.Src, nil)
	n := p.cfg.Width * p.cfg.Height
	for i := 0; i < n; i++ {
		s := p.dst.Pix[i*4 : i*4+3 : i*4+3]
		if p.cfg.Layout == NHWC {
			d := p.tensor[i*3 : i*3+3 : i*3+3]
			d[0], d[1], d[2] = p.lut[0][s[0]], p.lut[1][s[1]], p.lut[2][s[2]]
		} else {
			p.tensor[i], p.tensor[n+i], p.tensor[2*n+i] = p.lut[0][s[0]], p.lut[1][s[1]], p.lut[2][s[2]]
		}
	}
	return nil
}
