"""Hostile history and export files given to the audit: each is refused with exit 2 and one line naming
the file and the first bad value by its JSON path, with no traceback and no report written. The
files start from the recorded prod fixtures and break one thing each."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.audit.cli import main
from tests.hostile.bounded_cli import one_error_line, run_module
from tests.pipelines.conftest import FIXTURES

HISTORY = json.loads((FIXTURES / "prod-history.json").read_text())
EXPORT = json.loads((FIXTURES / "prod-export.json").read_text())
SECRET = {"4dabf18193072939515e22adc298c5c1": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "CIPHERTEXT"}
TIME = "expected a time such as 2024-05-01T10:00:00.000Z"


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@dataclass(frozen=True)
class Case:
    name: str
    flag: str  # the option the hostile file is given to
    content: Callable[[], bytes]  # the hostile file
    message: str  # what follows "audit: error: <flag> '<file>': "


def changed(document, change: Callable) -> Callable[[], bytes]:
    """A builder of the recorded document as JSON with `change` applied to a copy."""

    def build() -> bytes:
        document_copy = copy.deepcopy(document)
        change(document_copy)
        return json.dumps(document_copy).encode()

    return build


def history(change: Callable[[list], object]) -> Callable[[], bytes]:
    return changed(HISTORY, change)


def export(change: Callable[[dict], object]) -> Callable[[], bytes]:
    return changed(EXPORT, change)


def resource(index: int, **fields) -> Callable[[dict], object]:
    return lambda state: state["deployment"]["resources"][index].update(fields)


def of_stack(name: str, *indexes: int) -> Callable[[dict], object]:
    """A change moving the resources at `indexes` (all when none are given) to stack `name`."""

    def change(state: dict) -> None:
        resources = state["deployment"]["resources"]
        for index in indexes or range(len(resources)):
            resources[index]["urn"] = resources[index]["urn"].replace("urn:pulumi:prod::", f"urn:pulumi:{name}::", 1)

    return change


def replace_text(build: Callable[[], bytes], old: str, new: str) -> Callable[[], bytes]:
    def changed() -> bytes:
        text = build().decode()
        assert old in text
        return text.replace(old, new, 1).encode()

    return changed


LATIN1_HISTORY = json.dumps(HISTORY, ensure_ascii=False).replace("Ana Silva", "Ana Sílva")
LATIN1_EXPORT = json.dumps({**EXPORT, "note": "café"}, ensure_ascii=False)
UNCHANGED_HISTORY = history(lambda entries: None)
UNCHANGED_EXPORT = export(lambda state: None)

CASES = [
    # the shapes of the issue's list
    Case(
        "resource given as 1",
        "--export",
        export(lambda s: s["deployment"]["resources"].__setitem__(1, 1)),
        "deployment.resources[1]: expected an object, got 1",
    ),
    Case(
        "resource given as null",
        "--export",
        export(lambda s: s["deployment"]["resources"].__setitem__(1, None)),
        "deployment.resources[1]: expected an object, got null",
    ),
    Case(
        "numeric URN",
        "--export",
        export(resource(2, urn=12345)),
        "deployment.resources[2].urn: expected a string, got 12345",
    ),
    Case(
        "outputs as a string",
        "--export",
        export(resource(3, outputs="all of them")),
        'deployment.resources[3].outputs: expected an object, got "all of them"',
    ),
    Case(
        "type null",
        "--export",
        export(resource(0, type=None)),
        "deployment.resources[0].type: expected a string, got null",
    ),
    Case(
        "pending operation as a string",
        "--export",
        export(lambda s: s["deployment"].update(pending_operations=["deleting"])),
        'deployment.pending_operations[0]: expected an object, got "deleting"',
    ),
    Case(
        "outputs nested 800 deep",
        "--export",
        replace_text(export(resource(1, outputs={"deep": "DEEP"})), '"DEEP"', nested(800)),
        "deployment.resources[1].outputs.deep" + ".a" * 59 + ": nested deeper than 64 levels",
    ),
    Case(
        "history nested 800 deep",
        "--history",
        replace_text(history(lambda h: h[0].update(message="DEEP")), '"DEEP"', nested(800)),
        "history[0].message" + ".a" * 62 + ": nested deeper than 64 levels",
    ),
    Case(
        "time offset +9999",
        "--history",
        history(lambda h: h[1].update(startTime="2026-10-14 07:30:00 +9999 XYZ")),
        f'history[1].startTime: {TIME}, got "2026-10-14 07:30:00 +9999 XYZ"',
    ),
    Case(
        "RFC 3339 offset +99:99",
        "--history",
        history(lambda h: h[1].update(endTime="2026-10-14T07:30:00+99:99")),
        f'history[1].endTime: {TIME}, got "2026-10-14T07:30:00+99:99"',
    ),
    Case(
        "a time out of range in UTC",
        "--history",
        history(lambda h: h[0].update(startTime="0001-01-01T00:00:00+23:59")),
        f'history[0].startTime: {TIME}, got "0001-01-01T00:00:00+23:59"',
    ),
    Case(
        "5000-digit version",
        "--history",
        replace_text(UNCHANGED_HISTORY, '"version": 7', '"version": ' + "7" * 5000),
        "history[0].version: a 5000-digit number; accepted: at most 40 digits",
    ),
    Case(
        "Latin-1 history",
        "--history",
        lambda: LATIN1_HISTORY.encode("latin-1"),
        f"not UTF-8 text (byte 0xed at offset {LATIN1_HISTORY.index('í')}); expected JSON as the Pulumi CLI prints it",
    ),
    Case(
        "Latin-1 export",
        "--export",
        lambda: LATIN1_EXPORT.encode("latin-1"),
        f"not UTF-8 text (byte 0xe9 at offset {LATIN1_EXPORT.index('é')}); expected JSON as the Pulumi CLI prints it",
    ),
    # others of the same kinds
    Case(
        "resource changes as a string",
        "--history",
        history(lambda h: h[3].update(resourceChanges="x")),
        'history[3].resourceChanges: expected an object, got "x"',
    ),
    Case(
        "a negative count",
        "--history",
        history(lambda h: h[3]["resourceChanges"].update(delete=-2)),
        "history[3].resourceChanges.delete: expected a whole number of at least 0, got -2",
    ),
    Case(
        "an entry given as null",
        "--history",
        history(lambda h: h.__setitem__(2, None)),
        "history[2]: expected an object, got null",
    ),
    Case(
        "kind null",
        "--history",
        history(lambda h: h[4].update(kind=None)),
        "history[4].kind: expected one of update, preview, refresh, destroy, import or rename, got null",
    ),
    Case(
        "version as true",
        "--history",
        history(lambda h: h[0].update(version=True)),
        "history[0].version: expected an integer, got true",
    ),
    Case(
        "an environment value as a number",
        "--history",
        history(lambda h: h[0]["environment"].update({"git.head": 7})),
        'history[0].environment["git.head"]: expected a string, got 7',
    ),
    Case(
        "a config entry as a string",
        "--history",
        history(lambda h: h[0]["config"].update({"mlops-platform:x": "y"})),
        'history[0].config["mlops-platform:x"]: expected an object, got "y"',
    ),
    Case(
        "history as an object",
        "--history",
        lambda: json.dumps({"history": HISTORY}).encode(),
        "history: expected the JSON array `pulumi stack history --json` prints, got an object",
    ),
    Case(
        "NaN",
        "--history",
        replace_text(UNCHANGED_HISTORY, '"version": 7', '"version": NaN'),
        "history[0].version: NaN, which JSON does not allow",
    ),
    Case(
        "a float out of range",
        "--export",
        replace_text(export(resource(1, outputs={"n": "N"})), '"N"', "1e999"),
        "deployment.resources[1].outputs.n: 1e999, out of a float's range",
    ),
    Case(
        "UTF-16 export",
        "--export",
        lambda: json.dumps(EXPORT).encode("utf-16"),
        "UTF-16 text; expected UTF-8 as the Pulumi CLI prints it (in PowerShell: `pulumi ... | Out-File -Encoding utf8`)",
    ),
    Case(
        "truncated JSON",
        "--export",
        lambda: b'{"version": 3, "deployment": {"resources": [',
        "not valid JSON: Expecting value at line 1 column 45",
    ),
    Case("a million brackets", "--history", lambda: b"[" * 1_000_000, "nested deeper than 64 levels"),
    Case(
        "a pending operation without its resource",
        "--export",
        export(lambda s: s["deployment"].update(pending_operations=[{"type": "deleting"}])),
        "deployment.pending_operations[0].resource: required, but missing",
    ),
    Case(
        "export version true",
        "--export",
        export(lambda s: s.update(version=True)),
        "version: expected an integer, got true",
    ),
    Case(
        "export version 4",
        "--export",
        export(lambda s: s.update(version=4)),
        "version: expected a whole number of at most 3, got 4",
    ),
    Case(
        "outputs signed as one secret",
        "--export",
        export(resource(1, outputs=SECRET)),
        "deployment.resources[1].outputs: expected an object of properties, got a secret value",
    ),
    # files of another stack than --stack prod
    Case(
        "an export of another stack",
        "--export",
        export(of_stack("dev")),
        "state of stack 'dev' (deployment.resources[0].urn), not of --stack 'prod'",
    ),
    Case(
        "an export with one resource of another stack",
        "--export",
        export(of_stack("test", 7)),
        "state of stack 'test' (deployment.resources[7].urn), not of --stack 'prod'",
    ),
    Case(
        "a pending operation of another stack",
        "--export",
        export(
            lambda s: s["deployment"]["pending_operations"][0]["resource"].update(
                urn="urn:pulumi:dev::mlops-platform::azure-native:machinelearningservices:Compute::gpu"
            )
        ),
        "state of stack 'dev' (deployment.pending_operations[0].resource.urn), not of --stack 'prod'",
    ),
    Case(
        "a previous export of another stack",
        "--previous-export",
        export(of_stack("prod-eu")),
        "state of stack 'prod-eu' (deployment.resources[0].urn), not of --stack 'prod'",
    ),
    Case(
        "a URN that is not a Pulumi URN",
        "--export",
        export(resource(2, urn="arn:aws:s3:::bucket")),
        "deployment.resources[2].urn: expected a Pulumi URN such as urn:pulumi:prod::project::type::name, "
        'got "arn:aws:s3:::bucket"',
    ),
    Case(
        "a URN without its name",
        "--export",
        export(resource(3, urn="urn:pulumi:prod::mlops-platform")),
        "deployment.resources[3].urn: expected a Pulumi URN such as urn:pulumi:prod::project::type::name, "
        'got "urn:pulumi:prod::mlops-platform"',
    ),
    Case(
        "a previous export with a null resource",
        "--previous-export",
        export(lambda s: s["deployment"]["resources"].__setitem__(0, None)),
        "deployment.resources[0]: expected an object, got null",
    ),
]


def write_case(case: Case, directory: Path) -> list[str]:
    """The audit's arguments with the hostile file in its place and the recorded fixtures elsewhere."""
    hostile = directory / "hostile.json"
    hostile.write_bytes(case.content())
    files = {"--history": FIXTURES / "prod-history.json", "--export": FIXTURES / "prod-export.json"}
    files[case.flag] = hostile
    return [
        "--stack",
        "prod",
        *(a for flag, path in files.items() for a in (flag, str(path))),
        *(["--previous-export", str(hostile)] if case.flag == "--previous-export" else []),
        "--out",
        str(directory / "out"),
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_file_is_refused_with_one_line_naming_the_file_and_the_value(case, tmp_path, capsys):
    argv = write_case(case, tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert line == f"audit: error: {case.flag} {str(tmp_path / 'hostile.json')!r}: {case.message}"
    assert captured.out == "" and not (tmp_path / "out").exists(), "nothing is written"
    assert "CIPHERTEXT" not in line


BOMBS = ["outputs nested 800 deep", "history nested 800 deep", "5000-digit version", "a million brackets"]


@pytest.mark.parametrize("name", BOMBS)
def test_bombs_are_refused_quickly_within_bounded_memory_from_the_command_line(name, tmp_path):
    """`python -m scripts.audit` in a subprocess limited to 30 s and 512 MiB of address space."""
    [case] = [c for c in CASES if c.name == name]
    result = run_module("scripts.audit", *write_case(case, tmp_path))
    assert result.returncode == 2, result.stderr
    assert one_error_line(result.stderr).endswith(case.message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "megabytes, message",
    [
        (100, "nested deeper than 64 levels"),  # read and refused
        (129, f"{129 * 1024 * 1024} bytes; accepted: at most {128 * 1024 * 1024} bytes"),  # refused unread
    ],
)
def test_files_of_a_hundred_megabytes_stay_within_the_bounds(tmp_path, megabytes, message):
    with (tmp_path / "h.json").open("wb") as file:
        file.write(b"[" * (1024 * 1024))
        file.truncate(megabytes * 1024 * 1024)  # the rest is NUL bytes, written sparse
    result = run_module(
        "scripts.audit",
        "--stack",
        "prod",
        "--history",
        str(tmp_path / "h.json"),
        "--export",
        str(FIXTURES / "prod-export.json"),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 2, result.stderr
    assert one_error_line(result.stderr) == f"audit: error: --history {str(tmp_path / 'h.json')!r}: {message}"


def test_the_corpus_covers_the_shapes_the_issue_lists():
    names = {c.name for c in CASES}
    assert {
        "resource given as 1",
        "resource given as null",
        "numeric URN",
        "outputs as a string",
        "type null",
        "pending operation as a string",
        "outputs nested 800 deep",
        "time offset +9999",
        "5000-digit version",
        "Latin-1 history",
        "Latin-1 export",
    } <= names
    assert len(CASES) >= 14
