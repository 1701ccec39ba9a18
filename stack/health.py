"""One health check: GET a service's health URL, and say what was wrong if it did not answer."""
from __future__ import annotations

import http.client
import urllib.error
import urllib.request

# Health checks go straight to the service, even where http_proxy is set for the outside world.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def failure(url: str, timeout: float) -> str | None:
    """None if ``url`` answers 200 within ``timeout`` seconds, else why not, in a few words."""
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


def answers(url: str, timeout: float = 2.0) -> bool:
    """True if ``url`` answers 200 now."""
    return failure(url, timeout) is None
