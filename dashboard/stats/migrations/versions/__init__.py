"""Revisions, one file each, applied in order by ``dashboard.stats.open_stats``."""
