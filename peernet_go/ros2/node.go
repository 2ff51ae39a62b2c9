//go:build ros2

package ros2

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/tiiuae/rclgo/pkg/rclgo"

	"github.com/peernet/peernet_go/peernet_go/rosnode"
	"github.com/peernet/peernet_go/peernet_go/rosnode/params"

	"github.com/peernet/peernet_go/peernet_go/internal/errline"
)

// Node is a running ROS 2 node with what rosnode needs.
type Node struct {
	// Env holds the node's Host, name and logger.
	Env rosnode.Env
	// Params are the node's parameters from its --ros-args.
	Params params.Params
	// Node is the rclgo node.
	Node *rclgo.Node
}

// Main runs a node program: it initializes ROS 2 with the command line's
// --ros-args (remappings such as __node:=, parameters, parameter files),
// creates the node name (which those remappings may rename), reads its
// parameters, and calls run until it returns or the process is
// interrupted (SIGINT, SIGTERM: ctx ends). It returns the exit status.
func Main(name, version string, run func(ctx context.Context, n *Node) error) int {
	logger := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	if err := mainErr(name, version, logger, run); err != nil {
		logger.Printf("%s: %v", name, err)
		return 1
	}
	return 0
}

func mainErr(name, version string, logger *log.Logger, run func(ctx context.Context, n *Node) error) (err error) {
	rclArgs, _, err := rclgo.ParseArgs(os.Args[1:])
	if err != nil {
		return fmt.Errorf("ROS arguments: %s", errline.First(err.Error()))
	}
	rctx, err := rclgo.NewContext(rclgo.ClockTypeROSTime, rclArgs)
	if err != nil {
		return fmt.Errorf("initializing ROS 2: %s", errline.First(err.Error()))
	}
	defer func() { err = errors.Join(err, closeErr("context", rctx.Close())) }()
	node, err := rctx.NewNode(name, "")
	if err != nil {
		return fmt.Errorf("creating the node: %s", errline.First(err.Error()))
	}
	host := NewHost(node)
	defer func() { err = errors.Join(err, closeErr("host", host.Close())) }()

	params, err := params.FromArgs(os.Args[1:], node.FullyQualifiedName())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n := &Node{
		Env: rosnode.Env{
			Host: host, Node: node.FullyQualifiedName(), Version: version,
			Args: os.Args, Logf: logger.Printf,
		},
		Params: params,
		Node:   node,
	}
	return run(ctx, n)
}

func closeErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("closing the %s: %s", what, errline.First(err.Error()))
}
