#!/usr/bin/env python3
"""Derives src/regions/embedded_profiles.csv: a typical carbon-intensity profile per grid zone.

For every zone of grid_zones.csv:
  * if the shared Electricity Maps yearly-hourly exports hold the zone, the mean lifecycle (LCA)
    intensity per (month, hour of day UTC) of the most recent year: 12 x 24 = 288 values;
  * otherwise one flat yearly value from the zone's `yearly_fallback`:
      country:ISO3          CodeCarbon global_energy_mix.json `carbon_intensity` (lifecycle)
      us-state:NAME         CodeCarbon 2016/usa_emissions.json `emissions` lbs/MWh (direct)
      ca-province:NAME      CodeCarbon 2023/canada_energy_mix.json shares x
                            carbon_intensity_per_source.json factors (lifecycle)

Only the Python standard library is used. Run from anywhere:
  python3 src/regions/generate_embedded_profiles.py --shared /work/shared/data \
      --out src/regions/embedded_profiles.csv
See SOURCES.md for the licences of the inputs and of the derived table.
"""

import argparse
import csv
import glob
import json
import os
import re
import sys

LBS_PER_MWH_TO_G_PER_KWH = 0.45359237
HERE = os.path.dirname(os.path.abspath(__file__))

# canada_energy_mix.json key -> carbon_intensity_per_source.json key
CANADA_SOURCES = {
    "naturalGas": "natural_gas",
    "petroleum": "petroleum",
    "coal": "coal",
    "nuclear": "nuclear",
    "hydro": "hydroelectricity",
    "wind": "wind",
    "solar": "solar",
}


def read_zones(path):
    zones = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(line for line in f if not line.startswith("#")):
            if row:
                zones.append({"zone": row[0], "fallback": row[4]})
    return zones


def hourly_files(shared):
    """zone id -> (year, path) of the most recent yearly-hourly export."""
    found = {}
    for path in glob.glob(os.path.join(shared, "electricitymaps_hourly", "*_hourly.csv")):
        m = re.match(r"(.+)_(\d{4})_hourly\.csv$", os.path.basename(path))
        if not m:
            continue
        year = int(m.group(2))
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            zone = next(reader)["Zone Id"]
        if zone not in found or found[zone][0] < year:
            found[zone] = (year, path)
    return found


def month_hour_means(path):
    """Mean of the LCA column per (month, hour): a list of 288 values, month-major."""
    sums = [0.0] * 288
    counts = [0] * 288
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        lca = next(c for c in reader.fieldnames if c.endswith("(LCA)"))
        for row in reader:
            stamp = row["Datetime (UTC)"]  # "YYYY-MM-DD HH:MM:SS", hour start, UTC
            month, hour = int(stamp[5:7]), int(stamp[11:13])
            i = (month - 1) * 24 + hour
            sums[i] += float(row[lca])
            counts[i] += 1
    if min(counts) == 0:
        raise SystemExit(f"{path}: some month x hour cells have no data")
    return [s / c for s, c in zip(sums, counts)]


def fallback_value(spec, shared):
    """(g/kWh, factor, source label, year) for a `yearly_fallback` spec."""
    kind, key = spec.split(":", 1)
    infra = os.path.join(shared, "codecarbon", "private_infra")
    if kind == "country":
        with open(os.path.join(infra, "global_energy_mix.json"), encoding="utf-8") as f:
            entry = json.load(f)[key]
        return entry["carbon_intensity"], "lifecycle", "Ember/OWID via CodeCarbon", entry["year"]
    if kind == "us-state":
        with open(os.path.join(infra, "2016", "usa_emissions.json"), encoding="utf-8") as f:
            entry = json.load(f)[key]
        return (entry["emissions"] * LBS_PER_MWH_TO_G_PER_KWH, "direct",
                "US EPA eGRID state rate via CodeCarbon", 2016)
    if kind == "ca-province":
        with open(os.path.join(infra, "2023", "canada_energy_mix.json"), encoding="utf-8") as f:
            mix = json.load(f)[key]
        with open(os.path.join(infra, "carbon_intensity_per_source.json"), encoding="utf-8") as f:
            factors = json.load(f)
        # Shares without a factor in the per-source table (biomass, tidal, other) are left out
        # and the rest renormalised.
        share = sum(mix[k] for k in CANADA_SOURCES)
        value = sum(mix[k] * factors[v] for k, v in CANADA_SOURCES.items()) / share
        return value, "lifecycle", "Canada energy mix via CodeCarbon", 2023
    raise SystemExit(f"unknown fallback '{spec}'")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "shared", "data"))
    parser.add_argument("--zones", default=os.path.join(HERE, "grid_zones.csv"))
    parser.add_argument("--out", default=os.path.join(HERE, "embedded_profiles.csv"))
    args = parser.parse_args()

    hourly = hourly_files(args.shared)
    lines = [
        "# Embedded typical carbon-intensity profiles (average signal), generated by",
        "# generate_embedded_profiles.py; do not edit by hand. Licences and attribution: SOURCES.md.",
        "# kind=hourly: mean per month x hour of day (UTC) of Electricity Maps yearly-hourly data",
        "#   (lifecycle), (c) Electricity Maps, ODbL; this derived aggregate is ODbL as well.",
        "# kind=flat: one yearly value (CodeCarbon tables, MIT; underlying Ember/OWID CC BY 4.0,",
        "#   US EPA eGRID public domain).",
        "# zone,kind,factor,source,year,values (hourly: 288, January 00h..December 23h; flat: 1)",
    ]
    for z in read_zones(args.zones):
        zone = z["zone"]
        if zone in hourly:
            year, path = hourly[zone]
            values = month_hour_means(path)
            lines.append(",".join([zone, "hourly", "lifecycle", "Electricity Maps", str(year)] +
                                  [f"{v:.2f}" for v in values]))
        else:
            value, factor, source, year = fallback_value(z["fallback"], args.shared)
            lines.append(",".join([zone, "flat", factor, source, str(year), f"{value:.2f}"]))
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}: {len(lines) - 7} zones ({len(hourly)} with hourly data)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
