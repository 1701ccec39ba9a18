"""The event's own look and rules, set by the stand's owner in the console and kept in the
database: ``settings`` (what there is and what each may hold), ``contrast`` (the accent
colour's WCAG check), ``logo`` (an uploaded logo, checked and re-encoded) and ``config``
(reading and writing them, followed by every worker within seconds)."""
