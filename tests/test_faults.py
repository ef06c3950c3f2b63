"""Fault injection: no fault loses work.

Against the suite's own PostgreSQL cluster and Redis, started here on spare ports (never the
shared ones) and removed afterwards, with real Celery worker and beat processes; requests go
through the whole Django stack in a driver process (``tests/faults_driver.py``). Scenarios:

1. Redis stopped during a claim and during a signature: both requests succeed; the posting
   waits in the outbox and is produced once Redis is back.
2. The whole worker killed (``kill -9`` of its process group) mid-batch: a new worker finishes
   the batch, each document produced once.
3. PostgreSQL restarted during a burst of requests: every signed quarter's posting is produced
   once and nothing is half-written.

Each ends with every requested document produced exactly once and ``verify_ledger`` clean. The
outbox's timings are shortened (sweep every 5 s, lease 10 s; production: 60 s and 60 s).
Run by ``.ci/run`` as its own step (``FAULTS=1 pytest -m faults tests/test_faults.py``).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.faults]

BASE_DIR = Path(__file__).resolve().parent.parent
PG_VERSION = (
    next(iter(sorted(os.listdir("/usr/lib/postgresql"))), "15") if os.path.isdir("/usr/lib/postgresql") else "15"
)
SWEEP_SECONDS = 5
TIMINGS = {"JOB_LEASE_SECONDS": "10", "JOB_QUEUE_PATIENCE_SECONDS": "30", "JOB_SEND_GRACE_SECONDS": "2"}


def _spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(predicate, timeout: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


class Stack:
    """The suite's PostgreSQL, Redis, worker and beat, and the driver that makes requests."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.pg_port, self.redis_port = _spare_port(), _spare_port()
        self.cluster = f"outboxfault{os.getpid()}"
        self.redis = None
        self.worker = None
        self.beat = None
        self.logs = BASE_DIR / "test-artifacts"
        self.logs.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "SECRET_KEY": "faults",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.pg_port}/outbox_faults",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/11",
            "MEDIA_ROOT": str(tmp / "media"),
            "TEST_QUEUE": "celery",
            "TEST_VISIBILITY_TIMEOUT": "10800",  # production's: only the sweeper rescues a killed job
            "TEST_ALLOWED_HOSTS": "testserver",
            **TIMINGS,
        }

    # --- PostgreSQL ---------------------------------------------------------------------------
    def pg_start(self) -> None:
        run = ["pg_createcluster", PG_VERSION, self.cluster, "--port", str(self.pg_port), "--", "--auth=trust"]
        subprocess.run(run, check=True, capture_output=True, timeout=120)
        self.pg("start")
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "-qc", "CREATE DATABASE outbox_faults"],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip

    def pg(self, action: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, self.cluster, action, "-m", "fast"]
            if action != "start"
            else ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, self.cluster, "start"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    # --- Redis --------------------------------------------------------------------------------
    def redis_start(self) -> None:
        log = open(self.logs / "faults-redis.log", "a")  # noqa: SIM115  (closed with the process)
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert _wait_for(self._redis_up, 20), "redis did not start"

    def _redis_up(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.redis_port)) == 0

    def redis_stop(self) -> None:
        self.redis.terminate()
        self.redis.wait(20)

    # --- Celery -------------------------------------------------------------------------------
    def worker_start(self, name: str, **extra) -> None:
        path = self.logs / f"faults-worker-{name}.log"
        log = open(path, "w")  # noqa: SIM115
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "2", "-n", f"{name}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
            cwd=BASE_DIR, env={**self.env, **extra}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        assert _wait_for(lambda: "ready." in path.read_text(errors="replace"), 60), f"worker {name} did not start"

    def worker_kill(self) -> None:
        """``kill -9`` of the whole worker: the main process and its pool children at once."""
        os.killpg(os.getpgid(self.worker.pid), signal.SIGKILL)
        self.worker.wait(20)

    def beat_start(self) -> None:
        log = open(self.logs / "faults-beat.log", "w")  # noqa: SIM115
        self.beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "INFO", "--max-interval", "2"],
            cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    # --- the driver ---------------------------------------------------------------------------
    def drive(self, *args: str, timeout: float = 120) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "tests.faults_driver", *args],
            cwd=BASE_DIR, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def all_produced_once(self, timeout: float) -> dict:
        """Wait until every document is done with one file, and every batch is done."""
        state = {}

        def finished() -> bool:
            nonlocal state
            state = self.drive("state")
            documents_done = all(d["status"] == "done" and d["files"] == 1 for d in state["documents"])
            return documents_done and all(b["status"] == "done" for b in state["batches"])

        assert _wait_for(finished, timeout, step=1), json.dumps(state, indent=1)
        return state

    def close(self) -> None:
        for process in (self.worker, self.beat):
            if process is not None and process.poll() is None:
                os.killpg(os.getpgid(process.pid), signal.SIGKILL)
                process.wait(20)
        if self.redis is not None and self.redis.poll() is None:
            self.redis_stop()
        subprocess.run(["pg_dropcluster", "--stop", PG_VERSION, self.cluster], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if os.environ.get("FAULTS") != "1":
        pytest.skip("the fault suite starts its own PostgreSQL and Redis: run with FAULTS=1 (.ci/run does)")
    missing = [
        tool
        for tool in ("redis-server", "pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "psql")
        if not shutil.which(tool)
    ]
    if missing:
        pytest.skip(f"the fault suite needs {', '.join(missing)} (PostgreSQL server and Redis server packages)")
    stack = Stack(tmp_path_factory.mktemp("faults"))
    try:
        stack.pg_start()
        stack.redis_start()
        stack.setup = stack.drive("setup", str(SWEEP_SECONDS), timeout=300)
        stack.beat_start()
        yield stack
    finally:
        stack.close()


def _verify(stack: Stack) -> None:
    verified = stack.drive("verify")
    assert verified["ok"], verified["output"]


def test_redis_stopped_during_a_claim_and_a_signature(stack):
    stack.worker_start("first")
    stack.redis_stop()
    assert stack.drive("claim", "0")["status"] == 302  # saved, the form-token guard skipped
    assert stack.drive("sign", "0")["status"] == 302  # signed; its posting waits in the outbox
    state = stack.drive("state")
    assert state["claims"] == 1 and len(state["signed"]) == 1
    [document] = state["documents"]
    assert document["status"] == "queued" and document["sends"] == 0
    back = time.monotonic()
    stack.redis_start()  # empty: nothing was ever sent
    state = stack.all_produced_once(timeout=120)
    print(f"Redis back → posting produced in {time.monotonic() - back:.1f}s")
    assert [d["attempts"] for d in state["documents"]] == [1]
    _verify(stack)


def test_the_whole_worker_killed_mid_batch(stack):
    stack.worker_kill()  # signed while no worker runs, so the batch has work left to do
    for n in ("1", "2"):
        assert stack.drive("sign", n)["status"] == 302
    stack.drive("batch")
    stack.worker_start("slow", TEST_RENDER_DELAY="4")
    assert _wait_for(lambda: any(d["status"] == "running" for d in stack.drive("state")["documents"]), 60)
    time.sleep(1)  # inside a render, holding its row lock
    stack.worker_kill()
    killed = stack.drive("state")
    assert any(d["status"] == "running" for d in killed["documents"])
    time.sleep(3)
    back = time.monotonic()
    stack.worker_start("rescuer")
    state = stack.all_produced_once(timeout=120)
    took = time.monotonic() - back
    print(f"worker back → batch of {len(state['documents'])} done in {took:.1f}s")
    assert took < 120
    assert len(state["documents"]) == 3 and state["batches"][0]["done"] == 3 and state["batches"][0]["pdf"]
    _verify(stack)


def test_postgres_restarted_during_a_burst_of_requests(stack):
    outcome = {}

    def burst():
        outcome.update(stack.drive("burst", "40", timeout=300))

    thread = threading.Thread(target=burst)
    thread.start()
    time.sleep(2)
    stack.pg("restart")
    thread.join(300)
    results = outcome["results"]
    assert results, "the burst did not run"
    print("burst answers:", {r[2] for r in results})
    assert any(status == 302 for *_, status in results)
    state = stack.all_produced_once(timeout=180)
    signed_ok = any(kind == "sign" and status == 302 for kind, _n, status in results)
    if signed_ok:
        assert len(state["signed"]) == 4
    # every signed quarter has its posting, exactly one
    periods = [d["period"] for d in state["documents"] if d["period"]]
    assert sorted(periods) == sorted(set(periods)) and set(periods) == set(state["signed"])
    claims_ok = sum(1 for kind, _n, status in results if kind == "claim" and status == 302)
    assert state["claims"] - 1 == claims_ok  # the first scenario's claim, then each one answered 302
    _verify(stack)
