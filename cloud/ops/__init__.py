"""Operator API (``dalevision.ops.v1``): accounts, stores, cameras, agents, alerts,
alert rules, notifications and metrics.

``cloud.ops.registry.register_ops_services`` adds every service to a ``grpc.aio``
server; ``cloud.ops.auth`` is the one place where bearer tokens become callers.
"""
