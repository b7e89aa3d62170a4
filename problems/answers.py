"""Read an answers file (TOML): one table per problem id, plus an optional [report] table.

    [report]
    title = "Homework 1"
    course = "Deep Learning"
    group = "Group 7"
    authors = [ { name = "Ada Lovelace", student_number = "12345" } ]
    contributions = "Both authors contributed equally."

    ["hertie.1.1"]
    points = [ { at = "(2, 2)", kind = "minimum" } ]

Every problem of the file must exist; every error names the file and the key.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from problems.errors import InputError
from problems.registry import UnknownProblem, get

MAX_BYTES = 2_000_000
REPORT_KEYS = {"title": str, "course": str, "group": str, "date": str, "contributions": str, "authors": list}
MAX_TEXT = 20_000


@dataclass
class Author:
    name: str
    student_number: str = ""


@dataclass
class ReportMeta:
    title: str = "Deep-learning problem sets: derivations, checks and experiments"
    course: str = ""
    group: str = ""
    date: str = ""
    contributions: str = ""
    authors: list[Author] = field(default_factory=list)


@dataclass
class Answers:
    path: str = ""
    report: ReportMeta = field(default_factory=ReportMeta)
    claims: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_answers(path: str | Path) -> Answers:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: answers file not found")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, expected a TOML answers file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"{p}: file is larger than {MAX_BYTES} bytes")
    if b"\x00" in raw:
        raise InputError(f"{p}: binary file (contains NUL bytes), expected a TOML answers file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    return parse_answers(text, str(p))


def parse_answers(text: str, name: str = "<answers>") -> Answers:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{name}: invalid TOML: {exc}") from None
    answers = Answers(path=name)
    for key, value in data.items():
        if key == "report":
            answers.report = _report_meta(value, name)
            continue
        try:
            get(key)
        except UnknownProblem as exc:
            hint = ' (quote ids in table headers: ["hertie.1.1"])' if "." not in key else ""
            raise InputError(f"{name}: [{key}]: {exc}{hint}") from None
        if not isinstance(value, dict):
            raise InputError(f'{name}: "{key}" must be a table of claims, like ["{key}"]')
        answers.claims[key] = value
    return answers


def _report_meta(value: Any, name: str) -> ReportMeta:
    if not isinstance(value, dict):
        raise InputError(f"{name}: [report] must be a table")
    meta = ReportMeta()
    for key, v in value.items():
        if key not in REPORT_KEYS:
            raise InputError(f"{name}: [report].{key}: unknown key (expected: {', '.join(REPORT_KEYS)})")
        if not isinstance(v, REPORT_KEYS[key]):
            raise InputError(f"{name}: [report].{key}: expected {REPORT_KEYS[key].__name__}, got {type(v).__name__}")
        if isinstance(v, str) and len(v) > MAX_TEXT:
            raise InputError(f"{name}: [report].{key}: longer than {MAX_TEXT} characters")
        if key == "authors":
            authors = []
            for i, a in enumerate(v):
                where = f"{name}: [report].authors[{i}]"
                if isinstance(a, str):
                    authors.append(Author(a))
                    continue
                if not isinstance(a, dict) or not isinstance(a.get("name"), str):
                    raise InputError(f'{where}: expected {{ name = "...", student_number = "..." }}')
                bad = set(a) - {"name", "student_number"}
                if bad:
                    raise InputError(f"{where}: unknown key(s) {', '.join(sorted(bad))}")
                number = a.get("student_number", "")
                if not isinstance(number, (str, int)) or isinstance(number, bool):
                    raise InputError(f"{where}.student_number: expected text")
                authors.append(Author(a["name"], str(number)))
            meta.authors = authors
        else:
            setattr(meta, key, v)
    return meta
