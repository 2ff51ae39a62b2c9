//go:build tools

// This file pins the version of rclgo-gen, the generator of package rosgen,
// to the rclgo this module builds with; `make bindings` runs it.
package ros2

import _ "github.com/tiiuae/rclgo/cmd/rclgo-gen"
