"""The peernet edge node: profile a topic (or a bag, or a built-in sensor)
end to end against a cloud node (cloud.launch.py, here or on another
machine). The launch ends with the edge's run.

  ros2 launch peernet_go edge.launch.py sensor_topic:=/camera/image_raw network_config:=net.yaml
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
        *pl.declare(pl.COMMON, pl.EDGE_MORE),
        pl.node('edge_node', 'edge_config', pl.EDGE_PARAMS, shutdown_on_exit=True),
    ])
