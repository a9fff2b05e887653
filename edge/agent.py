"""The edge agent: camera pipelines, heartbeats, the outbox and the cloud stream.

``Agent.run`` loads every camera's detector first, so a broken model stops the agent
before any camera or connection starts. It then runs one ``CameraPipeline`` thread
per camera, a heartbeat task, a ticker that lets live cameras close their minutes
without frames, and the ``StreamClient`` that sends the outbox to the cloud.

It ends on ``request_stop`` (SIGTERM or SIGINT in ``dale-edge run``) or, with
``exit_when_done``, once every camera is a file that has been read to its end: it
then waits up to ``drain_timeout_seconds`` for the cloud to ack everything in the
outbox. Exit codes: 0 done, 1 a camera pipeline failed, 3 the outbox did not drain
in time (the records stay stored for the next run).
"""

from __future__ import annotations

import asyncio
import time

import structlog
from dalevision.edge.v1 import edge_pb2

from edge.analytics import RoiError
from edge.backoff import BackoffSettings
from edge.config import (
    AgentConfig,
    overlay_cloud_config,
    store_cloud_config,
)
from edge.config_apply import wait_for_frame_sizes
from edge.detector import PersonDetector
from edge.outbox import Outbox, OutboxError
from edge.pipeline import CameraHealth, CameraPipeline, LatestFrame
from edge.record_writer import RecordWriter, timestamp_from_epoch
from edge.snapshots import SnapshotError, encode_jpeg
from edge.sources import SourceState, open_source
from edge.stream_client import StreamClient, StreamSettings

log = structlog.get_logger(__name__)

EXIT_OK = 0
EXIT_PIPELINE_FAILED = 1
EXIT_NOT_DRAINED = 3

TICK_INTERVAL_SECONDS = 1.0
# Limit for a snapshot command that names none; the cloud accepts up to 4 MiB.
DEFAULT_SNAPSHOT_MAX_BYTES = 1024 * 1024

_CAMERA_STATES = {
    SourceState.CONNECTING: edge_pb2.CAMERA_STATE_CONNECTING,
    SourceState.ONLINE: edge_pb2.CAMERA_STATE_ONLINE,
    SourceState.OFFLINE: edge_pb2.CAMERA_STATE_OFFLINE,
    # A file that was read to its end delivers no more frames.
    SourceState.FINISHED: edge_pb2.CAMERA_STATE_OFFLINE,
}


class Agent:
    """One edge agent process; see the module docstring."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        exit_when_done: bool | None = None,
        stream_settings: StreamSettings | None = None,
    ) -> None:
        self.config = config
        self.exit_when_done = (
            config.exit_when_done if exit_when_done is None else exit_when_done
        )
        self._stream_settings = stream_settings or StreamSettings(
            target=config.cloud.address,
            agent_id=config.agent_id,
            backoff=BackoffSettings(
                initial_seconds=config.cloud.reconnect_initial_seconds,
                max_seconds=config.cloud.reconnect_max_seconds,
            ),
        )
        self._log = log.bind(agent_id=config.agent_id)
        self._stop_requested = asyncio.Event()
        self._pipelines: dict[str, CameraPipeline] = {}
        self._outbox: Outbox | None = None
        self._writer: RecordWriter | None = None
        self._client: StreamClient | None = None
        self._config_version = config.config_version

    @property
    def config_version(self) -> int:
        """Version of the cloud config in effect; 0 while only the file applies."""
        return self._config_version

    def request_stop(self) -> None:
        """Ask ``run`` to stop; safe to call from a signal handler on the loop."""
        if not self._stop_requested.is_set():
            self._log.info("agent_stop_requested")
        self._stop_requested.set()

    # Running

    async def run(self) -> int:
        """Run until stopped or done; return the process exit code."""
        self._log.info(
            "agent_starting",
            cameras=[camera.id for camera in self.config.cameras],
            cloud=self.config.cloud.address,
            config_version=self._config_version,
            exit_when_done=self.exit_when_done,
        )
        await self._start_components()
        assert self._client is not None
        client_task = asyncio.create_task(self._client.run(), name="stream-client")
        heartbeat_task = asyncio.create_task(self._heartbeats(), name="heartbeats")
        ticker_task = asyncio.create_task(self._ticker(), name="ticker")

        try:
            finished = await self._wait_until_finished()
        finally:
            ticker_task.cancel()
            await self._stop_pipelines()

        exit_code = EXIT_OK
        if any(pipeline.failed for pipeline in self._pipelines.values()):
            exit_code = EXIT_PIPELINE_FAILED
        if finished and exit_code == EXIT_OK:
            heartbeat_task.cancel()
            if not await self._drain_outbox():
                exit_code = EXIT_NOT_DRAINED

        heartbeat_task.cancel()
        await asyncio.gather(ticker_task, heartbeat_task, return_exceptions=True)
        await self._client.stop()
        await asyncio.gather(client_task, return_exceptions=True)
        self._close_outbox(exit_code)
        return exit_code

    async def _start_components(self) -> None:
        """Load the detectors, open the outbox and start the camera pipelines."""
        detectors = await asyncio.to_thread(self._load_detectors)
        self._outbox = await asyncio.to_thread(self._open_outbox)
        self._writer = RecordWriter(self._outbox, self.config.agent_id)
        self._client = StreamClient(
            self._outbox,
            self._stream_settings,
            self.config.cloud.token,
            on_config_update=self._on_config_update,
            on_command=self._on_command,
            applied_config_version=lambda: self._config_version,
        )
        self._start_pipelines(detectors)

    async def _drain_outbox(self) -> bool:
        """Wait until the cloud acked every stored record; False on timeout."""
        assert self._writer is not None and self._client is not None
        # A last heartbeat reports the ended files to the cloud.
        await asyncio.to_thread(self._writer.write_heartbeat, self.heartbeat())
        timeout = self.config.drain_timeout_seconds
        if await self._client.wait_drained(timeout):
            return True
        assert self._outbox is not None
        self._log.error(
            "agent_outbox_not_drained",
            outbox_depth=self._outbox.depth(),
            drain_timeout_seconds=timeout,
        )
        return False

    def _close_outbox(self, exit_code: int) -> None:
        assert self._outbox is not None
        depth = self._outbox.depth()
        self._outbox.close()
        self._log.info("agent_stopped", exit_code=exit_code, outbox_depth=depth)

    def _load_detectors(self) -> dict[str, PersonDetector]:
        # Ultralytics models are not thread-safe, so every camera gets its own.
        return {
            camera.id: PersonDetector.from_settings(self.config.model)
            for camera in self.config.cameras
        }

    def _open_outbox(self) -> Outbox:
        settings = self.config.outbox
        settings.path.parent.mkdir(parents=True, exist_ok=True)
        bounds = {}
        if settings.max_records is not None:
            bounds["max_records"] = settings.max_records
        if settings.max_bytes is not None:
            bounds["max_bytes"] = settings.max_bytes
        return Outbox(settings.path, **bounds)

    def _start_pipelines(self, detectors: dict[str, PersonDetector]) -> None:
        assert self._writer is not None
        for camera in self.config.cameras:
            pipeline = CameraPipeline(
                camera.id,
                source=open_source(camera),
                detector=detectors[camera.id],
                writer=self._writer,
                roi=camera.roi,
                thresholds=self.config.rules,
                config_version=self._config_version,
            )
            self._pipelines[camera.id] = pipeline
            pipeline.start()

    async def _wait_until_finished(self) -> bool:
        """Wait for a stop request, a failed camera, or (with exit_when_done) the end.

        Returns True when every camera finished on its own.
        """
        while not self._stop_requested.is_set():
            pipelines = list(self._pipelines.values())
            if any(pipeline.failed for pipeline in pipelines):
                self._log.error(
                    "agent_stopping_after_camera_failure",
                    failed=[p.camera_id for p in pipelines if p.failed],
                )
                return False
            if self.exit_when_done and all(p.done.is_set() for p in pipelines):
                self._log.info("agent_all_cameras_done")
                return True
            try:
                async with asyncio.timeout(TICK_INTERVAL_SECONDS / 2):
                    await self._stop_requested.wait()
            except TimeoutError:
                continue
        return False

    async def _stop_pipelines(self) -> None:
        await asyncio.gather(
            *(asyncio.to_thread(pipeline.stop) for pipeline in self._pipelines.values())
        )

    async def _ticker(self) -> None:
        live = [p for p in self._pipelines.values() if p.is_live]
        if not live:
            return
        while True:
            await asyncio.sleep(TICK_INTERVAL_SECONDS)
            now = time.time()
            for pipeline in live:
                try:
                    await asyncio.to_thread(pipeline.tick, now)
                except (OutboxError, RoiError, ValueError) as error:
                    self._log.error(
                        "camera_tick_failed",
                        camera_id=pipeline.camera_id,
                        error=str(error),
                    )

    # Heartbeats

    async def _heartbeats(self) -> None:
        assert self._writer is not None
        interval = self.config.heartbeat_interval_seconds
        while True:
            heartbeat = self.heartbeat()
            try:
                await asyncio.to_thread(self._writer.write_heartbeat, heartbeat)
            except OutboxError as error:
                self._log.error("heartbeat_store_failed", error=str(error))
            await asyncio.sleep(interval)

    def heartbeat(self) -> edge_pb2.Heartbeat:
        """Build a heartbeat with every camera's current state."""
        assert self._outbox is not None
        heartbeat = edge_pb2.Heartbeat(
            sent_time=timestamp_from_epoch(time.time()),
            outbox_depth=self._outbox.depth(),
            applied_config_version=self._config_version,
        )
        for pipeline in self._pipelines.values():
            heartbeat.cameras.append(_camera_status(pipeline.health()))
        return heartbeat

    # Commands and config pushed by the cloud

    def latest_frame(self, camera_id: str) -> LatestFrame | None:
        """Return a camera's newest processed frame; None before the first one.

        Raises ``KeyError`` for a camera this agent does not run.
        """
        return self._pipelines[camera_id].latest_frame()

    def take_snapshot(self, command_id: str, take: edge_pb2.TakeSnapshot):
        """Build the reply to a snapshot command: a JPEG or the reason for none."""
        snapshot = edge_pb2.Snapshot(command_id=command_id, camera_id=take.camera_id)
        pipeline = self._pipelines.get(take.camera_id)
        if pipeline is None:
            snapshot.error = f"camera {take.camera_id!r} is not run by this agent"
            return snapshot
        health = pipeline.health()
        latest = pipeline.latest_frame()
        if health.state is not SourceState.ONLINE or latest is None:
            snapshot.error = f"camera {take.camera_id} is {health.state.value}" + (
                f": {health.last_error}" if health.last_error else ""
            )
            return snapshot
        max_bytes = take.max_bytes or DEFAULT_SNAPSHOT_MAX_BYTES
        try:
            jpeg, width, height = encode_jpeg(latest.image, max_bytes)
        except SnapshotError as error:
            snapshot.error = str(error)
            return snapshot
        snapshot.jpeg = jpeg
        snapshot.width = width
        snapshot.height = height
        snapshot.taken_time.CopyFrom(timestamp_from_epoch(latest.timestamp))
        return snapshot

    def apply_config_update(self, update: edge_pb2.ConfigUpdate) -> edge_pb2.ConfigAck:
        """Validate and apply a pushed config without restarting any camera.

        The config is stored next to the outbox, so a restart without network
        runs it. An invalid config is rejected with the reason and changes nothing.
        """
        ack = edge_pb2.ConfigAck(version=update.version)
        if update.version < self._config_version:
            ack.status = edge_pb2.CONFIG_ACK_STATUS_REJECTED
            ack.reason = (
                f"version {update.version} is older than the running version "
                f"{self._config_version}"
            )
            return ack
        try:
            effective = overlay_cloud_config(self.config, update)
            fitted = self._check_frame_sizes(effective)
        except RoiError as error:
            ack.status = edge_pb2.CONFIG_ACK_STATUS_REJECTED
            ack.reason = str(error)
            self._log.warning(
                "config_rejected", config_version=update.version, reason=ack.reason
            )
            return ack
        store_cloud_config(self.config.outbox.cloud_config_path, update)
        for camera in effective.cameras:
            pipeline = self._pipelines.get(camera.id)
            if pipeline is not None:
                pipeline.update_roi(fitted[camera.id], update.version)
                pipeline.update_thresholds(effective.rules)
        self.config = effective
        self._config_version = update.version
        self._log.info("config_applied", config_version=update.version)
        ack.status = edge_pb2.CONFIG_ACK_STATUS_APPLIED
        return ack

    def _check_frame_sizes(self, config: AgentConfig):
        """Check each pushed ROI against its camera's frame size, when known."""
        fitted = {}
        for index, camera in enumerate(config.cameras):
            roi = camera.roi
            pipeline = self._pipelines.get(camera.id)
            health = pipeline.health() if pipeline is not None else None
            if health is not None and health.frame_width and health.frame_height:
                try:
                    roi = roi.validate_frame(health.frame_width, health.frame_height)
                except RoiError as error:
                    raise error.within(f"cameras[{index}]") from None
            fitted[camera.id] = roi
        return fitted

    async def _on_config_update(self, update: edge_pb2.ConfigUpdate) -> None:
        assert self._writer is not None
        self._log.info("config_update_received", config_version=update.version)
        opening = await wait_for_frame_sizes(
            update, self._pipelines.keys(), self._camera_opening
        )
        if opening:
            self._log.warning(
                "config_checked_without_frame_size",
                config_version=update.version,
                camera_ids=opening,
            )
        ack = await asyncio.to_thread(self.apply_config_update, update)
        await asyncio.to_thread(self._writer.write_config_ack, ack)

    def _camera_opening(self, camera_id: str) -> bool:
        health = self._pipelines[camera_id].health()
        has_size = health.frame_width > 0 and health.frame_height > 0
        starting = health.state in (SourceState.CONNECTING, SourceState.ONLINE)
        return starting and not has_size

    async def _on_command(self, command: edge_pb2.Command) -> None:
        assert self._writer is not None
        action = command.WhichOneof("action")
        if action != "take_snapshot":
            self._log.warning(
                "command_unknown", command_id=command.command_id, action=action
            )
            return
        self._log.info(
            "snapshot_requested",
            command_id=command.command_id,
            camera_id=command.take_snapshot.camera_id,
        )
        snapshot = await asyncio.to_thread(
            self.take_snapshot, command.command_id, command.take_snapshot
        )
        await asyncio.to_thread(self._writer.write_snapshot, snapshot)


def _camera_status(health: CameraHealth) -> edge_pb2.CameraStatus:
    status = edge_pb2.CameraStatus(
        camera_id=health.camera_id,
        state=_CAMERA_STATES[health.state],
        fps=health.fps,
        last_error=health.last_error,
        frame_width=health.frame_width,
        frame_height=health.frame_height,
    )
    if health.state is SourceState.FINISHED and not health.last_error:
        status.last_error = "video file ended"
    if health.last_frame_time is not None:
        status.last_frame_time.CopyFrom(timestamp_from_epoch(health.last_frame_time))
    return status
