"""/upload's "Was the AI right?" in the statistics: stored once per upload, counted."""
from __future__ import annotations

from dashboard.stats import open_stats


def test_a_verdict_is_stored_once_per_upload_and_counted(tmp_path):
    stats = open_stats(f"sqlite:///{tmp_path}/stats.sqlite3")
    try:
        assert stats.upload_verdicts() == {"right": 0, "wrong": 0}
        assert stats.record_upload_verdict("a" * 16, "BMW M3 Coupe 2012", True)
        assert not stats.record_upload_verdict("a" * 16, "BMW M3 Coupe 2012", False)  # again
        assert stats.record_upload_verdict("b" * 16, "Audi R8 Coupe 2012", False)
        assert stats.upload_verdicts() == {"right": 1, "wrong": 1}
    finally:
        stats.close()
    reopened = open_stats(f"sqlite:///{tmp_path}/stats.sqlite3")  # kept across a restart
    try:
        assert reopened.upload_verdicts() == {"right": 1, "wrong": 1}
    finally:
        reopened.close()
