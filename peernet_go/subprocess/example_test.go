package subprocess_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/peernet/peernet_go/peernet_go/subprocess"
)

// cat answers every request with the request itself: the smallest program
// that speaks the exec protocol.
func Example() {
	p, err := subprocess.Start(subprocess.Options{Command: "cat"})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply, err := p.Call(ctx, []byte("hello"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", reply)
	// Output: hello
}
