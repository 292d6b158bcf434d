"""Time the postcode loader on a synthetic ONSPD-layout file.

Usage: bench-reference-load.py ROWS DATABASE_URL

Writes ROWS made-up postcodes (areas ZA to ZZ, all valid) in the ONSPD column
layout to a temporary folder. Loads them twice into a freshly migrated store at
DATABASE_URL, so that the second load refreshes every row. Prints the rows per
second of each load and the peak memory of the process.
"""

from __future__ import annotations

import csv
import resource
import sys
import tempfile
from pathlib import Path

from john.db import make_engine, make_session_factory, migrate
from john.reference import POSTCODES, load_register

HEADER = (
    "pcd7,pcd8,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,"
    "oseast1m,osnrth1m,osgrdind,oshlthau,nhser,ctry,rgn,streg,pcon,eer,teclec,"
    "ttwa,pct,itl,statsward,oa01,casward,npark,lsoa01,msoa01,ur01ind,oac01,oa11,"
    "lsoa11,msoa11,wz11,sicbl,bua11,ru11ind,oac11,lat,long,lep1,lep2,pfa,imd,"
    "calncv,icb,oa21,lsoa21,msoa21"
).split(",")
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def write_postcodes(path: Path, rows: int) -> None:
    """Write ``rows`` distinct made-up postcodes (areas ZA to ZZ) in England.

    Up to 7,920,000 rows fit: 20 areas, 99 districts, 10 sectors, 400 units.
    """
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index in range(rows):
            outward, rest = divmod(index, 10 * 400)
            area, district = divmod(outward, 99)
            sector, unit = divmod(rest, 400)
            inward = f"{sector}{LETTERS[unit // 20]}{LETTERS[unit % 20]}"
            postcode = f"Z{LETTERS[area]}{district + 1} {inward}"
            row = dict.fromkeys(HEADER, "")
            row.update(
                pcds=postcode,
                dointr="200001",
                doterm="201001" if index % 3 == 0 else "",
                oslaua="E06999901",
                ctry="E92000001",
                lat=f"{52 + (index % 1000) / 1000:.6f}",
                long=f"{-1.5 + (index % 997) / 1000:.6f}",
            )
            writer.writerow([row[name] for name in HEADER])


def main() -> None:
    rows, url = int(sys.argv[1]), sys.argv[2]
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "onspd.csv"
        write_postcodes(path, rows)
        for attempt in ("first load", "reload"):
            report = load_register(sessions, POSTCODES, path)
            rate = report.rows_loaded / report.seconds
            print(
                f"{attempt}: read {report.rows_read}, loaded {report.rows_loaded}, "
                f"rejected {report.rows_rejected} in {report.seconds:.1f} s, "
                f"{rate:,.0f} rows/s on {engine.dialect.name}"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
