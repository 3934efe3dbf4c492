"""The other use cases from Python: report, plan, shift, history. Each calls the same library
use case as the CLI command of the same name and returns what its JSON output holds (a dict),
or the text of the other formats."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Union

from . import _native
from ._tracker import Duration, _duration_text, _issue

PathLike = Union[str, os.PathLike]


def _opt_duration(value: Optional[Duration], name: str) -> Optional[str]:
    return None if value is None else _duration_text(value, name)


def _path(value: Optional[PathLike]) -> Optional[str]:
    return None if value is None else os.fspath(value)


def _finish(out: Any, fmt: str) -> Any:
    text, messages = out
    _issue(messages, quiet=False, stacklevel=4)
    return json.loads(text) if fmt in ("json", "run-json") else text


def report(
    run_dir: PathLike,
    format: str = "json",
    *,
    zone: Optional[str] = None,
    region: Optional[str] = None,
    signal: Optional[str] = None,
    factor: Optional[str] = None,
    pue: Optional[float] = None,
    per: Optional[str] = None,
    work: Optional[float] = None,
    embodied_kg: Optional[float] = None,
    lifetime_years: Optional[float] = None,
    machine_share: Optional[float] = None,
    dram_gb: Optional[float] = None,
    db: Optional[PathLike] = None,
) -> Union[Dict[str, Any], str]:
    """A measured run's energy and carbon account, as ``carbonclock report RUN_DIR``.

    ``format="json"`` (default) returns the report document as a dict
    (``schemas/report.schema.json``: devices with method, emissions per signal with provenance,
    embodied, SCI, equivalents, notes); ``"run-json"`` returns run.json as a dict; ``"text"``,
    ``"md"``, ``"html"`` and ``"csv"`` (CodeCarbon's emissions.csv header and row) return
    text. A run whose run.json is missing is rebuilt from its journal. The options are the
    CLI's; errors are :class:`carbonclock.Error` subclasses with its messages.
    """
    options = dict(zone=zone, region=region, signal=signal, factor=factor, pue=pue, per=per,
                   work=work, embodied_kg=embodied_kg, lifetime_years=lifetime_years,
                   machine_share=machine_share, dram_gb=dram_gb, db=_path(db))
    return _finish(_native.report(os.fspath(run_dir), format, options), format)


def plan(
    *,
    zone: Optional[str] = None,
    region: Optional[str] = None,
    zones: Optional[str] = None,
    duration: Optional[Duration] = None,
    energy_kwh: Optional[float] = None,
    profile: Optional[PathLike] = None,
    flex_start: Optional[str] = None,
    pause_resume: Optional[str] = None,
    deadline: Optional[str] = None,
    deadline_mode: Optional[str] = None,
    slot: Optional[Duration] = None,
    signal: Optional[str] = None,
    factor: Optional[str] = None,
    forecast_source: Optional[str] = None,
    intensity_file: Optional[PathLike] = None,
    risk: Optional[str] = None,
    db: Optional[PathLike] = None,
    format: str = "json",
) -> Union[Dict[str, Any], str]:
    """A carbon-aware plan for a job without running anything, as ``carbonclock plan``.

    Give the job as ``duration`` and ``energy_kwh`` or a measured ``profile`` (a run
    directory), and one of ``flex_start`` / ``pause_resume`` (``"12h"`` or ``"50%"``) or a
    ``deadline``. ``format="json"`` returns the plan document (``schemas/plan.schema.json``:
    start, runs, expected and immediate grams, the intensity's basis); ``"text"`` and
    ``"sbatch"`` return text. ``risk`` (``"p10"``, ``"p50"``, ``"p90"``) plans on that quantile
    of carbonclock's own forecast's interval, as ``--risk``; the document's ``risk`` says how
    many slots rest on it.
    """
    options = dict(zone=zone, region=region, zones=zones,
                   duration=_opt_duration(duration, "duration"), energy_kwh=energy_kwh,
                   profile=_path(profile), flex_start=flex_start, pause_resume=pause_resume,
                   deadline=deadline, deadline_mode=deadline_mode,
                   slot=_opt_duration(slot, "slot"), signal=signal, factor=factor,
                   forecast_source=forecast_source, intensity_file=_path(intensity_file),
                   risk=risk, db=_path(db))
    return _finish(_native.plan(format, options), format)


def shift(
    *,
    start: str,
    zone: Optional[str] = None,
    region: Optional[str] = None,
    zones: Optional[str] = None,
    duration: Optional[Duration] = None,
    energy_kwh: Optional[float] = None,
    profile: Optional[PathLike] = None,
    flex_start: Optional[str] = None,
    pause_resume: Optional[str] = None,
    signal: Optional[str] = None,
    factor: Optional[str] = None,
    slot: Optional[Duration] = None,
    db: Optional[PathLike] = None,
    format: str = "json",
) -> Union[Dict[str, Any], str]:
    """One job moved by Flexible Start or Pause and Resume, in one zone or several, as
    ``carbonclock shift``.

    ``start`` is the requested start (UTC, e.g. ``"2022-06-01T00:00Z"``); the job is
    ``duration`` + ``energy_kwh`` (flat) or a measured ``profile``; exactly one of
    ``flex_start`` and ``pause_resume``. ``format="json"`` returns the shift document
    (``schemas/shift.schema.json``: per zone the baseline, the plans and what they rest on).
    """
    options = dict(start=start, zone=zone, region=region, zones=zones,
                   duration=_opt_duration(duration, "duration"), energy_kwh=energy_kwh,
                   profile=_path(profile), flex_start=flex_start, pause_resume=pause_resume,
                   signal=signal, factor=factor, slot=_opt_duration(slot, "slot"),
                   db=_path(db))
    return _finish(_native.shift(format, options), format)


def history(
    *,
    since: Optional[str] = None,
    until: Optional[str] = None,
    tag: Optional[str] = None,
    db: Optional[PathLike] = None,
) -> Dict[str, Any]:
    """The runs recorded in the history, as ``carbonclock history --format json``: the runs in
    [since, until) carrying ``tag``, with totals per month and per tag."""
    options = dict(since=since, until=until, tag=tag, db=_path(db))
    return _finish(_native.history(options), "json")
