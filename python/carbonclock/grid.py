"""Grid carbon-intensity data from Python, as ``carbonclock grid``."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Sequence, Union

from . import _native
from ._functions import PathLike, _finish, _opt_duration, _path
from ._tracker import Duration


def import_file(
    path: Union[PathLike, Sequence[PathLike]],
    *,
    format: str = "auto",
    zone: Optional[str] = None,
    signal: Optional[str] = None,
    factor: Optional[str] = None,
    source: Optional[str] = None,
    tz: Optional[str] = None,
    time_column: Optional[str] = None,
    value_column: Optional[str] = None,
    unit: Optional[str] = None,
    duration_column: Optional[str] = None,
    duration_unit: Optional[Duration] = None,
    zone_column: Optional[str] = None,
    step: Optional[Duration] = None,
    index_origin: Optional[str] = None,
    db: Optional[PathLike] = None,
) -> Dict[str, Any]:
    """Imports intensity series into the store, as ``carbonclock grid import`` (one file or a
    list, all in one transaction: a bad file anywhere stores nothing).

    ``format``: ``auto``, ``electricitymaps-csv``, ``electricitymaps-json``,
    ``watttime-json``, ``ukci-json`` or ``csv`` (generic, with ``time_column``,
    ``value_column``, ``unit``, ...). Returns ``{"series": [{"file", "zone", "signal",
    "factor", "source", "points", "points_added", "points_already_stored",
    "first_start_utc", "last_end_utc", "gaps"}]}``.
    """
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    options = dict(format=format, zone=zone, signal=signal, factor=factor, source=source, tz=tz,
                   time_column=time_column, value_column=value_column, unit=unit,
                   duration_column=duration_column,
                   duration_unit=_opt_duration(duration_unit, "duration_unit"),
                   zone_column=zone_column, step=_opt_duration(step, "step"),
                   index_origin=index_origin, db=_path(db))
    return _finish(_native.grid_import([os.fspath(p) for p in paths], options), "json")


__all__ = ["import_file"]
