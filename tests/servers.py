"""gunicorn serving a test app on a free loopback port, for the multi-worker tests."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def gunicorn(
    app: str, environ: dict[str, str], workers: int = 4, config: str = "/dev/null",
    ready_path: str = "/health", threads: int = 2, extra: Sequence[str] = (),
) -> Iterator[int]:
    """gunicorn serving ``app`` (gthread workers) on a free loopback port, bound here and
    passed by fd; yields the port once ``ready_path`` answers 200 (60 s at most), and
    stops gunicorn after."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(512)
    port = listener.getsockname()[1]
    command = [
        sys.executable, "-m", "gunicorn", app, *extra, "--bind", f"fd://{listener.fileno()}",
        "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
        "--log-level", "warning", "--chdir", str(ROOT), "--config", config,
        "--graceful-timeout", "5",
    ]
    process = subprocess.Popen(command, cwd=ROOT, pass_fds=(listener.fileno(),),
                               env={**os.environ, **environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    listener.close()
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {process.communicate()[0]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", ready_path)
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer within 60 s")
            time.sleep(0.1)
        yield port
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """Terminate a server started by a test and wait for it (killed after 30 s)."""
    process.terminate()
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
