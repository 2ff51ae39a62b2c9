"""Replay a rosbag as the edge's sensor, without ros2 bag play: edge and
cloud nodes on one machine, the edge reading the bag (a directory, .db3 or
.mcap file) itself, at its recorded timing by default. The launch ends when
the edge's run does (iterations:=N, or the bag's end without loop).

  ros2 launch peernet_go bag_replay.launch.py bag:=/path/to/bag bag_topics:=/camera/image_raw
"""

import os
import sys

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import peernet_shared as pl  # noqa: E402

BAG = [
    ('bag_topics', 'topics to replay, comma-separated (empty: all)'),
]


def bag_params(context):
    params = {
        'sensor_type': 'rosbag',
        'sensor_topic': '',
        'dataset_loc': pl.arg(context, 'bag'),
        'replay_rate': float(pl.arg(context, 'replay_rate')),
        'loop': pl.arg(context, 'loop').lower() in ('true', '1', 'yes'),
    }
    if pl.arg(context, 'bag_topics'):
        params['bag_topics'] = pl.arg(context, 'bag_topics')
    return params


def generate_launch_description():
    edge = [p for p in pl.EDGE_PARAMS if p not in ('sensor_topic', 'topic_type', 'sensor_type', 'dataset_loc')]
    return LaunchDescription([
        DeclareLaunchArgument('bag', description='the rosbag2 recording: a directory, .db3 or .mcap file'),
        DeclareLaunchArgument('replay_rate', default_value='1.0',
                              description='1: recorded timing, 2: twice as fast, 0: as fast as possible'),
        DeclareLaunchArgument('loop', default_value='true', description='replay the bag again when it ends'),
        DeclareLaunchArgument('edge_config', default_value=pl.config_file('edge.yaml'),
                              description='parameter file of the edge node'),
        DeclareLaunchArgument('cloud_config', default_value=pl.config_file('cloud.yaml'),
                              description='parameter file of the cloud node'),
        *pl.declare(BAG, pl.COMMON, pl.EDGE_MORE, pl.CLOUD_MORE),
        pl.node('cloud_node', 'cloud_config', pl.CLOUD_PARAMS),
        pl.node('edge_node', 'edge_config', edge, extra=bag_params, shutdown_on_exit=True),
    ])
