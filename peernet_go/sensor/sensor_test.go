package sensor_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/media"
	"github.com/peernet/peernet_go/peernet_go/sensor"
	"github.com/peernet/peernet_go/peernet_go/sensor/sensortest"
)

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func open(t testing.TB, o sensor.Options) sensor.Sensor {
	t.Helper()
	s, err := sensor.Open(ctx(t), o)
	if err != nil {
		t.Fatalf("Open(%+v): %v", o, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sample(t testing.TB, s sensor.Sensor) sensor.Sample {
	t.Helper()
	smp, err := s.Sample(ctx(t))
	if err != nil {
		t.Fatalf("Sample: %v", err)
	}
	return smp
}

// testImage is a 64×48 image: a red square on a blue background.
func testImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			c := color.RGBA{B: 200, A: 255}
			if x < 16 && y < 16 {
				c = color.RGBA{R: 250, G: 10, A: 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func writeImage(t testing.TB, path string, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	if strings.HasSuffix(strings.ToLower(path), ".png") {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello"), 0o644)
	os.WriteFile(filepath.Join(dir, "Legacy.py"), []byte("cs = None"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	os.WriteFile(filepath.Join(empty, "readme.txt"), nil, 0o644)
	known := "known types: random-bytes, random-string, image, image-folder, synthetic-camera, rosbag, external, exec:COMMAND"

	cases := []struct {
		o    sensor.Options
		want string
	}{
		{sensor.Options{Type: "webcam"}, `sensor: unknown type "webcam"; ` + known},
		{sensor.Options{}, `sensor: no sensor type given; ` + known},
		{sensor.Options{Type: "random-bytes", Size: "big"}, `sensor size "big": "big" is not a whole number of bytes (want N or MIN:MAX, e.g. 1024 or 64:4KiB)`},
		{sensor.Options{Type: "random string", Size: "10:5"}, `sensor size "10:5": minimum 10 is above maximum 5`},
		{sensor.Options{Type: "random-bytes", Size: "-3"}, `sensor size "-3": -3 is negative`},
		{sensor.Options{Type: "random-bytes", Size: "2GiB"}, `sensor size "2GiB": 2GiB is more than the 1073741824-byte limit`},
		{sensor.Options{Type: "random-bytes", Size: "5:"}, `sensor size "5:": missing number (want N or MIN:MAX bytes)`},
		{sensor.Options{Type: "random-bytes", Timeout: -time.Second}, `sensor: Timeout -1s is negative`},
		{sensor.Options{Type: "image"}, `sensor: image: DatasetLoc (--dataset-loc) is empty: name a JPEG or PNG file`},
		{sensor.Options{Type: "image", DatasetLoc: filepath.Join(dir, "missing.jpg")}, `sensor: image: open ` + filepath.Join(dir, "missing.jpg") + `: no such file or directory`},
		{sensor.Options{Type: "image", DatasetLoc: text}, `sensor: ` + text + `: not a JPEG or PNG file`},
		{sensor.Options{Type: "image", DatasetLoc: text, Format: "tiff"}, `sensor: Format "tiff": want "" (files as they are), jpeg, png, rgb8, bgr8 or mono8`},
		{sensor.Options{Type: "image", DatasetLoc: text, Quality: 101}, `sensor: Quality 101 is outside 1..100`},
		{sensor.Options{Type: "image-folder", DatasetLoc: empty}, `sensor: image-folder ` + empty + `: no .jpg, .jpeg or .png files`},
		{sensor.Options{Type: "image-folder"}, `sensor: image-folder: DatasetLoc (--dataset-loc) is empty: name a folder of JPEG or PNG files`},
		{sensor.Options{Type: "synthetic-camera", Width: 8, Height: 8}, `sensor: Width 8 is outside 16..16384`},
		{sensor.Options{Type: "synthetic-camera", Width: 64, Height: 100000}, `sensor: Height 100000 is outside 16..16384`},
		{sensor.Options{Type: "synthetic-camera", Format: "gif"}, `sensor: synthetic-camera: Format "gif": want jpeg, png, rgb8 or bgr8`},
		{sensor.Options{Type: "synthetic-camera", DatasetLoc: text}, `sensor: synthetic-camera: background ` + text + `: not a JPEG or PNG file`},
		{sensor.Options{Type: "exec: "}, `sensor: "exec: ": no command after "exec:"`},
		{sensor.Options{Type: "external"}, `sensor: external: Object (--sensor-object) is empty: name a Go plugin symbol, path/to/plugin.so::Symbol`},
		{sensor.Options{Type: "external", Object: "nothing.so"}, `sensor: external: goplugin: "nothing.so": want PATH::Symbol, e.g. ./sensor.so::New`},
		{sensor.Options{Type: "random-bytes", Encoding: strings.Repeat("x", 256)}, `sensor: Encoding is 256 bytes long, more than 255`},
	}
	for _, c := range cases {
		s, err := sensor.Open(ctx(t), c.o)
		if err == nil {
			s.Close()
			t.Errorf("Open(%+v) succeeded, want %s", c.o, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("Open(%+v):\n got %s\nwant %s", c.o, err, c.want)
		}
	}

	// PEERNet's module::object naming a Python module.
	_, err := sensor.Open(ctx(t), sensor.Options{Type: "external", Object: filepath.Join(dir, "Legacy") + "::cs"})
	if err == nil || !strings.Contains(err.Error(), "--sensor-type 'exec:python3 peernet_object.py sensor Legacy::cs'") {
		t.Errorf("Python module: %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sensor.Open(cancelled, sensor.Options{Type: "random-bytes"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	cases := map[string][2]int{
		"": {1024, 1024}, "0": {0, 0}, "7": {7, 7}, "64:128": {64, 128},
		"1KiB": {1024, 1024}, " 2 MiB ": {2 << 20, 2 << 20}, "1:1GiB": {1, 1 << 30}, "5:5": {5, 5},
	}
	for in, want := range cases {
		lo, hi, err := sensor.ParseSize(in)
		if err != nil || lo != want[0] || hi != want[1] {
			t.Errorf("ParseSize(%q) = %d, %d, %v; want %v", in, lo, hi, err, want)
		}
	}
	for _, in := range []string{"x", "1.5", "1KB", "1:2:3", ":", "0x10", "1GiB:2GiB", "99999999999999999999"} {
		if _, _, err := sensor.ParseSize(in); err == nil || !strings.HasPrefix(err.Error(), `sensor size "`+in+`": `) {
			t.Errorf("ParseSize(%q) error = %v", in, err)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"", "1024", "1:10", "4KiB:1MiB", "-1", "1:", "1GiB", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := sensor.ParseSize(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "sensor size ") {
				t.Fatalf("error %q does not name the size", err)
			}
			return
		}
		if lo < 0 || hi < lo || hi > sensor.MaxSampleSize {
			t.Fatalf("ParseSize(%q) = %d, %d", s, lo, hi)
		}
	})
}

func TestRandom(t *testing.T) {
	a := open(t, sensor.Options{Type: "random-bytes", Size: "100", Seed: 7})
	b := open(t, sensor.Options{Type: "random-bytes", Size: "100", Seed: 7})
	c := open(t, sensor.Options{Type: "random-bytes", Size: "100", Seed: 8})
	sa, sb, sc := sample(t, a), sample(t, b), sample(t, c)
	if !bytes.Equal(sa.Data, sb.Data) {
		t.Error("two sensors with one seed differ")
	}
	if bytes.Equal(sa.Data, sc.Data) {
		t.Error("two seeds give the same data")
	}
	if sa.Encoding != media.Bytes || len(sa.Data) != 100 {
		t.Errorf("sample: %d bytes of %s", len(sa.Data), sa.Encoding)
	}
	first := append([]byte(nil), sa.Data...)
	next := sample(t, a)
	if bytes.Equal(first, next.Data) {
		t.Error("consecutive samples are equal")
	}
	if &next.Data[0] != &sa.Data[0] {
		t.Error("the sensor did not reuse its buffer")
	}

	str := open(t, sensor.Options{Type: "random_string", Size: "3:9"})
	seen := map[int]bool{}
	for range 400 {
		smp := sample(t, str)
		if smp.Encoding != media.Text {
			t.Fatalf("random-string encoding %q", smp.Encoding)
		}
		seen[len(smp.Data)] = true
		for _, ch := range smp.Data {
			if ch < ' ' || ch > '~' {
				t.Fatalf("character %q is not printable ASCII", ch)
			}
		}
	}
	for n := 3; n <= 9; n++ {
		if !seen[n] {
			t.Errorf("size %d never drawn from 3:9 in 400 samples", n)
		}
	}
	if seen[2] || seen[10] {
		t.Errorf("sizes outside 3:9: %v", seen)
	}
	// Every printable character turns up.
	big := sample(t, open(t, sensor.Options{Type: "random-string", Size: "64KiB"}))
	chars := map[byte]bool{}
	for _, ch := range big.Data {
		chars[ch] = true
	}
	if len(chars) != 95 {
		t.Errorf("%d distinct characters in 64 KiB, want all 95", len(chars))
	}
}

func TestImage(t *testing.T) {
	dir := t.TempDir()
	img := testImage()
	pngPath := filepath.Join(dir, "square.png")
	pngBytes := writeImage(t, pngPath, img)
	jpgPath := filepath.Join(dir, "square.jpg")
	jpgBytes := writeImage(t, jpgPath, img)

	s := open(t, sensor.Options{Type: "image", DatasetLoc: pngPath})
	for range 3 {
		smp := sample(t, s)
		if smp.Encoding != media.PNG || !bytes.Equal(smp.Data, pngBytes) {
			t.Fatalf("png sample: %s, %d bytes", smp.Encoding, len(smp.Data))
		}
	}
	if smp := sample(t, open(t, sensor.Options{Type: "image", DatasetLoc: jpgPath})); smp.Encoding != media.JPEG || !bytes.Equal(smp.Data, jpgBytes) {
		t.Errorf("jpeg sample: %s, %d bytes", smp.Encoding, len(smp.Data))
	}

	raw := sample(t, open(t, sensor.Options{Type: "image", DatasetLoc: pngPath, Format: "rgb8"}))
	if raw.Encoding != "rgb8:64x48" || len(raw.Data) != 64*48*3 {
		t.Fatalf("rgb8: %s, %d bytes", raw.Encoding, len(raw.Data))
	}
	if got := raw.Data[:3]; !bytes.Equal(got, []byte{250, 10, 0}) {
		t.Errorf("rgb8 top-left pixel = %v", got)
	}
	if got := raw.Data[len(raw.Data)-3:]; !bytes.Equal(got, []byte{0, 0, 200}) {
		t.Errorf("rgb8 bottom-right pixel = %v", got)
	}
	bgr := sample(t, open(t, sensor.Options{Type: "image", DatasetLoc: pngPath, Format: "bgr8"}))
	if bgr.Encoding != "bgr8:64x48" || !bytes.Equal(bgr.Data[:3], []byte{0, 10, 250}) {
		t.Errorf("bgr8: %s %v", bgr.Encoding, bgr.Data[:3])
	}
	mono := sample(t, open(t, sensor.Options{Type: "image", DatasetLoc: pngPath, Format: "mono8"}))
	if mono.Encoding != "mono8:64x48" || len(mono.Data) != 64*48 {
		t.Errorf("mono8: %s, %d bytes", mono.Encoding, len(mono.Data))
	}
	conv := sample(t, open(t, sensor.Options{Type: "image", DatasetLoc: pngPath, Format: "jpeg", Quality: 50}))
	if conv.Encoding != media.JPEG || sensortest.CheckData(conv.Data, media.JPEG) != nil {
		t.Errorf("png converted to jpeg: %s", conv.Encoding)
	}
}

func TestImageFolder(t *testing.T) {
	dir := t.TempDir()
	img := testImage()
	files := []string{"a.png", "b.JPG", "c.jpeg"}
	var want [][]byte
	for _, f := range files {
		want = append(want, writeImage(t, filepath.Join(dir, f), img))
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("skip me"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub.png"), 0o755)

	s := open(t, sensor.Options{Type: "image-folder", DatasetLoc: dir})
	for i := range 7 {
		smp := sample(t, s)
		if !bytes.Equal(smp.Data, want[i%3]) {
			t.Fatalf("sample %d is not %s", i, files[i%3])
		}
		wantEnc := media.JPEG
		if i%3 == 0 {
			wantEnc = media.PNG
		}
		if smp.Encoding != wantEnc {
			t.Errorf("sample %d: encoding %s, want %s", i, smp.Encoding, wantEnc)
		}
	}

	raw := open(t, sensor.Options{Type: "image-folder", DatasetLoc: dir, Format: "rgb8"})
	for range 4 {
		if smp := sample(t, raw); smp.Encoding != "rgb8:64x48" || len(smp.Data) != 64*48*3 {
			t.Fatalf("rgb8 sample: %s, %d bytes", smp.Encoding, len(smp.Data))
		}
	}

	// A broken file fails at its turn, naming the file.
	bad := filepath.Join(dir, "d.jpg")
	os.WriteFile(bad, []byte("not a jpeg"), 0o644)
	s = open(t, sensor.Options{Type: "image-folder", DatasetLoc: dir})
	for range 3 {
		sample(t, s)
	}
	if _, err := s.Sample(ctx(t)); err == nil || err.Error() != "sensor: "+bad+": not a JPEG or PNG file" {
		t.Errorf("broken file: %v", err)
	}
}

func TestSyntheticCamera(t *testing.T) {
	s := open(t, sensor.Options{Type: "synthetic-camera"})
	a := sample(t, s)
	if a.Encoding != media.JPEG {
		t.Fatalf("default encoding %s", a.Encoding)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(a.Data))
	if err != nil || cfg.Width != 640 || cfg.Height != 480 {
		t.Fatalf("frame: %+v, %v", cfg, err)
	}
	first := append([]byte(nil), a.Data...)
	if b := sample(t, s); bytes.Equal(first, b.Data) {
		t.Error("two frames are identical")
	}

	raw := open(t, sensor.Options{Type: "synthetic-camera", Width: 320, Height: 200, Format: "rgb8"})
	f1 := append([]byte(nil), sample(t, raw).Data...)
	f2 := sample(t, raw)
	if f2.Encoding != "rgb8:320x200" || len(f2.Data) != 320*200*3 {
		t.Fatalf("rgb8 frame: %s, %d bytes", f2.Encoding, len(f2.Data))
	}
	if bytes.Equal(f1, f2.Data) {
		t.Error("two raw frames are identical")
	}
	allocs := testing.AllocsPerRun(20, func() { raw.Sample(context.Background()) })
	if allocs != 0 {
		t.Errorf("rgb8 Sample allocates %v times per call, want 0", allocs)
	}

	// Over a background image, the image shows away from the bar and the
	// counter.
	dir := t.TempDir()
	bg := filepath.Join(dir, "bg.png")
	writeImage(t, bg, testImage())
	over := open(t, sensor.Options{Type: "synthetic-camera", Width: 128, Height: 96, Format: "bgr8", DatasetLoc: bg})
	frame := sample(t, over).Data
	px := func(x, y int) []byte { o := (y*128 + x) * 3; return frame[o : o+3] }
	if got := px(120, 90); !bytes.Equal(got, []byte{200, 0, 0}) {
		t.Errorf("background pixel (bgr) = %v, want blue", got)
	}
	if got := px(20, 25); !bytes.Equal(got, []byte{0, 10, 250}) {
		t.Errorf("red square pixel (bgr) = %v, want red", got)
	}
	png := sample(t, open(t, sensor.Options{Type: "synthetic-camera", Width: 64, Height: 64, Format: "png"}))
	if err := sensortest.CheckData(png.Data, media.PNG); err != nil {
		t.Error(err)
	}
}

func TestExecSensor(t *testing.T) {
	s := open(t, sensor.Options{Type: "exec:sh ../examples/exec/sensor.sh 512", Encoding: "cdr:std_msgs/msg/String"})
	smp := sample(t, s)
	if len(smp.Data) != 512 || smp.Encoding != "cdr:std_msgs/msg/String" {
		t.Errorf("exec sample: %d bytes of %s", len(smp.Data), smp.Encoding)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	dead := open(t, sensor.Options{Type: "exec:echo oops >&2; exit 4"})
	_, err := dead.Sample(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "exit status 4") || !strings.Contains(err.Error(), "oops") {
		t.Errorf("dead program: %v", err)
	}
	slow := open(t, sensor.Options{Type: "exec:sleep 5", Timeout: 100 * time.Millisecond})
	start := time.Now()
	if _, err := slow.Sample(ctx(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow program: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout of 100ms took %v", d)
	}
}

func TestConformance(t *testing.T) {
	dir := t.TempDir()
	img := testImage()
	pngPath := filepath.Join(dir, "a.png")
	writeImage(t, pngPath, img)
	writeImage(t, filepath.Join(dir, "b.jpg"), img)

	cases := map[string]sensor.Options{
		"random-bytes":           {Type: "random-bytes"},
		"random-bytes-range":     {Type: "random-bytes", Size: "0:300"},
		"random-string":          {Type: "random string", Size: "33"},
		"image":                  {Type: "image", DatasetLoc: pngPath},
		"image-rgb8":             {Type: "image", DatasetLoc: pngPath, Format: "rgb8"},
		"image-folder":           {Type: "image-folder", DatasetLoc: dir},
		"image-folder-mono8":     {Type: "image-folder", DatasetLoc: dir, Format: "mono8"},
		"synthetic-camera":       {Type: "synthetic-camera", Width: 160, Height: 120},
		"synthetic-camera-rgb8":  {Type: "synthetic-camera", Format: "rgb8"},
		"synthetic-camera-bg":    {Type: "synthetic-camera", DatasetLoc: pngPath, Format: "png", Width: 64, Height: 64},
		"exec-sh":                {Type: "exec:sh ../examples/exec/sensor.sh 100"},
		"exec-cat-json-encoding": {Type: `exec:sh -c 'while [ "$(dd bs=4 count=1 status=none | wc -c)" -eq 4 ]; do printf "\000\000\000\002{}"; done'`, Encoding: media.JSON},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sensortest.Run(t, func(t *testing.T) sensor.Sensor {
				s, err := sensor.Open(ctx(t), o)
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
		})
	}
}
