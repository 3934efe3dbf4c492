"""What a tracked run and its windows measured, as dataclasses over carbonclock's JSON documents.

The fields are read from the same documents the CLI writes: ``run.json`` and the report of
``carbonclock report --format json`` (``schemas/report.schema.json``); each object keeps the
whole document in ``run_json`` / ``report`` for anything not lifted into a field.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple


def parse_utc(text: Optional[str]) -> Optional[_dt.datetime]:
    """``2026-11-27T23:59:01.250Z`` -> an aware UTC datetime (None stays None)."""
    if text is None:
        return None
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclasses.dataclass(frozen=True)
class DeviceEnergy:
    """One metered device and its energy."""

    id: str
    """``gpu0``, ``cpu0-package``, ``cpu0-dram``, ``cpu-estimate``, ``dram-estimate``."""
    kind: str
    """``gpu``, ``cpu`` or ``dram``."""
    name: str
    method: str
    """``counter``, ``power-integration`` or ``estimate`` (labelled estimated everywhere)."""
    energy_j: float
    uuid: Optional[str] = None
    note: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Sample:
    """One periodic reading, as handed to ``on_sample`` callbacks."""

    elapsed_s: float
    """Seconds since metering began."""
    power_w: float
    """Mean power of all devices over the last interval."""
    energy_j: float
    """Energy of all devices since metering began."""


@dataclasses.dataclass
class Window:
    """A named stretch of the run (``run.window(name)`` or ``begin_window``/``end_window``).

    Its energy is read from every counter at the window's begin and end, so short windows are
    exact; emissions are priced like the run's (intensity provider, PUE, embodied share). On a
    distributed task that does not meter its node, only the times are known (energy is None);
    the merge prices them from the node's timeline.
    """

    name: str
    begin_utc: _dt.datetime
    end_utc: Optional[_dt.datetime] = None
    energy_j: Optional[float] = None
    """Energy of every metered device between the two readings (None while open, or for a
    task that does not meter)."""
    device_energy_j: Dict[str, float] = dataclasses.field(default_factory=dict)
    devices: Tuple[DeviceEnergy, ...] = ()
    emissions_g: Optional[float] = None
    """Operational emissions (headline signal, times PUE), grams CO2eq."""
    embodied_g: Optional[float] = None
    total_g: Optional[float] = None
    sci_g_per_unit: Optional[float] = None
    signal: Optional[str] = None
    report: Optional[Dict[str, Any]] = None
    """The window's report document (``carbonclock report --format json`` for this stretch)."""

    @property
    def open(self) -> bool:
        """True until the window has ended."""
        return self.end_utc is None

    @property
    def duration_s(self) -> Optional[float]:
        if self.end_utc is None:
            return None
        return (self.end_utc - self.begin_utc).total_seconds()

    def _fill(self, doc: Mapping[str, Any]) -> "Window":
        self.begin_utc = parse_utc(doc["begin_utc"]) or self.begin_utc
        self.end_utc = parse_utc(doc["end_utc"])
        self.energy_j = doc.get("energy_j")
        self.device_energy_j = dict(doc.get("devices") or {})
        report = doc.get("report")
        self.report = report
        if report:
            self.devices = _devices(report.get("devices", []))
            self.emissions_g = report.get("operational_g")
            self.embodied_g = report.get("embodied_g")
            self.total_g = report.get("total_g")
            self.sci_g_per_unit = report.get("sci_g_per_unit")
            self.signal = report.get("signal")
        return self

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> "Window":
        return cls(name=doc["name"], begin_utc=parse_utc(doc["begin_utc"]))._fill(doc)


def _devices(items: List[Mapping[str, Any]]) -> Tuple[DeviceEnergy, ...]:
    return tuple(
        DeviceEnergy(
            id=d["id"],
            kind=d["kind"],
            name=d.get("name", ""),
            method=d["method"],
            energy_j=float(d["energy_j"]),
            uuid=d.get("uuid") or None,
            note=d.get("note") or None,
        )
        for d in items
    )


@dataclasses.dataclass(frozen=True)
class RunResult:
    """A tracked run once it has stopped: what ``run.json`` and the carbon report say.

    ``role`` is ``"single"`` for an ordinary run; in distributed training ``"meter"`` for the
    task that metered its node and ``"member"`` for the others (whose energy and emissions are
    None: their node's meter counts them, once).
    """

    role: str
    run_dir: Path
    run_id: Optional[str]
    start_utc: Optional[_dt.datetime]
    end_utc: Optional[_dt.datetime]
    exit_code: Optional[int]
    energy_j: Optional[float]
    devices: Tuple[DeviceEnergy, ...]
    measured_share: Optional[float]
    """Share of the energy measured by counters or power integration rather than estimated."""
    timeline: List[Dict[str, Any]]
    """UTC-aligned buckets: ``bucket_start_utc``, ``bucket_s``, ``active_s``, ``energy_j`` per
    device id (as in run.json)."""
    emissions_g: Optional[float]
    """Operational emissions: the energy timeline priced against the zone's intensity (headline
    signal), times PUE, grams CO2eq."""
    embodied_g: Optional[float]
    total_g: Optional[float]
    sci_g_per_unit: Optional[float]
    signal: Optional[str]
    zone: Optional[str]
    pue: Optional[float]
    provenance: List[Dict[str, Any]]
    """What priced the headline emissions, one part per source (basis, zone, signal, factor,
    source, energy share), as the intensity provider reports it."""
    windows: Dict[str, Window]
    """Windows by name (the last one of each name)."""
    window_list: List[Window]
    """Every window, in the order they ended."""
    warnings: List[str]
    report: Optional[Dict[str, Any]]
    """The carbon report document (``carbonclock report --format json``)."""
    run_json: Dict[str, Any]
    """``run.json`` as written (a member: its ``tasks/<rank>.json``)."""
    cluster: Optional[Dict[str, Any]]

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], windows: List[Window]) -> "RunResult":
        run = doc.get("run") or {}
        report = doc.get("report")
        metered = doc["role"] != "member"
        headline: Dict[str, Any] = {}
        if report:
            for s in report.get("signals", []):
                if s.get("signal") == report.get("signal"):
                    headline = s
                    break
        return cls(
            role=doc["role"],
            run_dir=Path(doc["run_dir"]),
            run_id=run.get("id"),
            start_utc=parse_utc(run.get("start_utc")),
            end_utc=parse_utc(run.get("end_utc")),
            exit_code=run.get("exit_code"),
            energy_j=run.get("energy_j_total") if metered else None,
            devices=_devices(run.get("devices", [])) if metered else (),
            measured_share=run.get("measured_share") if metered else None,
            timeline=list(run.get("timeline", [])) if metered else [],
            emissions_g=report.get("operational_g") if report else None,
            embodied_g=report.get("embodied_g") if report else None,
            total_g=report.get("total_g") if report else None,
            sci_g_per_unit=report.get("sci_g_per_unit") if report else None,
            signal=report.get("signal") if report else None,
            zone=report.get("zone") if report else run.get("zone"),
            pue=report.get("pue") if report else run.get("pue"),
            provenance=list(headline.get("provenance", [])),
            windows={w.name: w for w in windows},
            window_list=list(windows),
            warnings=list(doc.get("warnings", [])),
            report=report,
            run_json=dict(run),
            cluster=doc.get("cluster"),
        )
