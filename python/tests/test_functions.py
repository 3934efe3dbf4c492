"""report, plan, shift, history and grid.import_file return what the CLI's JSON outputs hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import carbonclock
from conftest import NO_ESTIMATE, flat_intensity, run_cli


def test_report_formats_match_the_cli(sandbox: Path) -> None:
    with carbonclock.track(zone="DE", out="run", quiet=True, **NO_ESTIMATE):
        pass
    as_dict = carbonclock.report("run", zone="FR", pue=1.2)
    cli = run_cli("report", "run", "--zone", "FR", "--pue", "1.2", "--format", "json")
    assert as_dict == json.loads(cli.stdout)
    assert as_dict["zone"] == "FR" and as_dict["pue"] == 1.2
    assert carbonclock.report("run", format="run-json")["id"] == as_dict["run_id"]
    text = carbonclock.report("run", format="md")
    assert text == run_cli("report", "run", "--format", "md").stdout
    with pytest.raises(carbonclock.InvalidInputError, match="format"):
        carbonclock.report("run", format="yaml")


def test_plan_and_shift_return_their_json_documents(sandbox: Path) -> None:
    plan = carbonclock.plan(zone="DE", duration="2h", energy_kwh=3, flex_start="6h")
    cli_plan = json.loads(run_cli("plan", "--zone", "DE", "--duration", "2h", "--energy-kwh",
                                  "3", "--flex-start", "6h", "--format", "json").stdout)
    # Planned as of now: the two ran a moment apart, so only the times may differ.
    assert set(plan) == set(cli_plan)
    for key in ("zone", "algorithm", "window", "duration_s", "energy_kwh", "slot_s", "pauses"):
        assert plan[key] == cli_plan[key], key
    assert plan["immediate_g"] == pytest.approx(cli_plan["immediate_g"], rel=1e-3)
    assert plan["intensity"]["basis"][0]["basis"] == "embedded-profile"
    risky = carbonclock.plan(zone="DE", duration="2h", energy_kwh=3, flex_start="6h", risk="p90")
    # No history stored: the embedded profile, which has no interval, planned on as it is.
    assert risky["risk"]["quantile"] == "p90" and risky["risk"]["slots_on_quantile"] == 0
    assert "no prediction interval" in risky["risk"]["note"]
    with pytest.raises(carbonclock.InvalidInputError, match="--risk"):
        carbonclock.plan(zone="DE", duration="2h", energy_kwh=3, flex_start="6h", risk="p95")
    shift = carbonclock.shift(zone="DE", zones="FR", start="2022-06-01T00:00Z", duration="6h",
                              energy_kwh=3.1, pause_resume="50%")
    cli = run_cli("shift", "--zone", "DE", "--zones", "FR", "--start", "2022-06-01T00:00Z",
                  "--duration", "6h", "--energy-kwh", "3.1", "--pause-resume", "50%",
                  "--format", "json")
    assert cli.returncode == 0, cli.stderr
    assert shift == json.loads(cli.stdout)
    with pytest.raises(carbonclock.InvalidInputError,
                       match="give exactly one of --flex-start N and --pause-resume N"):
        carbonclock.shift(zone="DE", start="2022-06-01T00:00Z", duration="1h", energy_kwh=1)


def test_grid_import_returns_what_was_stored(sandbox: Path) -> None:
    first = flat_intensity(sandbox, "DE", 250.0)
    (series,) = first["series"]
    assert (series["zone"], series["signal"], series["points"]) == ("DE", "average", 6)
    assert (series["points_added"], series["points_already_stored"]) == (6, 0)
    again = flat_intensity(sandbox, "DE", 250.0)
    assert again["series"][0]["points_added"] == 0
    assert again["series"][0]["points_already_stored"] == 6
    listed = run_cli("grid", "list", "--format", "json")
    assert json.loads(listed.stdout)["series"][0]["points"] == 6
    bad = sandbox / "bad.csv"
    bad.write_text("datetime,carbon_intensity\nnot-a-time,1\n")
    with pytest.raises(carbonclock.InvalidInputError) as e:
        carbonclock.grid.import_file(bad, format="csv", zone="DE")
    cli = run_cli("grid", "import", "--format", "csv", "--zone", "DE", str(bad))
    assert cli.stderr.splitlines()[0] == f"carbonclock: error: {str(e.value).splitlines()[0]}"
