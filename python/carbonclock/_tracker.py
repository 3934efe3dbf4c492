"""Metering the current process: :func:`track` and :class:`Tracker`.

The metering runs in carbonclock's native engine on a thread of its own that never holds the
GIL (it reads NVML, RAPL and /proc while Python computes). Callbacks run on Python's side,
never on that thread: ``on_window_end`` when the window ends, ``on_sample`` at window
boundaries, at ``stop()``, on ``poll()``, and, for a tracker started on the main thread, within
about one interval while Python code runs (a pending call scheduled by the engine).

Before Python 3.12 a pending call scheduled from a thread other than the main one is only
noticed when the main thread next takes the GIL back (CPython recomputes its "eval breaker"
there, not in ``Py_AddPendingCall``): a pure-Python loop that never releases the GIL would get
its samples only at window boundaries. There, a tracker with ``on_sample`` callbacks keeps a
small Python thread that wakes once per interval; taking the GIL for a moment makes the main
thread hand it over and take it back, which runs the pending call.

A callback's exception becomes a warning; a KeyboardInterrupt or SystemExit raised while
callbacks run (Python handles signals there too) is raised in the code the pending call
interrupted, as if it had come a moment later.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import functools
import inspect
import json
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, TypeVar,
                    Union, overload)

from . import _native
from ._errors import CarbonclockWarning, Error, InvalidInputError, MeteringWarning
from ._results import RunResult, Sample, Window, parse_utc

Duration = Union[str, float, int, _dt.timedelta]
F = TypeVar("F", bound=Callable[..., Any])

_active: List["Tracker"] = []  # started and not stopped, innermost last
_active_lock = threading.Lock()


def _duration_text(value: Duration, name: str) -> str:
    """"100ms", 0.1 (seconds) or timedelta(milliseconds=100) -> the engine's duration text."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{name}: expected a duration such as '100ms', got {value!r}")
    if isinstance(value, _dt.timedelta):
        return repr(value.total_seconds())
    if isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, str):
        return value
    raise InvalidInputError(f"{name}: expected a duration such as '100ms', got {value!r}")


def _issue(messages: Iterable[Any], quiet: bool, stacklevel: int = 3) -> None:
    """Turns the engine's notes and warnings into Python warnings (notes only when not quiet)."""
    for kind, text in messages:
        if kind == "warning":
            warnings.warn(text, CarbonclockWarning, stacklevel=stacklevel)
        elif not quiet:
            warnings.warn(text, MeteringWarning, stacklevel=stacklevel)


def _call_safely(callback: Callable[..., Any], arg: Any, what: str) -> None:
    # A logger's failure must neither stop metering nor surface inside the training loop at a
    # random point (samples arrive as pending calls): it becomes a warning.
    try:
        callback(arg)
    except Exception as e:  # noqa: BLE001 - reported, not swallowed
        warnings.warn(f"carbonclock: {what} callback {callback!r} raised {type(e).__name__}: {e}",
                      CarbonclockWarning, stacklevel=2)


class Tracker:
    """Meters this process's energy and carbon: a context manager, a decorator, or ``start()``
    and ``stop()`` by hand.

    It takes the options of ``carbonclock run`` by the same names and writes the same run
    directory (``run.json`` + ``journal.jsonl``), so ``carbonclock report`` and
    ``carbonclock history`` see the run::

        with carbonclock.track(zone="DE", interval="100ms", tags=["bert"]) as run:
            for epoch in range(3):
                with run.window(f"epoch-{epoch}"):
                    train_one_epoch()
        print(run.energy_j, run.emissions_g, run.run_dir)
        print(run.windows["epoch-0"].energy_j, run.windows["epoch-0"].emissions_g)

        t = carbonclock.Tracker(zone="DE"); t.start(); ...; result = t.stop()
        w = t.begin_window("eval"); ...; t.end_window("eval")  # windows may nest and overlap

    Options (all keyword-only; the CLI option of the same name says more):

    zone, region
        The grid zone (``"DE"``, ``"US-CAL-CISO"``, an alias such as ``"DE-LU"``) or the cloud
        region (``"us-west-2"``) whose carbon intensity prices the energy. Default: as the CLI
        (``CARBONCLOCK_ZONE``/``CARBONCLOCK_REGION``, the config file, else us-east-1, said in
        the report).
    signal, factor
        Headline signal ``"marginal"`` or ``"average"`` (default: marginal when stored), and
        the emission factor ``"lifecycle"`` or ``"direct"`` of stored data.
    pue
        Power usage effectiveness, 1 to 3 (default 1.0, stated).
    per, work
        The functional unit R of the SCI (``per="1000 inferences", work=50000``).
    gpus
        ``"all"`` (every GPU visible, honouring ``CUDA_VISIBLE_DEVICES``), ``"used"`` (only
        GPUs where this process tree appears) or a list such as ``"0,2"``.
    no_gpu
        Do not load NVML.
    interval
        Sampling interval: ``"100ms"``, seconds as a number, or a timedelta; at least 50 ms
        (default ``"1s"``). Windows read every counter at their begin and end whatever it is.
    bucket
        Timeline bucket, aligned to UTC (default ``"5m"``).
    out, runs_dir
        The run directory (as ``--out``; it must not exist or be empty), or the folder run
        directories go to (default ``carbonclock-runs/<UTC start>-<id>``). In distributed
        training ``out`` (else ``runs_dir``) is the folder of ``<job id>/<node>/``.
    tags
        Tags recorded with the run (``carbonclock history --tag``).
    quiet
        No notes about missing sensors and no summary on stderr at the end (warnings stay).
    cpu_watts_per_core, dram_watts_per_gb
        The estimate model where RAPL is missing (10 W per busy core, 0.375 W per GB).
    db
        The store of grid data and run history (default ``CARBONCLOCK_DB``, else the XDG
        data directory).
    distributed
        Follow torchrun or Slurm when their environment is present (default True): one task
        per node meters the node's devices, every task records its windows, under
        ``OUT/<job id>/<node>/``.
    command
        What run.json records as the command (default: this interpreter's argv).

    After the block (or ``stop()``) the result's fields are available on the tracker itself
    (``run.energy_j``, ``run.emissions_g``, ``run.devices``, ``run.timeline``, ...) and as
    ``run.result`` (a :class:`RunResult`). A failure to meter a device (no NVML) is a
    :class:`MeteringWarning`, never an exception; errors are :class:`carbonclock.Error`
    subclasses with the CLI's messages. An exception or KeyboardInterrupt inside the block
    ends metering, writes the run directory (exit code 1 or 130, with a warning naming it) and
    propagates.
    """

    def __init__(
        self,
        *,
        zone: Optional[str] = None,
        region: Optional[str] = None,
        signal: Optional[str] = None,
        factor: Optional[str] = None,
        pue: Optional[float] = None,
        per: Optional[str] = None,
        work: Optional[float] = None,
        gpus: Union[str, Sequence[Union[int, str]]] = "all",
        no_gpu: bool = False,
        interval: Duration = "1s",
        bucket: Duration = "5m",
        out: Optional[Union[str, os.PathLike]] = None,
        runs_dir: Union[str, os.PathLike] = "carbonclock-runs",
        tags: Sequence[str] = (),
        quiet: bool = False,
        cpu_watts_per_core: Optional[float] = None,
        dram_watts_per_gb: Optional[float] = None,
        db: Optional[Union[str, os.PathLike]] = None,
        distributed: bool = True,
        command: Optional[Sequence[str]] = None,
    ) -> None:
        self._kwargs: Dict[str, Any] = dict(
            zone=zone, region=region, signal=signal, factor=factor, pue=pue, per=per, work=work,
            gpus=gpus, no_gpu=no_gpu, interval=interval, bucket=bucket, out=out,
            runs_dir=runs_dir, tags=tags, quiet=quiet, cpu_watts_per_core=cpu_watts_per_core,
            dram_watts_per_gb=dram_watts_per_gb, db=db, distributed=distributed,
            command=command)
        if isinstance(tags, str):
            raise InvalidInputError(f"tags: expected a list of tags, got the string {tags!r}")
        self._quiet = bool(quiet)
        self._native: Optional[Any] = None
        self._info: Dict[str, Any] = {}
        self._result: Optional[RunResult] = None
        self._open: List[Window] = []
        self._ended: List[Window] = []
        self._sample_callbacks: List[Callable[[Sample], Any]] = []
        self._window_callbacks: List[Callable[[Window], Any]] = []
        self._owner: Optional[int] = None
        self._pid: Optional[int] = None
        self._delivering = False
        self._lock = threading.RLock()
        self._nudger: Optional[threading.Thread] = None
        self._nudger_stop = threading.Event()

    # ---- options ------------------------------------------------------------------------

    def _native_options(self) -> Dict[str, Any]:
        k = self._kwargs
        gpus = k["gpus"]
        if not isinstance(gpus, str):
            gpus = ",".join(str(g) for g in gpus)
        command = k["command"]
        if command is None:
            command = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
        return {
            "command": [str(c) for c in command] or [sys.executable],
            "zone": k["zone"], "region": k["region"], "signal": k["signal"],
            "factor": k["factor"], "pue": k["pue"], "per": k["per"], "work": k["work"],
            "gpus": gpus, "no_gpu": bool(k["no_gpu"]),
            "interval": _duration_text(k["interval"], "interval"),
            "bucket": _duration_text(k["bucket"], "bucket"),
            "out": os.fspath(k["out"]) if k["out"] is not None else None,
            "runs_dir": os.fspath(k["runs_dir"]),
            "tags": [str(t) for t in k["tags"]],
            "cpu_watts_per_core": k["cpu_watts_per_core"],
            "dram_watts_per_gb": k["dram_watts_per_gb"],
            "db": os.fspath(k["db"]) if k["db"] is not None else None,
            "distributed": bool(k["distributed"]),
        }

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> "Tracker":
        """Starts metering and returns the tracker. Raises :class:`carbonclock.Error` for bad
        options, an unknown zone or an unusable run directory (nothing is metered then)."""
        with self._lock:
            if self._native is not None:
                raise InvalidInputError(
                    "this tracker was already started; make a new one (as a decorator, "
                    "track() makes one per call)")
            native = _native.Tracker(self._native_options())
            try:
                info = native.start()
            finally:
                _issue(native.take_messages(), self._quiet)
            self._native = native
            self._info = info
            self._owner = threading.get_ident()
            self._pid = os.getpid()
            if not self._quiet:
                for note in info["notes"]:
                    warnings.warn(note, MeteringWarning, stacklevel=2)
            if self._sample_callbacks:
                native.listen(True)
                self._start_nudger()
        with _active_lock:
            _active.append(self)
        return self

    def stop(self) -> RunResult:
        """Ends metering with a last reading of every counter, closes windows still open (with a
        warning), writes run.json (distributed: also ``tasks/<rank>.json``), prices the run and
        records it in the history. Returns the :class:`RunResult`; calling it again returns the
        same result."""
        return self._stop(0, "")

    def _stop(self, exit_code: Optional[int], ended_by: str) -> RunResult:
        with self._lock:
            if self._result is not None:
                return self._result
            native = self._require_started()
            self._stop_nudger()
            self._deliver()
            doc = json.loads(native.stop(exit_code, ended_by))
            with _active_lock:
                if self in _active:
                    _active.remove(self)
            _issue(native.take_messages(), self._quiet)
            ended_now = self._settle_windows(doc.get("windows", []))
            self._result = RunResult.from_json(doc, list(self._ended))
        for w in ended_now:
            for callback in list(self._window_callbacks):
                _call_safely(callback, w, "on_window_end")
        if not self._quiet and doc.get("summary"):
            sys.stderr.write(doc["summary"])
        return self._result

    def _settle_windows(self, docs: List[Dict[str, Any]]) -> List[Window]:
        """Refreshes the windows from the final documents (the engine lists them in the order
        they ended; those still open at stop() come last, closed by it)."""
        ended_now: List[Window] = []
        for i, doc in enumerate(docs):
            if i < len(self._ended):
                self._ended[i]._fill(doc)
                continue
            match = next((w for w in self._open if w.name == doc["name"]), None)
            if match is None:
                match = Window(name=doc["name"], begin_utc=parse_utc(doc["begin_utc"]))
            else:
                self._open.remove(match)
            self._ended.append(match._fill(doc))
            ended_now.append(match)
        return ended_now

    def _require_started(self) -> Any:
        if self._native is None:
            raise InvalidInputError("the tracker has not been started: call start() or use it "
                                    "in a with block")
        if self._pid != os.getpid():
            raise InvalidInputError("this tracker was started in another process (before a "
                                    "fork); start a tracker in this process instead")
        return self._native

    def __enter__(self) -> "Tracker":
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if self._pid != os.getpid():
            return False  # a forked child leaves its parent's run alone
        if exc_type is None:
            self._stop(0, "")
            return False
        if issubclass(exc_type, KeyboardInterrupt):
            code, why = 130, "KeyboardInterrupt"
        elif issubclass(exc_type, SystemExit):
            status = exc.code if exc is not None else None
            code = status if isinstance(status, int) else (0 if status is None else 1)
            why = f"SystemExit({status!r})"
        else:
            code, why = 1, f"{exc_type.__name__}: {exc}"
        try:
            self._stop(code, why)
        except Error as e:  # the block's own exception is the one to see
            warnings.warn(f"carbonclock: could not finish the run: {e}", CarbonclockWarning)
        return False

    @overload
    def __call__(self, func: F) -> F: ...

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorates ``func``: each call is metered by a fresh tracker with these options (the
        latest is ``func.last_run``)."""
        if self._native is not None:
            raise InvalidInputError("a started tracker cannot decorate a function; use "
                                    "@carbonclock.track(...) on the function instead")
        kwargs = dict(self._kwargs)
        sample_callbacks = self._sample_callbacks
        window_callbacks = self._window_callbacks

        def fresh() -> Tracker:
            t = Tracker(**kwargs)
            t._sample_callbacks = list(sample_callbacks)
            t._window_callbacks = list(window_callbacks)
            return t

        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kw: Any) -> Any:
                t = fresh()
                async_wrapper.last_run = t  # type: ignore[attr-defined]
                with t:
                    return await func(*args, **kw)
            async_wrapper.last_run = None  # type: ignore[attr-defined]
            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kw: Any) -> Any:
            t = fresh()
            wrapper.last_run = t  # type: ignore[attr-defined]
            with t:
                return func(*args, **kw)

        wrapper.last_run = None  # type: ignore[attr-defined]
        return wrapper

    # ---- windows ------------------------------------------------------------------------

    def begin_window(self, name: str) -> Window:
        """Opens a window at a reading of every counter taken now (Zeus-style; windows may
        nest and overlap; a name may be reused once its window has ended). Returns the
        :class:`Window`, filled in when it ends."""
        with self._lock:
            native = self._require_started()
            self._deliver()
            begin = native.begin_window(str(name))
            w = Window(name=str(name), begin_utc=parse_utc(begin))
            self._open.append(w)
            return w

    def end_window(self, name: str) -> Window:
        """Ends the newest open window named ``name`` at a reading taken now; returns it with
        its energy and emissions. Raises :class:`carbonclock.NotFoundError` when no window of
        that name is open."""
        with self._lock:
            native = self._require_started()
            doc = json.loads(native.end_window(str(name)))
            w = next((x for x in reversed(self._open) if x.name == doc["name"]), None)
            if w is None:
                w = Window(name=doc["name"], begin_utc=parse_utc(doc["begin_utc"]))
            else:
                self._open.remove(w)
            w._fill(doc)
            self._ended.append(w)
            _issue(native.take_messages(), self._quiet)
            self._deliver()
        for callback in list(self._window_callbacks):
            _call_safely(callback, w, "on_window_end")
        return w

    @contextlib.contextmanager
    def window(self, name: str) -> Iterator[Window]:
        """A window as a ``with`` block: ``with run.window("epoch-1") as w: ...``; the window
        ends even when the block raises."""
        w = self.begin_window(name)
        try:
            yield w
        finally:
            if self._result is None:
                self.end_window(name)

    # ---- callbacks ----------------------------------------------------------------------

    def on_sample(self, callback: Callable[[Sample], Any]) -> Callable[[Sample], Any]:
        """Calls ``callback(Sample)`` for every periodic reading, on Python's side (see the
        module's note on when). Returns the callback, so it works as a decorator."""
        self._sample_callbacks.append(callback)
        if self._native is not None and self._result is None:
            self._native.listen(True)
            self._start_nudger()
        return callback

    def on_window_end(self, callback: Callable[[Window], Any]) -> Callable[[Window], Any]:
        """Calls ``callback(Window)`` as each window ends, with its energy and emissions (for an
        experiment tracker, TensorBoard, a CSV). Returns the callback."""
        self._window_callbacks.append(callback)
        return callback

    def _start_nudger(self) -> None:
        # See the module's note: only needed before Python 3.12, and only for the main thread's
        # tracker (pending calls run there).
        if (sys.version_info >= (3, 12) or self._nudger is not None
                or self._owner != threading.main_thread().ident):
            return
        period_s = max(0.05, self._interval_s())

        def nudge() -> None:
            while not self._nudger_stop.wait(period_s):
                pass  # waking up takes the GIL: that is the whole job

        self._nudger = threading.Thread(target=nudge, name="carbonclock-nudge", daemon=True)
        self._nudger.start()

    def _stop_nudger(self) -> None:
        if self._nudger is not None:
            self._nudger_stop.set()
            if self._nudger is not threading.current_thread():
                self._nudger.join()
            self._nudger = None

    def _interval_s(self) -> float:
        started = self._info.get("interval_s")
        return float(started) if started else 1.0

    def poll(self) -> None:
        """Hands queued samples to the ``on_sample`` callbacks now, on this thread."""
        with self._lock:
            if self._native is not None and self._result is None:
                self._deliver()

    def _deliver(self) -> None:
        if self._delivering or not self._sample_callbacks or self._native is None:
            return
        self._delivering = True
        try:
            for elapsed_s, power_w, energy_j in self._native.take_samples():
                sample = Sample(elapsed_s, power_w, energy_j)
                for callback in list(self._sample_callbacks):
                    _call_safely(callback, sample, "on_sample")
        finally:
            self._delivering = False

    # ---- what it measured ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._native is not None and self._result is None

    @property
    def result(self) -> Optional[RunResult]:
        """The :class:`RunResult` once stopped, else None."""
        return self._result

    @property
    def role(self) -> Optional[str]:
        """``"single"``, or in distributed training ``"meter"`` / ``"member"``."""
        return self._info.get("role")

    @property
    def run_dir(self) -> Optional[Path]:
        """The run directory (distributed: the node's directory), known once started."""
        return Path(self._info["run_dir"]) if self._info else None

    @property
    def run_id(self) -> Optional[str]:
        return self._info.get("run_id") or None

    @property
    def energy_j(self) -> Optional[float]:
        """Energy of every metered device so far (final once stopped); None for a task that
        does not meter its node."""
        if self._result is not None:
            return self._result.energy_j
        if self._native is None or self.role == "member":
            return None
        return self._native.live()[1]

    @property
    def emissions_g(self) -> Optional[float]:
        """Operational emissions, grams CO2eq (headline signal, times PUE); known once
        stopped."""
        return self._result.emissions_g if self._result is not None else None

    @property
    def windows(self) -> Dict[str, Window]:
        """Ended windows by name (the last one of each name)."""
        return {w.name: w for w in self._ended}

    def __getattr__(self, name: str) -> Any:
        # The rest of the result (devices, timeline, sci_g_per_unit, report, ...) once stopped.
        if name.startswith("_"):
            raise AttributeError(name)
        fields = RunResult.__dataclass_fields__
        if name in fields:
            result = self.__dict__.get("_result")
            if result is None:
                raise AttributeError(f"'{name}' is known once the tracker has stopped")
            return getattr(result, name)
        raise AttributeError(f"'Tracker' object has no attribute '{name}'")

    def __repr__(self) -> str:
        state = "stopped" if self._result else "running" if self._native else "not started"
        return f"<carbonclock.Tracker {state} run_dir={str(self.run_dir)!r}>"


def track(
    func: Optional[Callable[..., Any]] = None,
    /,
    *,
    zone: Optional[str] = None,
    region: Optional[str] = None,
    signal: Optional[str] = None,
    factor: Optional[str] = None,
    pue: Optional[float] = None,
    per: Optional[str] = None,
    work: Optional[float] = None,
    gpus: Union[str, Sequence[Union[int, str]]] = "all",
    no_gpu: bool = False,
    interval: Duration = "1s",
    bucket: Duration = "5m",
    out: Optional[Union[str, os.PathLike]] = None,
    runs_dir: Union[str, os.PathLike] = "carbonclock-runs",
    tags: Sequence[str] = (),
    quiet: bool = False,
    cpu_watts_per_core: Optional[float] = None,
    dram_watts_per_gb: Optional[float] = None,
    db: Optional[Union[str, os.PathLike]] = None,
    distributed: bool = True,
    command: Optional[Sequence[str]] = None,
) -> Any:
    """Meter the energy and carbon of a block, or of every call of a function.

    As a context manager::

        with carbonclock.track(zone="DE", interval="100ms", tags=["bert"], pue=1.1) as run:
            for epoch in range(3):
                with run.window(f"epoch-{epoch}"):
                    train_one_epoch()
        print(run.energy_j, run.emissions_g, run.run_dir)
        print(run.windows["epoch-0"].energy_j, run.windows["epoch-0"].emissions_g)

    As a decorator (a fresh run per call; the latest is ``train.last_run``)::

        @carbonclock.track(zone="DE")
        def train(): ...

    The options are those of ``carbonclock run``, by the same names: ``zone``, ``region``,
    ``signal``, ``factor``, ``pue``, ``per``, ``work``, ``gpus``, ``no_gpu``, ``interval``,
    ``bucket``, ``out``, ``runs_dir``, ``tags``, ``quiet``, ``cpu_watts_per_core``,
    ``dram_watts_per_gb``, ``db``; plus ``distributed`` (follow torchrun/Slurm, default True)
    and ``command`` (what run.json records). See :class:`Tracker` for each.

    The run directory is the CLI's (``run.json`` + ``journal.jsonl``): ``carbonclock report
    RUN_DIR`` and ``carbonclock history`` see it. Metering runs on a native thread that never
    holds the GIL. Returns a :class:`Tracker`.
    """
    tracker = Tracker(
        zone=zone, region=region, signal=signal, factor=factor, pue=pue, per=per, work=work,
        gpus=gpus, no_gpu=no_gpu, interval=interval, bucket=bucket, out=out, runs_dir=runs_dir,
        tags=tags, quiet=quiet, cpu_watts_per_core=cpu_watts_per_core,
        dram_watts_per_gb=dram_watts_per_gb, db=db, distributed=distributed, command=command)
    if func is not None:
        if not callable(func):
            raise InvalidInputError(f"track(): {func!r} is not a function; pass options by name")
        return tracker(func)
    return tracker


def current() -> Optional[Tracker]:
    """The innermost running tracker of this process (e.g. inside a decorated function), or
    None."""
    with _active_lock:
        return _active[-1] if _active else None


def _deliver_pending() -> None:
    """Called by the engine on the main thread (a pending call) when samples are queued."""
    main = threading.main_thread().ident
    with _active_lock:
        trackers = [t for t in _active if t._owner == main]
    for t in trackers:
        t.poll()


def _stop_at_exit() -> None:
    with _active_lock:
        trackers = list(reversed(_active))
    for t in trackers:
        warnings.warn("carbonclock: a tracker was still running at interpreter exit; it was "
                      "stopped there (exit code unknown)", CarbonclockWarning)
        try:
            t._stop(None, "interpreter exit without stop()")
        except Error as e:
            warnings.warn(f"carbonclock: could not finish the run: {e}", CarbonclockWarning)


def _after_fork_in_child() -> None:
    # The child has a copy of each tracker but not its sampler thread: it must never write the
    # parent's run directory, nor join a thread it does not have.
    with _active_lock:
        for t in _active:
            if t._native is not None:
                t._native.forget()
            t._nudger = None  # threads do not survive a fork
        _active.clear()


atexit.register(_stop_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
