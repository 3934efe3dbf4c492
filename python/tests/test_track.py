"""track() / Tracker against the fake NVML library: energy, windows, the run directory, errors,
interrupts and callbacks."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Iterator

import pytest

import carbonclock
from conftest import GPU_WATTS, NO_ESTIMATE, flat_intensity, gpu_energy, gpu_script, run_cli


def busy(seconds: float) -> None:
    """Python computing (bytecode running), as a training loop would."""
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x += 1


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_energy_equals_watts_times_time(sandbox: Path) -> None:
    with carbonclock.track(zone="DE", interval="50ms", out="run", quiet=True,
                           **NO_ESTIMATE) as run:
        time.sleep(1.0)
    assert run.run_dir == Path("run")
    gpus = [d for d in run.devices if d.kind == "gpu"]
    assert [d.method for d in gpus] == ["counter", "counter"]
    duration_s = run.run_json["duration_s"]
    assert gpu_energy(run.devices) == pytest.approx(GPU_WATTS * duration_s, rel=0.01)
    assert run.energy_j == pytest.approx(gpu_energy(run.devices), rel=1e-9)
    assert run.measured_share == pytest.approx(1.0)
    # The timeline sums to the energy; emissions are priced (embedded profile, no data stored).
    timeline_j = sum(sum(b["energy_j"].values()) for b in run.timeline)
    assert timeline_j == pytest.approx(run.energy_j, rel=1e-6)
    assert run.emissions_g > 0
    assert run.zone == "DE"
    assert run.provenance and run.provenance[0]["basis"] == "embedded-profile"


def test_short_windows_read_the_counters_at_their_boundaries(sandbox: Path) -> None:
    # A 1 s interval: a 0.2 s window holds no periodic sample, yet its energy is exact.
    with carbonclock.track(zone="DE", interval="1s", quiet=True, **NO_ESTIMATE) as run:
        with run.window("short") as w:
            time.sleep(0.2)
    assert w.energy_j == pytest.approx(GPU_WATTS * w.duration_s, rel=0.01)
    assert w.device_energy_j["gpu0"] == pytest.approx(100 * w.duration_s, rel=0.01)
    assert w.device_energy_j["gpu1"] == pytest.approx(50 * w.duration_s, rel=0.01)
    assert run.windows["short"] is w


def test_power_integration_interpolates_to_the_window_boundary(sandbox: Path) -> None:
    gpu_script(sandbox / "no_counter.txt", "gpu\nenergy_counter no\npower 200\n")
    with carbonclock.track(zone="DE", interval="1s", quiet=True, **NO_ESTIMATE) as run:
        time.sleep(0.1)
        with run.window("w") as w:
            time.sleep(0.3)
    assert [d.method for d in run.devices if d.kind == "gpu"] == ["power-integration"]
    assert w.energy_j == pytest.approx(200 * w.duration_s, rel=0.01)


def test_windows_nest_and_overlap(sandbox: Path) -> None:
    t = carbonclock.Tracker(zone="DE", interval="50ms", quiet=True, **NO_ESTIMATE)
    t.start()
    outer = t.begin_window("outer")
    time.sleep(0.2)
    a = t.begin_window("a")
    time.sleep(0.2)
    b = t.begin_window("b")  # overlaps a
    time.sleep(0.2)
    assert t.end_window("a") is a
    time.sleep(0.2)
    t.end_window("b")
    time.sleep(0.2)
    t.end_window("outer")
    result = t.stop()
    for w in (outer, a, b):
        assert not w.open
        assert w.energy_j == pytest.approx(GPU_WATTS * w.duration_s, rel=0.01), w.name
    assert outer.begin_utc < a.begin_utc < b.begin_utc < a.end_utc < b.end_utc < outer.end_utc
    assert a.duration_s + b.duration_s > (b.end_utc - a.begin_utc).total_seconds()  # overlap
    assert outer.energy_j > a.energy_j + b.energy_j - GPU_WATTS * 0.2 * 1.01
    assert [w.name for w in result.window_list] == ["a", "b", "outer"]
    # The windows are in run.json, as the CLI's `report --format run-json` will not lose them.
    written = json.loads((result.run_dir / "run.json").read_text())
    assert [w["name"] for w in written["windows"]] == ["a", "b", "outer"]
    assert written["windows"][0]["energy_j"] == pytest.approx(a.energy_j)


def test_a_window_name_is_refused_while_open_and_reusable_after(sandbox: Path) -> None:
    with carbonclock.track(zone="DE", quiet=True, **NO_ESTIMATE) as run:
        run.begin_window("eval")
        with pytest.raises(carbonclock.InvalidInputError, match="already open"):
            run.begin_window("eval")
        run.end_window("eval")
        with pytest.raises(carbonclock.NotFoundError, match="no open window named 'eval'"):
            run.end_window("eval")
        with run.window("eval"):
            pass
    assert [w.name for w in run.window_list] == ["eval", "eval"]


def test_windows_have_emissions_priced_like_the_run(sandbox: Path) -> None:
    imported = flat_intensity(sandbox, "DE", 300.0)
    assert imported["series"][0]["points_added"] == 6
    with carbonclock.track(zone="DE", pue=1.5, quiet=True, **NO_ESTIMATE) as run:
        with run.window("w") as w:
            time.sleep(0.3)
    # 300 g/kWh stored for every hour around now, PUE 1.5.
    assert w.emissions_g == pytest.approx(w.energy_j / 3.6e6 * 300 * 1.5, rel=1e-9)
    assert run.emissions_g == pytest.approx(run.energy_j / 3.6e6 * 300 * 1.5, rel=1e-9)
    assert run.provenance[0]["basis"] == "actual" and run.provenance[0]["zone"] == "DE"
    assert w.report["pue"] == 1.5
    assert w.signal == run.signal == "average"


def test_decorator_and_context_manager_agree(sandbox: Path) -> None:
    @carbonclock.track(zone="DE", interval="50ms", quiet=True, **NO_ESTIMATE)
    def work() -> str:
        time.sleep(0.5)
        return "done"

    assert work() == "done"
    decorated = work.last_run
    with carbonclock.track(zone="DE", interval="50ms", quiet=True, **NO_ESTIMATE) as managed:
        time.sleep(0.5)
    for run in (decorated, managed):
        power_w = gpu_energy(run.devices) / run.run_json["duration_s"]
        assert power_w == pytest.approx(GPU_WATTS, rel=0.01)
        assert (run.run_dir / "run.json").exists() and (run.run_dir / "journal.jsonl").exists()
    assert [d.id for d in decorated.devices] == [d.id for d in managed.devices]
    assert set(decorated.run_json) == set(managed.run_json)
    assert decorated.run_dir != managed.run_dir
    # A second call is a second run.
    work()
    assert work.last_run is not decorated


def test_an_exception_in_the_block_writes_the_run_and_propagates(sandbox: Path) -> None:
    with pytest.raises(ValueError, match="bad batch"):
        with carbonclock.track(zone="DE", out="failed", quiet=True, **NO_ESTIMATE) as run:
            with run.window("epoch-0"):
                time.sleep(0.1)
                raise ValueError("bad batch")
    doc = json.loads(Path("failed/run.json").read_text())
    assert doc["exit_code"] == 1
    assert any("ValueError: bad batch" in w for w in doc["warnings"])
    assert doc["windows"][0]["name"] == "epoch-0"
    assert not run.running and run.energy_j > 0
    last = Path("failed/journal.jsonl").read_text().splitlines()[-1]
    assert json.loads(last)["type"] == "end"


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt here even where the tests were started with it ignored
    (a shell's background job inherits SIGINT ignored, and Python then leaves it so)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_keyboard_interrupt_ends_metering_cleanly(sandbox: Path, ctrl_c_raises: None) -> None:
    threads_before = os_threads()
    with pytest.raises(KeyboardInterrupt):
        with carbonclock.track(zone="DE", out="interrupted", interval="50ms", quiet=True,
                               **NO_ESTIMATE) as run:
            assert os_threads() == threads_before + 1  # the sampler
            # Metered long enough that the fake counters' 1 mJ steps stay far below 1%.
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, delivered to Python's handler
            busy(10)  # interrupted long before
    assert os_threads() == threads_before  # the sampler thread is gone
    doc = json.loads(Path("interrupted/run.json").read_text())
    assert doc["exit_code"] == 130
    assert any("KeyboardInterrupt" in w for w in doc["warnings"])
    assert not run.running
    assert run.result.energy_j == pytest.approx(GPU_WATTS * doc["duration_s"], rel=0.01)


def test_ctrl_c_while_a_sample_callback_runs_stops_the_block(sandbox: Path,
                                                            ctrl_c_raises: None) -> None:
    # Callbacks run as pending calls inside whatever the main thread computes; a Ctrl-C that
    # Python handles while one runs must reach the block, not be dropped with the callback's
    # errors (it was: the training loop went on).
    in_callback = threading.Event()

    def slow(sample: Any) -> None:
        if not in_callback.is_set():
            in_callback.set()
            busy(1)  # the Ctrl-C lands here

    def press_ctrl_c() -> None:
        if in_callback.wait(10):
            os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with carbonclock.track(zone="DE", out="interrupted", interval="50ms", quiet=True,
                               **NO_ESTIMATE) as run:
            run.on_sample(slow)
            presser.start()
            busy(10)  # computing; samples arrive as pending calls
    presser.join()
    assert in_callback.is_set()
    assert time.monotonic() - started < 5  # stopped by the Ctrl-C, not by the loop's end
    doc = json.loads(Path("interrupted/run.json").read_text())
    assert doc["exit_code"] == 130
    assert any("KeyboardInterrupt" in w for w in doc["warnings"])


def test_the_cli_reports_the_run_and_finds_it_in_the_history(sandbox: Path) -> None:
    with carbonclock.track(zone="DE", tags=["bert"], out="run", quiet=True,
                           **NO_ESTIMATE) as run:
        time.sleep(0.2)
    cli = run_cli("report", "run", "--format", "json")
    assert cli.returncode == 0, cli.stderr
    report = json.loads(cli.stdout)
    assert report["run_id"] == run.run_id
    assert report["operational_g"] == pytest.approx(run.emissions_g, rel=1e-9)
    assert report == carbonclock.report("run")
    history = run_cli("history", "--tag", "bert", "--format", "json")
    assert history.returncode == 0, history.stderr
    assert run.run_id in history.stdout
    assert [r["run_id"] for r in carbonclock.history(tag="bert")["runs"]] == [run.run_id]


def test_samples_reach_the_callback_on_the_main_thread_while_python_computes(
        sandbox: Path) -> None:
    seen = []
    sampler_threads = set()
    with carbonclock.track(zone="DE", interval="50ms", quiet=True, **NO_ESTIMATE) as run:
        run.on_sample(lambda s: (seen.append(s), sampler_threads.add(threading.get_ident())))
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            busy(0.05)  # no window, no stop(): only the pending call can deliver
        delivered_while_running = len(seen)
    assert delivered_while_running > 0
    assert sampler_threads == {threading.main_thread().ident}
    assert all(b.elapsed_s > a.elapsed_s for a, b in zip(seen, seen[1:]))
    assert seen[-1].power_w == pytest.approx(GPU_WATTS, rel=0.05)


def test_window_end_callbacks_get_each_windows_numbers(sandbox: Path) -> None:
    logged = []
    with carbonclock.track(zone="DE", quiet=True, **NO_ESTIMATE) as run:
        run.on_window_end(lambda w: logged.append((w.name, w.energy_j, w.emissions_g)))
        for epoch in range(3):
            with run.window(f"epoch-{epoch}"):
                time.sleep(0.05)
    assert [name for name, _, _ in logged] == ["epoch-0", "epoch-1", "epoch-2"]
    assert all(j > 0 and g > 0 for _, j, g in logged)


def test_a_failing_callback_is_a_warning_not_a_crash(sandbox: Path) -> None:
    with pytest.warns(carbonclock.CarbonclockWarning, match="on_window_end callback"):
        with carbonclock.track(zone="DE", quiet=True, **NO_ESTIMATE) as run:
            run.on_window_end(lambda w: 1 / 0)
            with run.window("w"):
                pass
    assert run.windows["w"].energy_j is not None


def test_errors_carry_the_clis_messages_and_category(sandbox: Path) -> None:
    with pytest.raises(carbonclock.InvalidInputError) as e:
        carbonclock.track(interval="10ms").start()
    assert str(e.value) == "--interval 10ms is below the 50ms minimum"
    assert isinstance(e.value, ValueError) and e.value.code == "invalid input"
    cli = run_cli("run", "--interval", "10ms", "--", "true")
    assert cli.stderr.strip() == f"carbonclock: error: {e.value}"

    with pytest.raises(carbonclock.Error) as unknown:
        carbonclock.track(zone="NOT-A-ZONE").start()
    cli = run_cli("run", "--zone", "NOT-A-ZONE", "--", "true")
    assert cli.stderr.splitlines()[0] == f"carbonclock: error: {str(unknown.value).splitlines()[0]}"

    Path("taken").mkdir()
    Path("taken/file").write_text("x")
    with pytest.raises(carbonclock.InvalidInputError, match="run directory exists and is not empty"):
        carbonclock.track(out="taken").start()

    with pytest.raises(carbonclock.NotFoundError, match="no such run directory"):
        carbonclock.report("missing")


def test_no_nvml_is_a_warning_and_metering_goes_on(sandbox: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONCLOCK_NVML_LIBRARY", str(sandbox / "no-such-libnvidia-ml.so.1"))
    with pytest.warns(carbonclock.MeteringWarning, match="no GPUs metered: NVML not available"):
        with carbonclock.track(zone="DE") as run:
            busy(0.2)
    assert [d.id for d in run.devices] == ["cpu-estimate", "dram-estimate"]
    assert run.energy_j > 0 and run.measured_share == 0


def test_quiet_silences_notes_but_not_warnings(sandbox: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONCLOCK_NVML_LIBRARY", str(sandbox / "no-such-libnvidia-ml.so.1"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with carbonclock.track(zone="DE", quiet=True):
            pass


def test_a_tracker_starts_once_and_stop_is_idempotent(sandbox: Path) -> None:
    t = carbonclock.Tracker(zone="DE", quiet=True, **NO_ESTIMATE)
    with pytest.raises(carbonclock.InvalidInputError, match="not been started"):
        t.stop()
    t.start()
    with pytest.raises(carbonclock.InvalidInputError, match="already started"):
        t.start()
    first = t.stop()
    assert t.stop() is first
    with pytest.raises(carbonclock.InvalidInputError, match="has stopped"):
        t.begin_window("late")


def test_help_reads_well() -> None:
    doc = carbonclock.track.__doc__
    assert "with carbonclock.track(zone=" in doc and "@carbonclock.track" in doc
    for option in ("zone", "region", "signal", "factor", "pue", "gpus", "interval", "bucket",
                   "out", "tags", "quiet"):
        assert f"``{option}``" in doc
