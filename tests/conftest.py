"""Shared fixtures: where the real public logs and the bundled sample exports live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_LOGS = Path(os.environ.get("SVCMINING_REAL_LOGS", REPO.parent / "shared" / "real_logs"))


@pytest.fixture(scope="session")
def real_logs() -> Path:
    """Folder of the real public event logs (../shared/real_logs); skips where it is absent."""
    if not REAL_LOGS.is_dir():
        if os.environ.get("SVCMINING_REQUIRE_REAL_LOGS"):
            pytest.fail(f"SVCMINING_REQUIRE_REAL_LOGS is set but {REAL_LOGS} does not exist")
        pytest.skip(
            f"real logs not found at {REAL_LOGS} (a user's clone without ../shared); "
            "CI requires them, see .ci/run"
        )
    return REAL_LOGS


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled synthetic Oct-Dec exports (sample_logs/)."""
    return REPO / "sample_logs"


@pytest.fixture(scope="session")
def incidents_log(real_logs):
    """BPIC 2013 incidents read once per test session (org:group as department)."""
    import svcmining as svc

    return svc.read_tickets(
        real_logs / "bpic2013_incidents" / "BPI_Challenge_2013_incidents.xes.gz"
    )


@pytest.fixture(scope="session")
def helpdesk_log(real_logs):
    """Helpdesk read once per test session."""
    import svcmining as svc

    return svc.read_tickets(real_logs / "helpdesk" / "helpdesk.xes.gz")
