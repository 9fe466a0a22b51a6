"""The database finds a histogram's median and 90th percentile bucket exactly as `percentile`
does in Python (nearest rank, the same float products), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import delete, insert

from madad.db import Database
from madad.metrics.models import MetricHistTotal
from madad.metrics.reports import _percentiles, percentile
from madad.metrics.rollups import bucket_value

DAY = date(2026, 3, 2)


async def test_percentiles_in_the_database_match_python(db: Database) -> None:
    rng = random.Random(7)
    cases = [{5: 70}, {1: 9, 2: 1}, {3: 63, 4: 7}, {0: 1}, {2: 0, 3: 10}]
    cases += [
        {
            rng.randint(0, 300): rng.choice([0, 1, 2, 7, 10, 70, 700])
            for _ in range(rng.randint(1, 6))
        }
        for _ in range(150)
    ]
    for case in cases:
        async with db.session() as session:
            await session.execute(delete(MetricHistTotal))
            rows = [  # spread over two days: the query sums them
                {"day": DAY + timedelta(days=i % 2), "metric": "asa", "bucket": b, "n": n}
                for i, (b, n) in enumerate(case.items())
            ]
            await session.execute(insert(MetricHistTotal), rows)
            where = [MetricHistTotal.day >= DAY, MetricHistTotal.day < DAY + timedelta(days=2)]
            got = (await session.execute(_percentiles(MetricHistTotal, None, where))).all()
        if not sum(case.values()):
            assert not got or not got[0][-1], case
            continue
        ((_metric, median, p90, count),) = got
        assert count == sum(case.values())
        assert bucket_value(median) == percentile(case, 0.5), case
        assert bucket_value(p90) == percentile(case, 0.9), case
