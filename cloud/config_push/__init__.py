"""Config push: versioned agent configs, their dispatch to agents, and snapshots.

An operator change (``cloud.config_push.versions``) makes a new version of the full
``AgentConfig`` for each agent it concerns, in the transaction that stores the
change. ``ConfigBus`` then delivers the change to the process that has the
agent's stream open: in-process at once, and to other processes through Postgres
``LISTEN``/``NOTIFY``. ``ConfigPusher`` sends the newest version down the stream,
on every change and when an agent connects with an older version. Snapshot
requests travel the same way as ``Command.take_snapshot``.

``install_config_push(app)`` wires all of it into a ``CloudApp``.
"""

from cloud.config_push.install import ConfigPush, install_config_push

__all__ = ["ConfigPush", "install_config_push"]
