"""Load: concurrent clients against waitress with production.ini, then proof nothing was lost.

    .venv/bin/python bench/load.py [--clients 20] [--seconds 180] [--database sqlite|postgres]
                                   [--nodes 2]

Starts a fresh archive (`archive init --demo`: 36 dossiers with real documents) served by
`pserve` with production.ini (8 waitress threads, background indexing), then runs N client
threads for the given time: 10% filing (a dossier with four real documents), 70% search
(words, batches, products), 20% download. Every answer other than the expected status is an
error. Afterwards every acknowledged filing is read back (metadata and each document's
SHA-256) and `archive verify` must pass. Prints p50/p95 per operation.

PostgreSQL: `--database postgres` uses ARCHIVE_TEST_POSTGRES_URL (a scratch schema is made).

Several web nodes: `--nodes 2` (PostgreSQL only) starts that many `pserve` processes on
consecutive ports over the one database and the one storage folder (blobs, keyring, index);
each request goes to a node picked at random, so a dossier filed on one is downloaded from
another, and every acknowledged filing is read back from every node.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
PASSWORDS = {"archivist": "archivist-demo-2023", "auditor": "auditor-demo-2023"}
WORDS = ["溶出", "破损", "胶囊", "退货", "阿莫西林", "包装", "检验", "头孢"]


def prepare(database: str, ports: list[int]) -> tuple[list[Path], dict]:
    from archive_app.demo.corpus import DEMO_USERS

    for user in DEMO_USERS:
        PASSWORDS[user["username"]] = user["password"]
    storage = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = dict(os.environ, ARCHIVE_STORAGE_DIR=str(storage))
    env.pop("ARCHIVE_KEYRING", None)
    if database == "postgres":
        base = os.environ["ARCHIVE_TEST_POSTGRES_URL"]
        schema = f"load_{uuid.uuid4().hex[:8]}"
        engine = create_engine(base)
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        env["ARCHIVE_SQLALCHEMY_URL"] = f"{base}?options=-csearch_path%3D{schema}"
    else:
        env["ARCHIVE_SQLALCHEMY_URL"] = f"sqlite:///{storage}/archive.sqlite"
    inis = []
    for port in ports:  # one ini per node: only the port differs
        ini = storage / f"load-{port}.ini"
        ini.write_text((ROOT / "production.ini").read_text().replace(
            "listen = 127.0.0.1:6543", f"listen = 127.0.0.1:{port}").replace(
            "archive.cookie_secure = true", "archive.cookie_secure = false"))  # fmt: skip
        inis.append(ini)
    subprocess.run([BIN / "archive", "-c", str(inis[0]), "init", "--demo"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    return inis, env


def documents() -> list[tuple[str, str, bytes]]:
    from archive_app.demo.documents import make_docx, make_pdf

    return [
        ("registration_form", "登记表.pdf", make_pdf("登记表", ["客户来电反映胶囊破损。"])),
        ("handling_sheet", "处理单.docx", make_docx("处理单", ["处理意见：退货。"])),
        ("investigation_report", "调查报告.pdf", make_pdf("调查报告", ["运输途中受潮。"])),
        ("reply_report", "答复报告.docx", make_docx("答复报告", ["已退货并致歉。"])),
    ]  # fmt: skip


def metadata(number: int) -> dict:
    return {
        "complaint_no": f"TS-I-24-{number:05d}", "complaint_class": "I",
        "complaint_type": "intrinsic_quality", "title": "负载测试：胶囊破损投诉",
        "received_on": "2024-05-12", "closed_on": "2024-07-03", "channel": "phone",
        "department": "质量部",
        "customer": {"name": "负载客户", "phone": "13812345678"},
        "products": [{"name": "阿莫西林胶囊", "batch_no": f"LD{number:06d}",
                      "expiry": "2026-06"}],
        "outcome": "justified", "measures": ["return"], "confidentiality": "internal",
        "summary": "客户反映胶囊破损，经调查属实。",
    }  # fmt: skip


class Client(threading.Thread):
    def __init__(self, bases: list[str], numbers, files, readable, deadline, results, lock,
                 seed):  # fmt: skip
        super().__init__(daemon=True)
        self.bases, self.numbers, self.files = bases, numbers, files
        self.readable, self.deadline, self.results, self.lock = readable, deadline, results, lock
        self.rng = random.Random(seed)
        self.session = requests.Session()

    @property
    def base(self) -> str:
        """A node for the next request (the only one, or one picked at random)."""
        return self.rng.choice(self.bases)

    def token(self, user: str) -> str:
        response = self.session.post(
            f"{self.base}/api/v1/auth/token", json={"username": user, "password": PASSWORDS[user]}
        )
        response.raise_for_status()
        return response.json()["token"]

    def run(self):
        headers = {"archivist": {"Authorization": f"Bearer {self.token('archivist')}"},
                   "auditor": {"Authorization": f"Bearer {self.token('auditor')}"}}  # fmt: skip
        while time.monotonic() < self.deadline:
            roll = self.rng.random()
            if roll < 0.1:
                self.timed("file", lambda: self.file(headers["archivist"]))
            elif roll < 0.8:
                self.timed("search", lambda: self.search(headers["auditor"]))
            else:
                self.timed("download", lambda: self.download(headers["auditor"]))

    def timed(self, operation: str, work) -> None:
        started = time.perf_counter()
        try:
            ok = work()
        except requests.RequestException as error:
            ok = f"{type(error).__name__}"
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.results.setdefault(operation, []).append(elapsed)
            if ok is not True:
                self.results.setdefault("errors", []).append(f"{operation}: {ok}")

    def file(self, headers) -> bool | str:
        with self.lock:
            number = next(self.numbers)
        meta = metadata(number)
        parts = [(kind, (name, content)) for kind, name, content in self.files]
        response = self.session.post(
            f"{self.base}/api/v1/dossiers", headers=headers,
            data={"metadata": json.dumps(meta, ensure_ascii=False)}, files=parts)  # fmt: skip
        if response.status_code != 201:
            return f"{response.status_code} {response.text[:120]}"
        dossier = response.json()
        with self.lock:
            self.results.setdefault("filed", []).append(dossier)
            # Downloaded from here on, from any node (with several, mostly another one).
            self.readable += [(dossier["id"], document) for document in dossier["documents"]]
        return True

    def search(self, headers) -> bool | str:
        params = self.rng.choice([{"q": self.rng.choice(WORDS)},
                                  {"batch_no": f"LD{self.rng.randrange(1, 999):06d}"},
                                  {"product": "阿莫西林"}])  # fmt: skip
        response = self.session.get(f"{self.base}/api/v1/search", headers=headers, params=params)
        return True if response.status_code == 200 else f"{response.status_code}"

    def download(self, headers) -> bool | str:
        with self.lock:
            dossier_id, document = self.rng.choice(self.readable)
        url = f"{self.base}/api/v1/dossiers/{dossier_id}/documents/{document['id']}"
        response = self.session.get(url, headers=headers)
        if response.status_code != 200:
            return f"{response.status_code}"
        if hashlib.sha256(response.content).hexdigest() != document["sha256"]:
            return "content differs"
        return True


def readable_documents(base: str) -> list[tuple[str, dict]]:
    session = requests.Session()
    token = session.post(f"{base}/api/v1/auth/token", json={
        "username": "auditor", "password": PASSWORDS["auditor"]}).json()["token"]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    hits = session.get(f"{base}/api/v1/search", headers=headers,
                       params={"per_page": 100}).json()["results"]  # fmt: skip
    found = []
    for hit in hits:
        dossier = session.get(f"{base}/api/v1/dossiers/{hit['id']}", headers=headers).json()
        found += [(dossier["id"], document) for document in dossier.get("documents", [])]
    return found


def check_nothing_lost(base: str, filed: list[dict]) -> list[str]:
    session = requests.Session()
    token = session.post(f"{base}/api/v1/auth/token", json={
        "username": "auditor", "password": PASSWORDS["auditor"]}).json()["token"]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    lost = []
    for dossier in filed:
        response = session.get(f"{base}/api/v1/dossiers/{dossier['id']}", headers=headers)
        if response.status_code != 200:
            lost.append(f"{dossier['complaint_no']}: {response.status_code}")
            continue
        for document in response.json()["documents"]:
            url = f"{base}/api/v1/dossiers/{dossier['id']}/documents/{document['id']}"
            body = session.get(url, headers=headers).content
            if hashlib.sha256(body).hexdigest() != document["sha256"]:
                lost.append(f"{dossier['complaint_no']}: document {document['id']} differs")
    return lost


def not_found_by_search(env: dict, base: str, filed: list[dict], wait: float = 10.0) -> int:
    """Acknowledged filings a search by batch number does not find once the index queue is
    empty (at most `wait` seconds after the load): each was indexed by one node or another."""
    engine = create_engine(env["ARCHIVE_SQLALCHEMY_URL"])
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                if not connection.scalar(text("SELECT count(*) FROM index_queue")):
                    break
            time.sleep(0.2)
    finally:
        engine.dispose()
    session = requests.Session()
    token = session.post(f"{base}/api/v1/auth/token", json={
        "username": "auditor", "password": PASSWORDS["auditor"]}).json()["token"]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    missing = 0
    for dossier in filed:
        batch = dossier["products"][0]["batch_no"]
        hits = session.get(f"{base}/api/v1/search", headers=headers,
                           params={"batch_no": batch}).json()["results"]  # fmt: skip
        missing += dossier["id"] not in {hit["id"] for hit in hits}
    return missing


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--port", type=int, default=6551, help="the first node's port")
    parser.add_argument("--nodes", type=int, default=1, help="web processes (PostgreSQL)")
    args = parser.parse_args()
    if args.nodes > 1 and args.database != "postgres":
        parser.error("--nodes above 1 needs --database postgres (one database for all)")
    ports = [args.port + n for n in range(args.nodes)]
    inis, env = prepare(args.database, ports)
    servers = [subprocess.Popen([BIN / "pserve", str(ini)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for ini in inis]  # fmt: skip
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base in bases:
            for _ in range(120):
                try:
                    requests.get(f"{base}/login", timeout=2)
                    break
                except requests.ConnectionError:
                    time.sleep(0.5)
        readable = readable_documents(bases[0])
        results, lock = {}, threading.Lock()
        numbers = iter(range(1, 10**6))
        deadline = time.monotonic() + args.seconds
        files = documents()
        clients = [Client(bases, numbers, files, readable, deadline, results, lock, seed)
                   for seed in range(args.clients)]  # fmt: skip
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        filed = results.pop("filed", [])
        errors = results.pop("errors", [])
        # Every filing read back from every node (each node: its own sessions to the one
        # database and the one blob folder).
        lost = [f"{base}: {item}" for base in bases for item in check_nothing_lost(base, filed)]
        unfound = not_found_by_search(env, bases[0], filed)
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)  # a clean stop: the indexer's last batch
        stops = [server.wait(30) for server in servers]
    verify = subprocess.run([BIN / "archive", "-c", str(inis[0]), "verify"], env=env,
                            capture_output=True, text=True)  # fmt: skip
    nodes = f"{args.nodes} nodes" if args.nodes > 1 else "one node"
    print(f"{args.clients} clients for {args.seconds} s on {args.database}, {nodes}, "
          f"production.ini")  # fmt: skip
    for operation, timings in sorted(results.items()):
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1] if timings else 0
        p50 = statistics.median(timings)
        print(f"  {operation:9s} {len(timings):6d} requests  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    print(f"  errors: {len(errors)} {sorted(set(errors))[:5]}")
    print(f"  filed and acknowledged: {len(filed)}; lost or changed: {len(lost)} {lost[:5]}")
    print(f"  filings not found by search after the run: {unfound}")
    print(f"  nodes stopped with exit codes {stops}")
    print(f"  archive verify: exit {verify.returncode}: {verify.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
