"""gRPC status codes for this server's refusals, as TF Serving returns them."""
from __future__ import annotations

import grpc

# The HTTP statuses a ``ServingError`` carries, as gRPC codes. The photo caps (413) have no
# TF Serving counterpart; they stay INVALID_ARGUMENT, what a malformed tensor gets.
_CODES = {400: grpc.StatusCode.INVALID_ARGUMENT, 404: grpc.StatusCode.NOT_FOUND,
          413: grpc.StatusCode.INVALID_ARGUMENT, 500: grpc.StatusCode.INTERNAL,
          503: grpc.StatusCode.UNAVAILABLE, 504: grpc.StatusCode.DEADLINE_EXCEEDED}


class Refused(Exception):
    """A request refused with a gRPC status that no HTTP status stands for (say,
    FAILED_PRECONDITION for an unknown signature in Predict)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def grpc_code(http_status: int) -> grpc.StatusCode:
    return _CODES.get(http_status, grpc.StatusCode.INTERNAL if http_status >= 500
                      else grpc.StatusCode.INVALID_ARGUMENT)
