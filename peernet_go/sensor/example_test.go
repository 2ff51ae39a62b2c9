package sensor_test

import (
	"context"
	"fmt"
	"log"

	"github.com/peernet/peernet_go/peernet_go/sensor"
)

func ExampleOpen() {
	ctx := context.Background()
	s, err := sensor.Open(ctx, sensor.Options{Type: "random-string", Size: "16", Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	smp, err := s.Sample(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// smp.Data is valid until the next Sample: copy it to keep it.
	fmt.Println(len(smp.Data), smp.Encoding)
	// Output: 16 text
}

func ExampleOpen_syntheticCamera() {
	ctx := context.Background()
	s, err := sensor.Open(ctx, sensor.Options{Type: "synthetic-camera", Width: 320, Height: 240, Format: "rgb8"})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	smp, err := s.Sample(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(smp.Encoding, len(smp.Data))
	// Output: rgb8:320x240 230400
}

func ExampleParseSize() {
	lo, hi, err := sensor.ParseSize("64:4KiB")
	fmt.Println(lo, hi, err)
	// Output: 64 4096 <nil>
}
