package goplugin_test

import (
	"fmt"
	"time"

	"github.com/peernet/peernet_go/peernet_go/goplugin"
)

func ExampleParseSpec() {
	s, err := goplugin.ParseSpec("./plugins/counter.so::New")
	fmt.Println(s.Path, s.Symbol, err)

	_, err = goplugin.ParseSpec("plugin.so")
	fmt.Println(err)
	// Output:
	// ./plugins/counter.so New <nil>
	// goplugin: "plugin.so": want PATH::Symbol, e.g. ./sensor.so::New
}

func ExampleAs() {
	// A constructor symbol, as a plugin's Lookup would return it.
	var sym any = func() (time.Duration, error) { return 1500 * time.Millisecond, nil }
	s, err := goplugin.As[fmt.Stringer](sym)
	fmt.Println(s, err)
	// Output: 1.5s <nil>
}
