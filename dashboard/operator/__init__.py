"""The operator console's server side: who may steer the stand (``auth``: password, sessions,
lockout, audit trail, kept in the statistics database) and the HTTP around it (``web``: login
and logout, the same-origin check, the session check every operator callback passes)."""
