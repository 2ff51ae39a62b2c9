"""The topic profiler: rate, jitter, bandwidth, size, header age and
transport delay of any topics, with percentiles, logged and published.

  ros2 launch peernet_go topic_profiler.launch.py topics:=/camera/image_raw,/imu
  ros2 launch peernet_go topic_profiler.launch.py sensor_topic:=/camera/image_raw duration:=10
"""

import os
import sys

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import peernet_shared as pl  # noqa: E402

PROFILER = [
    ('topics', 'topics to profile, comma-separated'),
    ('window', 'seconds per statistics window'),
    ('duration', 'seconds to profile (0: until shut down)'),
]


def topics(context):
    """sensor_topic joins topics."""
    names = [t for t in (pl.arg(context, 'topics'), pl.arg(context, 'sensor_topic')) if t]
    return {'topics': ','.join(names)} if names else {}


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('profiler_config', default_value=pl.config_file('topic_profiler.yaml'),
                              description='parameter file of the topic profiler'),
        *pl.declare(PROFILER, pl.COMMON),
        pl.node('topic_profiler', 'profiler_config', ['window', 'duration', 'results_dir'], extra=topics,
                shutdown_on_exit=True),
    ])
