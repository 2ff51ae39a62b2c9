"""The peernet cloud node: the inference server of the edge nodes.

  ros2 launch peernet_go cloud.launch.py model_name:=dummy network_config:=net.yaml
"""

import os
import sys

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import peernet_shared as pl  # noqa: E402


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('cloud_config', default_value=pl.config_file('cloud.yaml'),
                              description='parameter file of the cloud node'),
        *pl.declare(pl.COMMON, pl.CLOUD_MORE),
        # Alone, the cloud node takes iterations as the requests to answer.
        pl.node('cloud_node', 'cloud_config', pl.CLOUD_PARAMS + ['iterations']),
    ])
