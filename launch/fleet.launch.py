"""A fleet on one machine: edges:=N edge nodes, each in a namespace of its
own (/robot_0/edge_node, /robot_1/edge_node, ...) with its own device name,
against one cloud node, which publishes every edge's requests as it saw
them on /cloud_node/edge_statistics. Each edge publishes its own metrics
(/robot_i/edge_node/metrics, .../statistics). The launch ends when every
edge's run has ended (iterations:=N), or on Ctrl-C.

  ros2 launch peernet_go fleet.launch.py edges:=3 iterations:=200 rate:=20
  ros2 launch peernet_go fleet.launch.py edges:=8 network:=ros2 model_name:=dummy:infer=5ms

Without network_config the nodes share a generated loopback config that
names the cloud and every robot.
"""

import os
import sys
import tempfile

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import peernet_shared as pl  # noqa: E402


def fleet_config(edges, start_port=5551):
    """Writes a loopback network config naming the cloud and robot_0 ...
    robot_{edges-1}, and returns its path."""
    lines = ['devices:', '  cloud: 127.0.0.1']
    lines += ['  robot_%d: 127.0.0.1' % i for i in range(edges)]
    lines += ['server: cloud', 'start_port: %d' % start_port, '']
    fd, path = tempfile.mkstemp(prefix='peernet-fleet-', suffix='.yaml')
    with os.fdopen(fd, 'w') as f:
        f.write('\n'.join(lines))
    return path


def overrides(context, names):
    """The launch arguments among names that were given, typed."""
    out = {}
    for name in names:
        value = pl.arg(context, name)
        if value != '':
            out[name] = pl.typed(value)
    return out


def start(context):
    edges = int(pl.arg(context, 'edges') or '3')
    if edges < 1:
        raise ValueError('edges:=%d: want at least 1' % edges)
    netcfg = pl.arg(context, 'network_config') or fleet_config(edges)
    cloud_params = overrides(context, pl.CLOUD_PARAMS)
    cloud_params.update({'network_config': netcfg, 'edge_statistics_topic': '~/edge_statistics'})
    actions = [Node(package=pl.PACKAGE, executable='cloud_node', name='cloud_node', output='screen', emulate_tty=True,
                    parameters=[LaunchConfiguration('cloud_config').perform(context), cloud_params])]
    results = pl.arg(context, 'results_dir')
    running = {'edges': edges}

    def one_ended(event, ctx):
        running['edges'] -= 1
        if running['edges'] == 0:
            return [EmitEvent(event=Shutdown(reason='every edge ended'))]
        return []

    for i in range(edges):
        params = overrides(context, pl.EDGE_PARAMS)
        params.update({'network_config': netcfg, 'name': 'robot_%d' % i})
        if results:
            params['results_dir'] = os.path.join(results, 'robot_%d' % i)
        n = Node(package=pl.PACKAGE, executable='edge_node', name='edge_node', namespace='robot_%d' % i,
                 output='screen', emulate_tty=True,
                 parameters=[LaunchConfiguration('edge_config').perform(context), params])
        actions += [n, RegisterEventHandler(OnProcessExit(target_action=n, on_exit=one_ended))]
    return actions


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('edges', default_value='3', description='number of edge nodes (robot_0 ...)'),
        DeclareLaunchArgument('edge_config', default_value=pl.config_file('edge.yaml'),
                              description='parameter file of the edge nodes'),
        DeclareLaunchArgument('cloud_config', default_value=pl.config_file('cloud.yaml'),
                              description='parameter file of the cloud node'),
        *pl.declare(pl.COMMON, pl.EDGE_MORE, pl.CLOUD_MORE),
        OpaqueFunction(function=start),
    ])
