"""Benchmark: serving latency and throughput of a trained artifact folder.

    venv/bin/python scripts/bench_serving.py MODEL_DIR                  # everything
    venv/bin/python scripts/bench_serving.py MODEL_DIR --skip-http      # in-process only
    venv/bin/python scripts/bench_serving.py MODEL_DIR --rates 10,25,50,100,150,200 --http-seconds 20
    venv/bin/python scripts/bench_serving.py MODEL_DIR --hostile-only [--baseline]   # slow clients, big bodies

In process (one thread issuing calls, tokenization included on every side): torch eager (the
transformers model of the same folder), ONNX fp32 and ONNX int8 (serving/classifier.py), at batch 1
and batch 32: p50/p99 latency per call and throughput in texts per second.
Over HTTP: the real azmlinfsrv (venv-serving) serving serving/score.py, one text per request, sent
open-loop at fixed rates (a request leaves at its scheduled time whatever the earlier ones do;
latency counts from that time, so queueing shows). p50/p95/p99 per rate, and the highest rate whose
p99 stays under --p99-target-ms. The load generator shares the machine's CPUs with the server.
Hostile (--hostile, --hostile-only): the server as deployed (serving/gunicorn_config.py) with --workers
workers: the time a good request takes while as many clients as workers hold half a body each, and how
much a worker's peak resident memory (VmHWM) grows while a client streams 300 MB with a Content-Length
and then chunked. --baseline measures azmlinfsrv's defaults (sync workers, no guard) the same way.
Texts: the `text` column of --data (default: the project's dataset if present), else synthetic texts.
Every figure is printed with versions, thread settings and the load average at the time.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.local_server import DEFAULT_AZMLINFSRV, LocalInferenceServer, peak_rss_mib  # noqa: E402
from serving.classifier import HateSpeechClassifier  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "portuguese-hate-speech" / "train.csv"
BATCH_SIZES = (1, 32)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def percentile(values, q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def benchmark_texts(data: Path | None, count: int = 2000, seed: int = 0) -> tuple[list[str], str]:
    if data is not None and data.exists():
        from model.data import load_dataset

        texts = load_dataset(data).texts
        source = f"{data} ({len(texts)} texts)"
    else:
        from model.synthetic import synthetic_rows

        texts = [row["text"] for row in synthetic_rows(n_rows=count, seed=seed)]
        source = f"synthetic ({len(texts)} texts)"
    rng = random.Random(seed)
    return [rng.choice(texts) for _ in range(count)], source


class TorchEager:
    """The transformers model of the artifact folder: tokenize, forward, softmax per call."""

    def __init__(self, model_dir: Path, threads: int):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        torch.set_num_threads(threads)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.network = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
        self.max_length = json.loads((model_dir / "artifact.json").read_text())["max_length"]

    def predict_proba(self, texts):
        encoded = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        with self.torch.inference_mode():
            logits = self.network(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).logits
        return self.torch.softmax(logits, dim=-1)[:, 1].numpy()


def time_calls(predict, texts: list[str], batch: int, seconds: float, warmup: int = 20) -> dict:
    batches = [texts[i : i + batch] for i in range(0, len(texts) - batch + 1, batch)] or [texts[:batch]]
    for i in range(warmup):
        predict(batches[i % len(batches)])
    latencies: list[float] = []
    started = time.perf_counter()
    i = 0
    while time.perf_counter() - started < seconds or len(latencies) < 20:
        call_started = time.perf_counter()
        predict(batches[i % len(batches)])
        latencies.append(time.perf_counter() - call_started)
        i += 1
    elapsed = time.perf_counter() - started
    return {
        "batch": batch,
        "calls": len(latencies),
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
        "texts_per_second": batch * len(latencies) / elapsed,
        "load_average": load_average(),
    }


def in_process(model_dir: Path, texts: list[str], threads: int, seconds: float, skip_torch: bool) -> list[dict]:
    runtimes: list[tuple[str, Callable[[], TorchEager | HateSpeechClassifier]]] = []
    if not skip_torch:
        runtimes.append(("torch eager", partial(TorchEager, model_dir, threads)))
    for precision in ("fp32", "int8"):
        runtimes.append(
            (
                f"onnx {precision}",
                partial(
                    HateSpeechClassifier.load,
                    model_dir,
                    precision=precision,
                    intra_op_threads=threads,
                    inter_op_threads=1,
                ),
            )
        )
    results = []
    for name, build in runtimes:
        runtime = build()
        for batch in BATCH_SIZES:
            result = {"runtime": name, "threads": threads, **time_calls(runtime.predict_proba, texts, batch, seconds)}
            print(
                f"  {name:12s} batch {batch:2d}: p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
                f"{result['texts_per_second']:8.1f} texts/s   (load {result['load_average']})",
                flush=True,
            )
            results.append(result)
    return results


def open_loop(
    server: LocalInferenceServer, texts: list[str], rate: float, seconds: float, timeout: float = 10.0
) -> dict:
    """Send one-text requests at `rate` per second for `seconds`; latency from each scheduled send time."""
    count = max(1, int(rate * seconds))
    bodies = [json.dumps({"texts": [texts[i % len(texts)]]}).encode() for i in range(count)]
    latencies: list[float | None] = [None] * count
    statuses: list[int | str | None] = [None] * count
    start = time.perf_counter() + 0.2

    def send(index: int) -> None:
        scheduled = start + index / rate
        try:
            reply = server.request(
                "POST", "/score", bodies[index], {"Content-Type": "application/json"}, timeout=timeout
            )
            statuses[index] = reply.status
        except OSError as error:
            statuses[index] = type(error).__name__
        latencies[index] = time.perf_counter() - scheduled

    workers = min(256, max(8, int(rate * 0.5)))  # enough threads that a slow reply never delays a send
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for index in range(count):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, index)
    ok = [latency for latency, status in zip(latencies, statuses, strict=False) if status == 200]
    failures = count - len(ok)
    return {
        "rate": rate,
        "requests": count,
        "failures": failures,
        "p50_ms": percentile(ok, 50) * 1e3 if ok else None,
        "p95_ms": percentile(ok, 95) * 1e3 if ok else None,
        "p99_ms": percentile(latencies if failures else ok, 99) * 1e3 if ok else None,
        "load_average": load_average(),
    }


def over_http(
    model_dir: Path,
    texts: list[str],
    rates: list[float],
    seconds: float,
    threads: int,
    workers: int,
    precision: str,
    target_ms: float,
    azmlinfsrv: Path,
) -> tuple[list[dict], float | None]:
    env = {"SCORING_PRECISION": precision, "SCORING_INTRA_OP_THREADS": str(threads), "WORKER_COUNT": str(workers)}
    results, best = [], None
    with (
        tempfile.TemporaryDirectory() as scratch,
        LocalInferenceServer(model_dir, Path(scratch) / "server.log", env=env, azmlinfsrv=azmlinfsrv) as server,
    ):
        server.wait_ready()
        for _ in range(50):  # warm up the worker(s)
            server.score(json.dumps({"texts": [texts[0]]}))
        for rate in rates:
            result = open_loop(server, texts, rate, seconds)
            results.append(result)
            passed = result["failures"] == 0 and result["p99_ms"] is not None and result["p99_ms"] < target_ms
            fmt = lambda v: f"{v:7.2f}" if v is not None else "    n/a"  # noqa: E731
            print(
                f"  {rate:6.0f} rps: p50 {fmt(result['p50_ms'])} ms  p95 {fmt(result['p95_ms'])} ms  "
                f"p99 {fmt(result['p99_ms'])} ms  failures {result['failures']}/{result['requests']}  "
                f"{'ok' if passed else 'over target'}   (load {result['load_average']})",
                flush=True,
            )
            if not passed:
                break  # higher rates only queue more
            best = rate
    return results, best


HALF_A_BODY = (
    b"POST /score HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n" + b'{"texts": ["bo'
)
STREAM_MIB = 300


def good_request_under_slow_clients(server: LocalInferenceServer, slow_clients: int, wait: float) -> float | None:
    """Seconds a good request takes while `slow_clients` connections hold half a body; None: over `wait`."""
    slow = [server.connect(timeout=wait) for _ in range(slow_clients)]
    try:
        for sock in slow:
            sock.sendall(HALF_A_BODY)
        time.sleep(0.5)
        started = time.perf_counter()
        try:
            reply = server.request(
                "POST", "/score", b'{"texts": ["bom dia"]}', {"Content-Type": "application/json"}, timeout=wait
            )
        except TimeoutError:
            return None
        return time.perf_counter() - started if reply.status == 200 else None
    finally:
        for sock in slow:
            sock.close()


def peak_memory_growth_streaming(server: LocalInferenceServer, chunked: bool) -> float:
    """MiB by which the workers' largest peak RSS grows while one client streams STREAM_MIB MiB."""
    before = {pid: peak_rss_mib(pid) for pid in server.worker_pids()}
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % (STREAM_MIB << 20)
    block = b"a" * (1 << 20)
    with server.connect(timeout=60) as sock:
        sock.sendall(
            b"POST /score HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + framing + b"\r\n\r\n"
        )
        try:
            for _ in range(STREAM_MIB):
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
            sock.recv(1)  # the answer, once the server has read what it reads
        except (BrokenPipeError, ConnectionResetError):
            pass
    return max(peak_rss_mib(pid) - before[pid] for pid in before)


def hostile(model_dir: Path, workers: int, azmlinfsrv: Path, baseline: bool, wait: float) -> list[dict]:
    setups: list[tuple[str, dict[str, str]]] = [("deployed (gunicorn_config.py)", {})]
    if baseline:
        setups.append(("azmlinfsrv defaults (sync workers)", {"GUNICORN_CMD_ARGS": ""}))
    results = []
    for name, env in setups:
        with (
            tempfile.TemporaryDirectory() as scratch,
            LocalInferenceServer(
                model_dir,
                Path(scratch) / "server.log",
                env={"WORKER_COUNT": str(workers), **env},
                azmlinfsrv=azmlinfsrv,
            ) as server,
        ):
            server.wait_ready()
            server.score(json.dumps({"texts": ["bom dia"]}))
            result: dict[str, Any] = {
                "server": name,
                "workers": workers,
                "good_request_seconds_under_slow_clients": good_request_under_slow_clients(server, workers, wait),
                "peak_rss_growth_mib_content_length": peak_memory_growth_streaming(server, chunked=False),
                "peak_rss_growth_mib_chunked": peak_memory_growth_streaming(server, chunked=True),
                "load_average": load_average(),
            }
        seconds = result["good_request_seconds_under_slow_clients"]
        print(
            f"  {name}: good request with {workers} slow clients "
            f"{f'{seconds * 1e3:.1f} ms' if seconds is not None else f'not answered within {wait:.0f} s'}; "
            f"worker peak RSS growth streaming {STREAM_MIB} MiB: "
            f"{result['peak_rss_growth_mib_content_length']:.0f} MiB (Content-Length), "
            f"{result['peak_rss_growth_mib_chunked']:.0f} MiB (chunked)   (load {result['load_average']})",
            flush=True,
        )
        results.append(result)
    return results


def versions(azmlinfsrv: Path) -> dict:
    found = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()}
    for package in ("numpy", "onnxruntime", "tokenizers", "torch", "transformers"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    serving_python = azmlinfsrv.parent / "python"
    if serving_python.exists():
        script = "import importlib.metadata as m; print(m.version('azureml-inference-server-http'))"
        found["azureml-inference-server-http"] = subprocess.run(
            [str(serving_python), "-c", script], capture_output=True, text=True
        ).stdout.strip()
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path, help="artifact folder written by `python -m model train`")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CSV whose text column gives the texts")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads of torch and onnxruntime")
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per in-process figure")
    parser.add_argument("--rates", default="10,25,50,100,150,200,300", help="request rates to try, ascending")
    parser.add_argument("--http-seconds", type=float, default=15.0, help="duration of each request rate")
    parser.add_argument("--http-precision", choices=("int8", "fp32"), default="int8")
    parser.add_argument("--workers", type=int, default=1, help="azmlinfsrv worker processes (WORKER_COUNT)")
    parser.add_argument("--p99-target-ms", type=float, default=50.0)
    parser.add_argument("--azmlinfsrv", type=Path, default=DEFAULT_AZMLINFSRV)
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--hostile", action="store_true", help="also measure slow clients and big bodies")
    parser.add_argument("--hostile-only", action="store_true", help="only measure slow clients and big bodies")
    parser.add_argument("--baseline", action="store_true", help="with --hostile: also azmlinfsrv's defaults")
    parser.add_argument("--hostile-wait", type=float, default=60.0, help="seconds to wait for the good request")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    if not (args.model_dir / "artifact.json").is_file():
        parser.error(f"{args.model_dir} holds no artifact.json; accepted: a folder written by `python -m model train`")
    rates = sorted(float(rate) for rate in args.rates.split(","))

    texts, source = benchmark_texts(args.data)
    report: dict[str, Any] = {
        "model_dir": str(args.model_dir),
        "texts": source,
        "versions": versions(args.azmlinfsrv),
        "threads": {"intra_op": args.threads, "inter_op": 1, "http_workers": args.workers},
        "load_average_start": load_average(),
    }
    print(f"model {args.model_dir}; texts {source}")
    print(f"versions {report['versions']}")
    print(f"threads: intra-op {args.threads}, inter-op 1; load average at start {report['load_average_start']}")

    if args.hostile or args.hostile_only:
        print(f"hostile clients ({args.workers} worker(s)):", flush=True)
        report["hostile"] = hostile(args.model_dir, args.workers, args.azmlinfsrv, args.baseline, args.hostile_wait)
    if args.hostile_only:
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        return 0

    print("in process (tokenization included):", flush=True)
    report["in_process"] = in_process(args.model_dir, texts, args.threads, args.seconds, args.skip_torch)
    by_key = {(r["runtime"], r["batch"]): r for r in report["in_process"]}
    if ("torch eager", 1) in by_key:
        speedup = by_key[("onnx int8", 1)]["texts_per_second"] / by_key[("torch eager", 1)]["texts_per_second"]
        report["int8_vs_torch_batch1"] = speedup
        print(f"ONNX int8 / torch eager throughput at batch 1: {speedup:.1f}x (target >= 3x)")

    if not args.skip_http:
        print(
            f"over HTTP (azmlinfsrv, {args.workers} worker(s), {args.http_precision}, 1 text per request, "
            f"open loop, {args.http_seconds:.0f} s per rate):",
            flush=True,
        )
        report["http"], report["http_best_rate"] = over_http(
            args.model_dir,
            texts,
            rates,
            args.http_seconds,
            args.threads,
            args.workers,
            args.http_precision,
            args.p99_target_ms,
            args.azmlinfsrv,
        )
        print(f"highest tested rate with p99 < {args.p99_target_ms:.0f} ms: {report['http_best_rate']} rps")
    report["load_average_end"] = load_average()
    print(f"load average at end {report['load_average_end']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
