"""What a hostile client sends (crafted photos, raw HTTP), and what it cost the server."""
from __future__ import annotations

import http.client
import io
import os
import socket
from functools import cache
from pathlib import Path

from PIL import Image

HUGE_SIDE = 10_000


@cache
def huge_jpeg() -> bytes:
    """A real, valid 10000x10000 JPEG of one colour: 1.5 MB that decodes to 300 MB."""
    buffer = io.BytesIO()
    Image.new("RGB", (HUGE_SIDE, HUGE_SIDE), (200, 30, 30)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def one_bit_bmp(photo: bytes) -> bytes:
    """The photo as a 1-bit BMP: a valid header and data that OpenCV decodes, and that the
    model's graph (``tf.io.decode_image``) refuses."""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo)).convert("1").save(buffer, "BMP")
    return buffer.getvalue()


def rss_bytes(pid: int) -> int:
    """A process's resident memory now (``VmRSS``), as the kernel counts it."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise ValueError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far (user and system, all its threads): what a
    request cost it, however busy the rest of the machine is."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()  # after the command's name
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def raw_request(url: str, data: bytes, timeout: float = 10, method: str = "GET"
                ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """Send ``data`` as is (no client-side checks) and read the one answer to it (``method``:
    the request's, so that the answer to a HEAD is read without a body)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(data)
        response = http.client.HTTPResponse(conn, method=method)
        response.begin()
        return response.status, response.headers, response.read()


def listen_addresses(port: int) -> set[str]:
    """The IPv4 addresses a TCP socket listens on at ``port``, from ``/proc/net/tcp``."""
    found = set()
    with open("/proc/net/tcp") as table:
        for line in list(table)[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def pid_listening(url: str) -> int:
    """The process that listens on ``url``'s port (read from /proc: sockets, then fds); where
    several hold the socket (gunicorn's master and its workers), the first started."""
    port = int(url.rsplit(":", 1)[1])
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    holders = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            holders.append(int(proc.name))
    assert holders, f"nothing listens on {url}"
    return min(holders)
