"""Generated scenarios for the benchmarks and the large-scale tests (not shipped in the package)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_onecodex.testing.scenario import iso

BULK_TAX_IDS = ("1280", "562", "1639", "28901", "1313", "573", "287", "1773")


def make_bulk_scenario(
    n_alignments: int,
    seed: int = 0,
    *,
    n_samples: int | None = None,
    failure_rate: float = 0.1,
    never_rate: float = 0.0,
    max_complete_after: float = 60.0,
    api_key: str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0",
) -> dict[str, Any]:
    """A scenario dict with ``n_alignments`` alignments spread over samples (for benchmarks/soak).

    Each alignment completes at a uniform random time in ``[0, max_complete_after]`` s; a
    ``failure_rate`` fraction fails and a ``never_rate`` fraction never completes. Deterministic
    for a given ``seed``; ``created_at`` increases with the alignment's position.
    """
    rng = random.Random(seed)
    taken: set[str] = set()

    def new_id() -> str:
        while True:
            candidate = f"{rng.getrandbits(64):016x}"
            if candidate not in taken:
                taken.add(candidate)
                return candidate

    n_samples = n_samples or max(1, min(n_alignments // 10, 1000))
    user, job = new_id(), new_id()
    base = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
    samples = [
        {
            "id": new_id(),
            "filename": f"bulk_{i:05d}_R1.fastq.gz",
            "size": rng.randrange(50_000_000, 5_000_000_000),
            "created_at": iso(base + timedelta(minutes=i)),
        }
        for i in range(n_samples)
    ]
    analyses = []
    for i in range(n_alignments):
        roll = rng.random()
        failed = roll < failure_rate
        never = not failed and roll < failure_rate + never_rate
        analyses.append(
            {
                "id": new_id(),
                "analysis_type": "alignment",
                "sample": samples[i % n_samples]["id"],
                "job": job,
                "tax_id": rng.choice(BULK_TAX_IDS),
                "complete_after": None if never else round(rng.uniform(0, max_complete_after), 3),
                "success": not failed,
                "error_msg": "Reference genome coverage too low to call an alignment." if failed else None,
                "created_at": iso(base + timedelta(days=1, seconds=7 * i)),
            }
        )
    return {
        "name": f"bulk-{n_alignments}-{seed}",
        "api_key": api_key,
        "account": {"user": user, "created_at": iso(base - timedelta(days=400))},
        "users": [{"id": user, "email": "bulk.tester@example.org", "username": "bulk-tester"}],
        "jobs": [
            {
                "id": job,
                "name": "Alignment Run",
                "analysis_type": "alignment",
                "created_at": iso(base - timedelta(days=300)),
                "public": True,
            }
        ],
        "samples": samples,
        "analyses": analyses,
    }
