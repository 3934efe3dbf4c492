"""carbonclock: the energy and carbon of compute jobs, measured from inside a Python script.

The same native engine as the ``carbonclock`` command line (NVML, RAPL, a labelled estimate;
the grid-intensity provider; SCI accounting), called in process::

    import carbonclock

    with carbonclock.track(zone="DE", interval="100ms") as run:
        for epoch in range(3):
            with run.window(f"epoch-{epoch}"):
                train_one_epoch()
    print(run.energy_j, run.emissions_g, run.run_dir)

Also :func:`report`, :func:`plan`, :func:`shift`, :func:`history` and
:func:`carbonclock.grid.import_file`, which return what the CLI's JSON outputs hold.
"""

from . import grid
from ._errors import (CarbonclockWarning, Error, InternalError, InvalidInputError, IoError,
                      MeteringWarning, NotFoundError, UnavailableError)
from ._functions import history, plan, report, shift
from ._native import __version__
from ._results import DeviceEnergy, RunResult, Sample, Window
from ._tracker import Tracker, current, track

__all__ = [
    "track", "Tracker", "current", "RunResult", "Window", "Sample", "DeviceEnergy",
    "report", "plan", "shift", "history", "grid",
    "Error", "InvalidInputError", "NotFoundError", "IoError", "UnavailableError",
    "InternalError", "CarbonclockWarning", "MeteringWarning", "__version__",
]
