"""Extraction and OCR (#14): how fast scans are read, how soon a scanned filing is found, how
fast `archive import` files the demo corpus without OCR, and PDF text by three engines.

    .venv/bin/python bench/extraction.py [--part ocr|scanned-pdf|import|pdf|all]
        [--pages 12] [--dossiers 500] [--fsyncs] [--realdocs ../shared/realdocs/files]

ocr          OCR pages per minute through the sandboxed children (readers/ocr.py: OSD, then
             chi_sim+eng), one worker and two, on scanned-looking A4 pages (demo/scans.py).
scanned-pdf  A 10-page image-only PDF filed over HTTP to a served archive (testing.ini with
             background indexing and background OCR): seconds from the 201 to the first
             search hit of the word on its last page.
import       `archive import` of N demo-corpus dossiers with OCR off (its scans are left
             `ocr_pending` for the server): dossiers per second, wall and CPU time;
             with --fsyncs, fsync calls per dossier (a second run, under strace).
pdf          The real corpus's PDFs read by pypdf, PDFium (pypdfium2) and poppler's
             pdftotext: distinct words, words in common with pdftotext, time.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from archive_app.demo import scans  # noqa: E402
from archive_app.search.sandbox import ExtractionSandbox  # noqa: E402


def machine() -> str:
    load = os.getloadavg()
    return (f"{os.cpu_count()} cores, load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} "
            f"(1/5/15 min), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip


# -- OCR pages per minute ------------------------------------------------------------------


def ocr_pages(pages: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    try:
        paths = []
        for number in range(pages):
            lines = scans.registration_form_lines(f"BN{number:07d}", "阿莫西林胶囊", seed=number)
            path = folder / f"page-{number}.jpg"
            path.write_bytes(scans.jpeg(scans.scanned_page(lines, seed=number)))
            paths.append(path)
        for workers in (1, 2):
            rate, misses = _ocr_rate(paths, workers)
            print(f"OCR, {workers} worker(s): {rate:.1f} pages/min over {pages} pages "
                  f"({misses} batch numbers missed) [{machine()}]")  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _ocr_rate(paths: list[Path], workers: int) -> tuple[float, int]:
    sandboxes = [ExtractionSandbox() for _ in range(workers)]
    for sandbox in sandboxes:  # a started child: its start is not what is timed
        sandbox.ocr(paths[0], "image/jpeg", 1, 60)
    todo, misses, lock = list(enumerate(paths)), [0], threading.Lock()

    def work(sandbox: ExtractionSandbox) -> None:
        while True:
            with lock:
                if not todo:
                    return
                number, path = todo.pop()
            result = sandbox.ocr(path, "image/jpeg", 1, 120)
            if f"BN{number:07d}" not in result.text:
                with lock:
                    misses[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(sandbox,)) for sandbox in sandboxes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    for sandbox in sandboxes:
        sandbox.close()
    return len(paths) * 60 / seconds, misses[0]


# -- a served archive ----------------------------------------------------------------------


def archive(background_ocr: bool):
    from search import Archive  # bench/search.py: a throw-away archive, its commands, pserve

    storage = Path(tempfile.mkdtemp(prefix="bench-extraction-"))
    served = Archive(storage)
    text = served.config.read_text().replace(
        "archive.search.ocr_in_background = false",
        f"archive.search.ocr_in_background = {str(background_ocr).lower()}",
    )
    served.config.write_text(text)
    return served


def scanned_pdf_to_searchable(page_count: int = 10) -> None:
    from search import Http, multipart

    from archive_app.demo.corpus import _files_for, build_demo_dossiers

    served = archive(background_ocr=True)
    try:
        served.command("init")
        token = served.token("archivist")
        pages = [
            scans.scanned_page(
                scans.registration_form_lines(f"SP2310{n:03d}", "蒲地蓝消炎片"), seed=n
            )
            for n in range(page_count)
        ]
        pdf = scans.image_pdf(pages)
        dossier = build_demo_dossiers(1, seed=77)[0]
        metadata = {key: value for key, value in dossier.items() if value is not None}
        files = [*_files_for(dossier, 1), ("attachment", "扫描件.pdf", pdf)]
        with served.server():
            client = Http(served.port, token)
            body, content_type = multipart(metadata, files)
            started = time.perf_counter()
            status, answer = client.request("POST", "/api/v1/dossiers", body,
                                            {"Content-Type": content_type})  # fmt: skip
            answered = time.perf_counter() - started
            if status != 201:
                raise RuntimeError(f"filing answered {status}: {answer}")
            last = f"SP2310{page_count - 1:03d}"
            while client.request("GET", f"/api/v1/search?{urlencode({'q': last})}")[1]["total"] < 1:
                if time.perf_counter() - started > 600:
                    raise RuntimeError("the scanned PDF was not searchable within 600 s")
                time.sleep(0.5)
            searchable = time.perf_counter() - started
        print(f"{page_count}-page scanned PDF ({len(pdf) // 1024} KB): filing answered in "
              f"{answered:.2f} s, its last page found {searchable:.1f} s after the request "
              f"[{machine()}]")  # fmt: skip
    finally:
        shutil.rmtree(served.storage, ignore_errors=True)


def import_throughput(count: int, fsyncs: bool = False) -> None:
    """Wall and CPU time of the command (its children included); with `fsyncs`, a second
    import of the same corpus into a fresh archive under `strace -f -c` counts its fsync and
    fdatasync calls (strace slows it, so that run is not the one timed)."""
    from archive_app.demo.corpus import write_demo_archive

    served = archive(background_ocr=False)
    try:
        served.command("init")
        folders = served.storage / "import"
        # `count` showcase dossiers and the trend history (ten quarters): all are filed.
        filed = len(write_demo_archive(folders, count=count))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, peak, _ = served.command("import", str(folders))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(
            f"archive import of {filed} demo dossiers ({count} showcase + history), OCR off: "
            f"{seconds:.1f} s, {filed / seconds:.1f} dossiers/s, CPU {cpu:.1f} s, "
            f"peak RSS {peak:.0f} MB [{machine()}]"
        )
    finally:
        shutil.rmtree(served.storage, ignore_errors=True)
    if fsyncs:
        print(f"  fsync + fdatasync calls per dossier: {count_fsyncs(count) / filed:.1f}")


def count_fsyncs(count: int) -> int:
    from search import ARCHIVE

    from archive_app.demo.corpus import write_demo_archive

    served = archive(background_ocr=False)
    try:
        served.command("init")
        folders = served.storage / "import"
        write_demo_archive(folders, count=count)
        summary = served.storage / "strace.txt"
        subprocess.run(["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", str(summary),
                        ARCHIVE, "-c", str(served.config), "import", str(folders)],
                       env=served.env, check=True, capture_output=True)  # fmt: skip
        calls = re.findall(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?f(?:data)?sync$",
                           summary.read_text(), re.MULTILINE)  # fmt: skip
        return sum(int(number) for number in calls)
    finally:
        shutil.rmtree(served.storage, ignore_errors=True)


# -- PDF text: pypdf, PDFium, pdftotext ----------------------------------------------------

WORD = re.compile(r"[A-Za-z]{4,}|[\u4e00-\u9fff]{2,}")


def _pypdf(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join((page.extract_text() or "") for page in PdfReader(str(path)).pages[:300])


def _pdfium(path: Path) -> str:
    from archive_app.search.readers.pdf import read_pdf

    return read_pdf(path, 1 << 30)[0]


def _poppler(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-l", "300", "-enc", "UTF-8", str(path), "-"],
                          capture_output=True, timeout=120)  # fmt: skip
    return done.stdout.decode("utf-8", "replace")


def pdf_engines(realdocs: Path) -> None:
    import logging

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # its warnings on odd fonts
    folder = realdocs / "pdf"
    if not folder.is_dir():
        print(f"PDF comparison skipped: no {folder}")
        return
    engines = {"pypdf": _pypdf, "PDFium": _pdfium, "pdftotext": _poppler}
    totals = {name: [0, 0, 0.0] for name in engines}  # words, in common, seconds
    files = sorted(path for path in folder.iterdir() if path.is_file())
    for path in files:
        words = {}
        for name, engine in engines.items():
            started = time.perf_counter()
            try:
                text = engine(path)
            except Exception:  # a file one engine cannot read: no words from it
                text = ""
            totals[name][2] += time.perf_counter() - started
            words[name] = set(WORD.findall(text))
        for name in engines:
            totals[name][0] += len(words[name])
            totals[name][1] += len(words[name] & words["pdftotext"])
    print(f"PDF text of {len(files)} real PDFs [{machine()}]:")
    for name, (count, common, seconds) in totals.items():
        print(
            f"  {name}: {count} distinct words (per file, summed), {common} in common with "
            f"pdftotext ({common / max(totals['pdftotext'][0], 1):.1%}), {seconds:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", default="all",
                        choices=["ocr", "scanned-pdf", "import", "pdf", "all"])  # fmt: skip
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--dossiers", type=int, default=500)
    parser.add_argument(
        "--fsyncs",
        action="store_true",
        help="import: count fsync calls too, in a second run under strace",
    )
    realdocs = os.environ.get("ARCHIVE_REALDOCS", ROOT.parent / "shared/realdocs/files")
    parser.add_argument("--realdocs", type=Path, default=Path(realdocs))
    args = parser.parse_args()
    if args.part in ("ocr", "all"):
        ocr_pages(args.pages)
    if args.part in ("scanned-pdf", "all"):
        scanned_pdf_to_searchable()
    if args.part in ("import", "all"):
        import_throughput(args.dossiers, args.fsyncs)
    if args.part in ("pdf", "all"):
        pdf_engines(args.realdocs)


if __name__ == "__main__":
    main()
