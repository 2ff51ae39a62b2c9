package transporttest_test

import (
	"fmt"
	"strings"

	"github.com/peernet/peernet_go/peernet_go/network/transporttest"
)

// A transport's test passes a Harness to Run; see the package
// documentation. Subtests lists what Run checks, and the names
// Harness.Skip accepts.
func ExampleSubtests() {
	fmt.Println(strings.Join(transporttest.Subtests(), "\n"))
	// Output:
	// RequestReply
	// Ordering
	// TwoClients
	// RecvDeadline
	// ServerRecvDeadline
	// Cancel
	// LargePayload
	// OverMaxFrame
	// ServerRestart
	// ClientRestart
	// CloseDuringRecv
	// UseAfterClose
	// Garbage
	// Wake
}
