"""Shared pieces of the peernet_go launch files (not a launch file itself).

Every launch file takes the same common arguments, so that one command line
works with any of them; each node takes its configuration file, then the
arguments that are parameters of it. An argument left empty keeps the
file's value; arguments that are not parameters of the launched nodes are
accepted and unused.
"""

import os

import yaml
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

PACKAGE = 'peernet_go'

# The common arguments: (name, description).
COMMON = [
    ('sensor_topic', 'edge: a topic of any type to profile, e.g. /camera/image_raw; '
                     'topic profiler: a topic to profile besides topics'),
    ('network', 'edge and cloud: zmq-tcp, zmq-udp, mqtt, udp or ros2'),
    ('network_config', 'edge and cloud: PEERNet network YAML (empty: edge and cloud on 127.0.0.1)'),
    ('model_name', 'cloud: dummy, echo, onnx:PATH, path.so::Symbol or exec:COMMAND'),
    ('rate', 'edge: sampling rate in Hz (0: as fast as samples come)'),
    ('iterations', 'edge: iterations to run (0: until shut down); cloud alone: requests to answer'),
    ('results_dir', 'edge: also write data.csv, summaries and run.yaml here; '
                    'topic profiler: write topics.jsonl here'),
]
# Further arguments of the edge and the cloud.
EDGE_MORE = [
    ('topic_type', 'edge: the type of sensor_topic (read from the ROS graph when empty)'),
    ('sensor_type', 'edge: built-in sensor when no topic is given (random-bytes, rosbag, ...)'),
    ('dataset_loc', 'edge: image, folder or rosbag of the built-in sensor'),
    ('timeout', 'edge: seconds to wait for each reply'),
    ('clock', 'edge: handshake, assume-synced or ntp:HOST'),
]
CLOUD_MORE = [
    ('device', 'cloud: ONNX device, cpu, cuda, cuda:N or tensorrt'),
    ('results_topic', 'cloud: republish results as peernet_msgs/Reply on this topic'),
]
EDGE_PARAMS = ['sensor_topic', 'network', 'network_config', 'rate', 'iterations', 'results_dir',
               'topic_type', 'sensor_type', 'dataset_loc', 'timeout', 'clock']
CLOUD_PARAMS = ['network', 'network_config', 'model_name', 'device', 'results_topic']


def typed(value):
    """A launch argument's value as a parameter value, read as YAML the way
    launch_ros reads substitutions: "200" is an integer, "1.5" a double,
    "/camera/image_raw" a string."""
    try:
        v = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return v if isinstance(v, (bool, int, float, str)) else value


def config_file(name):
    """The path of config/<name> in the installed package."""
    return os.path.join(FindPackageShare(PACKAGE).find(PACKAGE), 'config', name)


def declare(*groups, skip=()):
    """DeclareLaunchArgument for each (name, description), empty by
    default."""
    return [DeclareLaunchArgument(name, default_value='', description=desc + ' (empty: the config file\'s)')
            for group in groups for name, desc in group if name not in skip]


def arg(context, name):
    """The value of launch argument name, or '' when it is not declared."""
    return context.launch_configurations.get(name, '')


def node(executable, config_arg, params, extra=None, shutdown_on_exit=False, **kwargs):
    """An OpaqueFunction that starts executable with its config file, the
    launch arguments named in params that were given (non-empty), then the
    parameters extra(context) returns; with shutdown_on_exit, the launch
    ends when the node does."""
    def start(context):
        overrides = {}
        for name in params:
            value = arg(context, name)
            if value != '':
                overrides[name] = typed(value)
        overrides.update(extra(context) if extra else {})
        parameters = [LaunchConfiguration(config_arg).perform(context)]
        if overrides:
            parameters.append(overrides)
        n = Node(package=PACKAGE, executable=executable, name=executable, output='screen',
                 emulate_tty=True, parameters=parameters, **kwargs)
        if not shutdown_on_exit:
            return [n]
        return [n, RegisterEventHandler(OnProcessExit(
            target_action=n, on_exit=[EmitEvent(event=Shutdown(reason=executable + ' ended'))]))]
    return OpaqueFunction(function=start)
