"""Record the strong-model reference fixtures (``make fixtures-strong``) with the project's own commands.

Starts ``scripts/strong_server.py`` (hand-written reference answers served as a
careful strong model would, ``max_tokens`` enforced) on loopback and runs, as a
user would, against it with ``--model gpt-4o-mini`` at the default settings:

* ``summarizer daily seeds/ --record fixtures/strong`` — the 25 seeds, their
  continuation passes and the digest's synthesis call → ``fixtures/strong/``;
* ``summarizer brief fixtures/strong/long/wikinews-4000.txt --record ...`` — a
  4,168-word article (four Wikinews articles in one file) → ``fixtures/strong/long/``;
* ``summarizer brief seeds/wikinews/korea.txt --max-tokens 800 --record ...`` —
  an answer cut at 800 tokens, then asked again with the output ceiling →
  ``fixtures/strong/cut/``;
* ``summarizer daily INBOX --batch --wait --record ...`` over four Wikinews
  articles, through the loopback fake Batch API (``tests/support/fake_batch.py``) whose
  batch requests and online calls the server answers: upload, create, polls and
  the output download → ``fixtures/strong/batch/batch.jsonl``, the online
  follow-ups and the digest's synthesis beside it.

Every request the server received is kept under ``--requests DIR`` (default: a
temporary folder) to be read afterwards. Run from the repository root.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.strong_server import StrongServer  # noqa: E402
from tests.support.fake_batch import FakeBatchAPI  # noqa: E402

FIXTURES = ROOT / "fixtures" / "strong"
MODEL = "gpt-4o-mini"
RUNS = {
    "": ["daily", "seeds", "--out", "{out}/daily", "--force", "--no-history"],  # a recording, not a user's day
    "long": ["brief", "fixtures/strong/long/wikinews-4000.txt", "-o", "{out}/long.json"],
    "cut": ["brief", "seeds/wikinews/korea.txt", "--max-tokens", "800", "-o", "{out}/cut.json"],
    "batch": ["daily", "{inbox}", "--out", "{out}/batch", "--batch", "--wait", "--poll", "0.5", "--no-history"],
}
# The batch run's documents (tests/test_batch.py briefs the same ones).
BATCH_INBOX = [
    "seeds/wikinews/korea.txt",
    "seeds/wikinews/crane.txt",
    "seeds/wikinews/nasa.txt",
    "seeds/wikinews/flag.txt",
]


def summarizer() -> list[str]:
    found = Path(sys.executable).parent / "summarizer"
    return [str(found)] if found.exists() else [sys.executable, "-m", "summarizer"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=Path, help="keep every request the server received here")
    args = parser.parse_args()
    staging = Path(tempfile.mkdtemp(prefix="strong-"))
    requests = args.requests or staging / "requests"
    env = {**os.environ, "OPENAI_API_KEY": "sk-reference-answers-not-a-key"}
    inbox = staging / "inbox"
    inbox.mkdir()
    for source in BATCH_INBOX:
        shutil.copyfile(ROOT / source, inbox / Path(source).name)
    with StrongServer(requests=requests) as server, FakeBatchAPI(delay_s=1.0, upstream=server.base_url) as batch:
        for folder, command in RUNS.items():
            argv = [part.format(out=staging / "out", inbox=inbox) for part in command]
            record = staging / "record" / folder
            base_url = batch.base_url if folder == "batch" else server.base_url
            argv += ["--base-url", base_url, "--model", MODEL, "--record", str(record), "-q"]
            result = subprocess.run([*summarizer(), *argv], cwd=ROOT, env=env, capture_output=True, text=True)
            print(f"{' '.join(command[:2])}: exit {result.returncode}; {result.stderr.strip()[-300:]}", flush=True)
            if result.returncode != 0:
                return result.returncode
            target = FIXTURES / folder
            target.mkdir(exist_ok=True)
            for old in target.glob("*.jsonl"):
                old.unlink()
            for produced in record.glob("*.jsonl"):
                shutil.copyfile(produced, target / produced.name)
    print(f"{server.count} requests answered (kept in {requests}); fixtures under {FIXTURES.relative_to(ROOT)}/")
    if args.requests is None:
        shutil.rmtree(staging)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
