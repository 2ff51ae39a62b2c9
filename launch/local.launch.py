"""Edge and cloud nodes on one machine: profile a topic end to end over a
loopback network (zmq-tcp by default, or network:=ros2 over DDS). The launch
ends when the edge's run does (iterations:=N), or on Ctrl-C.

  ros2 launch peernet_go local.launch.py sensor_topic:=/camera/image_raw
  ros2 launch peernet_go local.launch.py sensor_topic:=/camera/image_raw network:=ros2 iterations:=100
"""

import os
import sys

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import peernet_shared as pl  # noqa: E402


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('edge_config', default_value=pl.config_file('edge.yaml'),
                              description='parameter file of the edge node'),
        DeclareLaunchArgument('cloud_config', default_value=pl.config_file('cloud.yaml'),
                              description='parameter file of the cloud node'),
        *pl.declare(pl.COMMON, pl.EDGE_MORE, pl.CLOUD_MORE),
        pl.node('cloud_node', 'cloud_config', pl.CLOUD_PARAMS),
        pl.node('edge_node', 'edge_config', pl.EDGE_PARAMS, shutdown_on_exit=True),
    ])
