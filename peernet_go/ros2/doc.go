// Package ros2 runs the peernet ROS 2 nodes on rclgo: it implements
// rosnode.Host with an rclgo node (serialized publish and subscribe on
// topics of any type, with the type supports of the generated bindings in
// package rosgen or loaded by type name), and Main, the shared main of the
// node programs in cmd/: edge_node, cloud_node and topic_profiler.
//
// Everything here needs a ROS 2 installation and builds only with the
// build tag ros2 (colcon does it: see CMakeLists.txt at the repository
// root); the logic of the nodes lives in package rosnode of the core
// module, which builds and tests without ROS. Without the tag the node
// programs are stubs that say how to build them.
//
// A node's main:
//
//	func main() {
//		os.Exit(ros2.Main("edge_node", version, func(ctx context.Context, n *ros2.Node) error {
//			c := rosnode.DefaultEdgeConfig()
//			if err := n.Params.Decode(&c); err != nil {
//				return err
//			}
//			_, err := rosnode.RunEdge(ctx, n.Env, c)
//			return err
//		}))
//	}
package ros2
