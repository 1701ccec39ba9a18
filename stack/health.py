"""One health check: GET a service's health URL (PING for a ``redis://`` one), and say what was
wrong if it did not answer."""
from __future__ import annotations

import http.client
import urllib.error
import urllib.request

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# Health checks go straight to the service, even where http_proxy is set for the outside world.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def redis_failure(url: str, timeout: float) -> str | None:
    """None if the Redis at ``url`` answers PING within ``timeout`` seconds, else why not."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                  retry=Retry(NoBackoff(), 0))  # one try: the check
    try:
        client.ping()
        return None
    except redis.TimeoutError:
        return f"no answer within {timeout:g} s"
    except redis.RedisError as exc:
        return exc.__class__.__name__
    finally:
        client.close()


def failure(url: str, timeout: float) -> str | None:
    """None if ``url`` answers 200 within ``timeout`` seconds, else why not, in a few words."""
    if url.startswith("redis://"):
        return redis_failure(url, timeout)
    try:
        with _direct.open(url, timeout=timeout) as response:
            response.read(64 * 1024)  # a service that sends its headers and then hangs fails
            return None if response.status == 200 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return f"no answer within {timeout:g} s"
        return getattr(reason, "strerror", None) or str(reason)
    except (OSError, http.client.HTTPException) as exc:  # reset, garbled
        return exc.__class__.__name__


def is_up(url: str, timeout: float = 2.0) -> bool:
    """True if ``url`` answers 200 now."""
    return failure(url, timeout) is None
