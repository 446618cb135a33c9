"""The benchmark script's own plumbing (the benchmark itself runs on the real data, not in tests)."""

import pytest

from scripts.bench_model import main


def test_absent_data_is_skipped_with_a_message(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "absent.csv")]) == 0
    assert "skipped: data file" in capsys.readouterr().out


def test_set_rejects_a_boolean_that_is_not_one(tmp_path, synthetic_csv):
    with pytest.raises(SystemExit, match=r"--set class_weighted=ture: 'ture' is not a boolean"):
        main(["--data", str(synthetic_csv), "--set", "class_weighted=ture"])


def test_set_rejects_a_number_that_is_not_one(synthetic_csv):
    with pytest.raises(SystemExit, match=r"--set epochs=ten: .*accepted: a int"):
        main(["--data", str(synthetic_csv), "--set", "epochs=ten"])


def test_an_interrupted_benchmark_leaves_no_training_running(tmp_path, synthetic_csv, monkeypatch):
    import subprocess

    import scripts.bench_model as bench

    started = []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    def interrupted(pid, options):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench.subprocess, "Popen", Recorded)
    monkeypatch.setattr(bench.os, "wait4", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bench.train_bert(synthetic_csv, tmp_path / "model", {"preset": "tiny"})
    [process] = started
    assert process.returncode is not None, "the training child was stopped and reaped"
    threads = process.args.index("--num-threads")  # given even when the caller leaves it to the default
    assert process.args[threads + 1] == str(bench.cpus_per_process())


def test_ddp_benchmark_passes_each_process_its_share_of_the_cpus_as_threads(monkeypatch):
    from scripts import bench_ddp

    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(4)))  # a 4-CPU machine
    assert [bench_ddp.threads_each(n, None) for n in (1, 2, 3, 8)] == [4, 2, 1, 1]
    assert bench_ddp.threads_each(2, 3) == 3


def test_decision_benchmark_counts_agreement_and_the_factor_spread():
    from scripts.bench_decision import summary

    def decision(winner, passed, factor):
        return {
            "winner": winner,
            "guardrails": {
                "latency": {"passed": passed, "factor": factor, "champion_ms": 0.2, "challenger_ms": 0.2 * factor}
            },
        }

    figures = summary(
        [decision("challenger", True, 1.4), decision("champion", False, 1.6), decision("challenger", True, 1.45)]
    )
    assert figures["winner"] == "2 of 3 agree (challenger 2, champion 1)"
    assert figures["latency_guardrail"] == "2 of 3 agree (passed 2, failed 1)"
    assert figures["factor"] == "median 1.450, range 1.400-1.600"
    assert summary([decision("challenger", True, 1.4)] * 2)["winner"] == "2 of 2 agree (challenger)"


def test_decision_benchmark_wants_the_whole_pair_or_none(tmp_path, capsys):
    from scripts.bench_decision import main as bench_decision

    with pytest.raises(SystemExit):
        bench_decision(["--champion", str(tmp_path)])
    assert "--champion, --challenger and --data go together" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_decision(["--champion", str(tmp_path), "--challenger", str(tmp_path), "--data", str(tmp_path / "d.csv")])
    assert "holds no artifact.json" in capsys.readouterr().err


def test_ddp_benchmark_runs_are_process_counts_with_optional_threads():
    import argparse

    from scripts.bench_ddp import parse_run

    assert parse_run("2") == (2, None) and parse_run("1x1") == (1, 1)
    for text in ("2x0", "0", "two", "1x"):
        with pytest.raises(argparse.ArgumentTypeError, match="accepted: N"):
            parse_run(text)


def test_ddp_benchmark_starts_several_processes_through_torchrun(tmp_path):
    from scripts.bench_ddp import PEAK_MEMORY, program

    several, alone = program(2, tmp_path), program(1, tmp_path)
    assert several[1:6] == ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    assert several[-2:] == alone[-2:] == [str(PEAK_MEMORY), str(tmp_path)]
    assert "torch.distributed.run" not in alone


def test_peak_memory_wrapper_reports_its_process_and_keeps_the_exit_status(tmp_path):
    import json
    import subprocess
    import sys

    from scripts.bench_ddp import PEAK_MEMORY
    from tests.paths import REPO_ROOT

    result = subprocess.run(
        [
            sys.executable,
            str(PEAK_MEMORY),
            str(tmp_path),
            "split",
            "--data",
            str(tmp_path / "absent.csv"),
            "--train-out",
            str(tmp_path / "a.csv"),
            "--evaluation-out",
            str(tmp_path / "b.csv"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "error: data file" in result.stderr
    report = json.loads((tmp_path / "rank-0.json").read_text())
    assert report["status"] == 2 and report["rank"] == 0 and report["peak_kib"] > 10_000
