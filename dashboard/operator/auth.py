"""Who may steer the stand: one operator password, server-side sessions, a lockout per client
address and an audit trail, all in the statistics database so that every worker and every
machine of the stand agrees.

The console is off until ``DASHBOARD_OPERATOR_PASSWORD`` (or ``…_PASSWORD_HASH``, made by
``python -m dashboard.operator.hash``) is set: there is no default password. A password is
checked against its salted hash (werkzeug's scrypt, compared in constant time). A session is a
random token, signed (itsdangerous) in an ``HttpOnly``, ``SameSite=Strict`` cookie; the database
keeps only its SHA-256 and when it was last used, and a session idle for ``operator_idle_seconds``
is gone. After ``operator_max_failures`` wrong passwords in a row from one address every try
from it is refused, the right one included, for ``operator_lockout_seconds``.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.settings import Settings
from dashboard.stats.schema import AuditEntry, LoginFailures, OperatorSession

log = logging.getLogger(__name__)
MAX_ADDRESS = 64
MAX_DETAIL = 255


@dataclass(frozen=True)
class LoginResult:
    """``cookie`` when the password was right; else ``locked_for`` seconds, or a wrong one."""
    cookie: str | None = None
    locked_for: float = 0.0


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OperatorAuth:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine.execution_options(immediate=True)  # SQLite: writers queue
        secret = settings.operator_password.get_secret_value() if settings.operator_password \
            else ""
        self._hash = settings.operator_password_hash or (
            generate_password_hash(secret) if secret else "")
        # Stable across workers and restarts, and new with a new password: changing the
        # password signs every console out.
        key = hashlib.sha256(b"beat-the-ai operator session\0" + (secret or self._hash).encode())
        self._signer = URLSafeSerializer(key.hexdigest(), salt="operator-session")
        self._idle = timedelta(seconds=settings.operator_idle_seconds)
        self.console_port = settings.console_port  # 0: any; else only requests that came there
        self._lockout = timedelta(seconds=settings.operator_lockout_seconds)
        self._max_failures = settings.operator_max_failures

    @property
    def enabled(self) -> bool:
        return bool(self._hash)

    def login(self, password: str, address: str) -> LoginResult:
        """A new session for the right password, unless ``address`` is locked out."""
        address = address[:MAX_ADDRESS]
        now = _now()
        with Session(self._engine) as session, session.begin():
            failures = session.get(LoginFailures, address, with_for_update=True)
            if failures is not None and failures.locked_until is not None:
                if failures.locked_until > now:
                    self._note(session, address, "login refused", "locked out")
                    return LoginResult(locked_for=(failures.locked_until - now).total_seconds())
                session.delete(failures)  # the lockout is over: a clean slate
                session.flush()
                failures = None
            if not (self.enabled and check_password_hash(self._hash, password)):
                failures = failures or session.merge(LoginFailures(address=address, failures=0))
                failures.failures += 1
                if failures.failures >= self._max_failures:
                    failures.locked_until = now + self._lockout
                self._note(session, address, "login failed", f"try {failures.failures}")
                return LoginResult(locked_for=self._lockout.total_seconds()
                                   if failures.locked_until else 0.0)
            if failures is not None:
                session.delete(failures)
            token = secrets.token_urlsafe(32)
            session.add(OperatorSession(token_hash=_digest(token), created_at=now,
                                        last_seen=now, address=address))
            self._note(session, address, "login", "")
        return LoginResult(cookie=self._signer.dumps(token))

    def signed_in(self, cookie: str | None) -> bool:
        """Is ``cookie`` a live session's? A use keeps it alive; one idle too long is gone."""
        token = self._token(cookie)
        if token is None:
            return False
        now = _now()
        with Session(self._engine) as session, session.begin():
            found = session.get(OperatorSession, _digest(token))
            if found is None:
                return False
            if now - found.last_seen > self._idle:
                session.delete(found)
                return False
            found.last_seen = now
            return True

    def logout(self, cookie: str | None, address: str) -> None:
        token = self._token(cookie)
        with Session(self._engine) as session, session.begin():
            if token is not None:
                session.execute(delete(OperatorSession).where(
                    OperatorSession.token_hash == _digest(token)))
            self._note(session, address[:MAX_ADDRESS], "logout", "")

    def audit(self, address: str, action: str, detail: str = "") -> None:
        """Write an operator action to the audit trail."""
        with Session(self._engine) as session, session.begin():
            self._note(session, address[:MAX_ADDRESS], action, detail)

    def trail(self, n: int = 50) -> list[AuditEntry]:
        """The latest ``n`` audit entries, newest first."""
        with Session(self._engine) as session:
            return list(session.scalars(select(AuditEntry).order_by(
                AuditEntry.at.desc(), AuditEntry.id.desc()).limit(n)))

    def _token(self, cookie: str | None) -> str | None:
        if not cookie or not self.enabled:
            return None
        try:
            token = self._signer.loads(cookie)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None

    @staticmethod
    def _note(session: Session, address: str, action: str, detail: str) -> None:
        session.add(AuditEntry(at=_now(), address=address, action=action,
                               detail=detail[:MAX_DETAIL]))
        log.info("operator", extra={"action": action, "address": address, "detail": detail})
