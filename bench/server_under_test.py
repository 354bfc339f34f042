"""Parent-side handle of a server running in ``bench.server_process``."""

from __future__ import annotations

import json
import os
import select
import ssl
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPLY_TIMEOUT_SECONDS = 30


class ServerProcessError(RuntimeError):
    """Raised when the server process fails to start or to reply."""


@dataclass(frozen=True)
class ServerStats:
    """CPU seconds the server process has used so far and messages it accepted."""

    cpu_seconds: float
    stored: int


class ServerUnderTest:
    """A server started in its own process, so its CPU time is its own.

    Use as a context manager: the process is stopped and waited for on exit.
    ``temporary_folder`` sets ``TMPDIR`` for the process, which moves the
    bundled server's temporary Maildir there.
    """

    def __init__(
        self, kind: str, security: str, temporary_folder: Path | None = None
    ) -> None:
        self.kind = kind
        self.security = security
        environment = child_environment()
        if temporary_folder is not None:
            environment["TMPDIR"] = str(temporary_folder)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.server_process", kind, security],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
        )
        ready = self._read_reply()
        self.host = "127.0.0.1"
        self.port: int = ready["port"]
        self.maildir = None if ready["maildir"] is None else Path(ready["maildir"])
        self.ca_file = None if ready["ca_file"] is None else Path(ready["ca_file"])

    @property
    def pid(self) -> int:
        return self._process.pid

    def client_context(self) -> ssl.SSLContext | None:
        """Return a verifying context trusting only this server's CA, if it has one."""
        if self.ca_file is None:
            return None
        return ssl.create_default_context(cafile=str(self.ca_file))

    def stats(self) -> ServerStats:
        """Ask the process for its CPU time and count what it stored.

        Messages are counted as files in the Maildir when the server has one,
        so a message the handler accepted but failed to write is not counted.
        """
        self._send("stats")
        answer = self._read_reply()
        if self.maildir is not None:
            stored = count_maildir_files(self.maildir)
        else:
            stored = answer["accepted"]
        return ServerStats(cpu_seconds=answer["cpu_seconds"], stored=stored)

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self._send("quit")
            except BrokenPipeError:
                pass
        self._process.stdin.close()
        self._process.wait(timeout=REPLY_TIMEOUT_SECONDS)
        self._process.stdout.close()

    def __enter__(self) -> "ServerUnderTest":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(self, command: str) -> None:
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()

    def _read_reply(self) -> dict[str, Any]:
        """Read one JSON line; kill the process if none comes in time."""
        # NOTE: select() on a pipe works on POSIX only, like the rest of the bench.
        readable, _, _ = select.select(
            [self._process.stdout], [], [], REPLY_TIMEOUT_SECONDS
        )
        if not readable:
            self._process.kill()
            self._process.wait()
            raise ServerProcessError(
                f"server process {self.kind}/{self.security} did not answer within "
                f"{REPLY_TIMEOUT_SECONDS} s and was killed; a hung server start is "
                "the usual cause"
            )
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait(timeout=REPLY_TIMEOUT_SECONDS)
            raise ServerProcessError(
                f"server process {self.kind}/{self.security} exited with code "
                f"{code} before answering; its error output is above"
            )
        return json.loads(line)


def count_maildir_files(maildir: Path) -> int:
    """Return the number of delivered messages (files in ``new/`` and ``cur/``)."""
    return sum(1 for folder in ("new", "cur") for _ in os.scandir(maildir / folder))


def child_environment() -> dict[str, str]:
    """Return this environment with the repository root on ``PYTHONPATH``."""
    environment = dict(os.environ)
    # The bench package is found from the repository root, as with python -m.
    paths = [str(ROOT), environment.get("PYTHONPATH", "")]
    environment["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    return environment
