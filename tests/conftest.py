"""Shared fixtures: the torchvision reference (copied from ../shared/reference so tests stand alone), and a
real HTTP server on 127.0.0.1 for download tests."""

from __future__ import annotations

import http.server
import json
import math
import threading
import zlib
from functools import partial
from pathlib import Path

import pytest
import torch

REFERENCE_PATH = Path(__file__).with_name("torchvision_resnets.json")


@pytest.fixture(scope="session")
def torchvision_reference() -> dict:
    return json.loads(REFERENCE_PATH.read_text())


def reference_input() -> torch.Tensor:
    """cos(0.013 i), i = 0 … 2·3·64·64 − 1, in float64, reshaped row-major, cast to float32."""
    i = torch.arange(2 * 3 * 64 * 64, dtype=torch.float64)
    return torch.cos(0.013 * i).reshape(2, 3, 64, 64).float()


def reference_value(key: str, like: torch.Tensor) -> torch.Tensor:
    """The reference's RNG-free value for one state_dict entry (see tests/README or shared/reference)."""
    n = like.numel()
    phase = (zlib.crc32(key.encode("utf-8")) % 1000) / 100
    base = torch.sin(0.61 * torch.arange(n, dtype=torch.float64) + phase)
    if key.endswith("num_batches_tracked"):
        value = torch.zeros(n, dtype=torch.float64)
    elif key.endswith("running_var"):
        value = 1 + 0.5 * base**2
    elif key.endswith("running_mean"):
        value = 0.1 * base
    elif like.dim() == 1 and key.endswith("weight"):
        value = 0.5 + 0.1 * base
    elif key.endswith("bias"):
        value = 0.05 * base
    else:
        fan_in = n / like.shape[0]
        value = base * math.sqrt(2 / fan_in)
    return value.reshape(like.shape).to(like.dtype)


def reference_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: reference_value(k, t) for k, t in model.state_dict().items()}


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass

    def do_GET(self):
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """(folder it serves, base URL, the server): files written to the folder are downloadable at once;
    ``server.paths`` lists every path requested."""
    root = tmp_path / "served"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    httpd.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def one_cpu_thread():
    """torch on one intra-op thread for the test. Training tests use it: on a machine whose cores other
    processes also use, OpenMP's threads wait for each other at every op and a two-thread step was
    measured 10–25× slower than a one-thread step (the result does not depend on the thread count)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
