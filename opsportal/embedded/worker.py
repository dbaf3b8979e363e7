"""The embedded mode's background worker: a task queue, worker threads and the periodic scheduler."""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

from opsportal.core.background import in_process_worker, in_process_worker_set

logger = logging.getLogger(__name__)

_worker_lock = threading.Lock()


def current_worker() -> EmbeddedWorker | None:
    return in_process_worker()


class EmbeddedWorker:
    """Runs Celery tasks in threads of this process, and fires PERIODIC_TASKS like Celery beat would."""

    def __init__(self, *, threads: int = 2, periodic: dict | None = None):
        self.tasks: queue.Queue = queue.Queue()
        self.thread_count = threads
        self.periodic = dict(settings.PERIODIC_TASKS if periodic is None else periodic)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.last_beat: float | None = None

    def submit(self, task, kwargs: dict) -> None:
        self.tasks.put((task, kwargs))

    def start(self) -> EmbeddedWorker:
        with _worker_lock:
            if in_process_worker() is not None:
                raise RuntimeError("An embedded worker is already running in this process.")
            in_process_worker_set(self)
        node = f"embedded@{socket.gethostname()}"
        for hook in getattr(settings, "WORKER_STARTUP_HOOKS", []):
            try:
                import_string(hook)(node=node)
            except Exception:
                logger.exception("Worker start-up hook %s failed", hook)
        for number in range(self.thread_count):
            thread = threading.Thread(target=self._work, name=f"opsportal-worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        beat = threading.Thread(target=self._beat, name="opsportal-beat", daemon=True)
        beat.start()
        self._threads.append(beat)
        logger.info(
            "Embedded worker started: %s threads, %s periodic timers", self.thread_count, len(self.periodic)
        )
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for _ in range(self.thread_count):
            self.tasks.put(None)
        for thread in self._threads:
            thread.join(timeout)
        with _worker_lock:
            if in_process_worker() is self:
                in_process_worker_set(None)

    def is_alive(self) -> bool:
        return bool(self._threads) and all(thread.is_alive() for thread in self._threads)

    def _work(self) -> None:
        while not self._stop.is_set():
            item = self.tasks.get()
            if item is None:
                return
            task, kwargs = item
            close_old_connections()
            try:
                task.apply(kwargs=kwargs, throw=True)
            except Exception:
                logger.exception("Background task %s failed", getattr(task, "name", task))
            finally:
                close_old_connections()

    def _beat(self) -> None:
        next_run = {name: 0.0 for name in self.periodic}
        while not self._stop.is_set():
            now = time.monotonic()
            self.last_beat = now
            for name, (task_path, seconds) in self.periodic.items():
                if now >= next_run[name]:
                    next_run[name] = now + seconds
                    self.submit(import_string(task_path), {})
            self._stop.wait(0.2)
