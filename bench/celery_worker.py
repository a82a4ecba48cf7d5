"""A real Celery worker for the benches of issue 6 (imported, not run):
`celery -A config worker --concurrency 1 --pool prefork` against Redis on
127.0.0.1 (db --broker-db, 5 by default, never 1), with the bench's
DATABASE_URL, and the peak RSS of its process tree (the main process and its
pool children) sampled from /proc every 20 ms (shared pages counted in each
process), its peak PSS every 100 ms (shared pages counted once), and the sum
of each process's own peak (VmHWM).

    worker = Worker(broker_db=5).start()
    worker.send("compliance.retention_purge", kwargs={"category": "call_attempts"})
    ...  # wait for the task's effect in the database
    worker.stop()  # prints nothing; worker.peak_rss_mb, worker.peak_pss_mb, worker.hwm_mb
"""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
QUEUE = "celery"  # no task_routes in config.settings: every task goes to the default queue
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError):
        return 0


def _pss(pid: int) -> int:
    """Proportional set size: pages shared by the tree's processes counted once in all."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Worker:
    def __init__(self, *, broker_db: int = 5, log: str = "/tmp/consentdesk_bench_celery.log", env=None):
        if broker_db == 1:
            raise ValueError("Redis db 1 is the deployment's broker: use another one")
        self.broker = f"redis://127.0.0.1:6379/{broker_db}"
        self.log = Path(log)
        self.env = dict(env or {})
        self.process: subprocess.Popen | None = None
        self.peak_rss = self.peak_pss = 0
        self.hwm: dict[int, int] = {}
        self._sampling = False
        self._sampler: threading.Thread | None = None
        self._app = None

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss / 2**20

    @property
    def peak_pss_mb(self) -> float:
        return self.peak_pss / 2**20

    @property
    def hwm_mb(self) -> float:
        return sum(self.hwm.values()) / 2**20

    def app(self):
        if self._app is None:
            from celery import Celery

            self._app = Celery("bench", broker=self.broker)
        return self._app

    def start(self, timeout: float = 60) -> "Worker":
        env = {
            **os.environ,
            "CELERY_BROKER_URL": self.broker,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            **self.env,
        }
        command = [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker"]
        command += ["--concurrency", "1", "--pool", "prefork", "-Q", QUEUE, "--loglevel", "INFO"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "bench@%h"]
        self.app().connection_for_write().default_channel.client.delete(QUEUE)  # stale messages
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if " ready." in self.log.read_text():
                break
            time.sleep(0.2)
        else:
            self.stop()
            sys.exit(f"the celery worker did not start; see {self.log}:\n{self.log.read_text()[-2000:]}")
        self.reset_peak()
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def reset_peak(self) -> None:
        self.peak_rss, self.peak_pss, self.hwm = 0, 0, {}

    def idle_rss_mb(self) -> float:
        return sum(_rss(pid) for pid in process_tree(self.process.pid)) / 2**20

    def idle_pss_mb(self) -> float:
        return sum(_pss(pid) for pid in process_tree(self.process.pid)) / 2**20

    def _sample(self) -> None:
        ticks = 0
        while self._sampling and self.process.poll() is None:
            pids = process_tree(self.process.pid)
            self.peak_rss = max(self.peak_rss, sum(_rss(pid) for pid in pids))
            if ticks % 5 == 0:
                self.peak_pss = max(self.peak_pss, sum(_pss(pid) for pid in pids))
                for pid in pids:
                    self.hwm[pid] = max(self.hwm.get(pid, 0), _hwm(pid))
            ticks += 1
            time.sleep(0.02)

    def send(self, name: str, **options) -> None:
        self.app().send_task(name, queue=QUEUE, **options)

    def stop(self) -> None:
        self._sampling = False
        if self._sampler is not None:
            self._sampler.join(timeout=5)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # warm shutdown: the current task finishes first
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
