"""Weights store: downloads from a local HTTP server (127.0.0.1), atomic and checksum-verified."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from thgeval import weights
from thgeval.cli import main
from thgeval.weights import registry
from thgeval.weights.registry import WeightsEntry

GOOD = bytes(range(256)) * 4096  # 1 MiB
OTHER = b"x" * len(GOOD)


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):  # keep pytest output clean
        pass

    def do_GET(self):
        if self.path == "/missing":
            self.send_error(404)
            return
        body = OTHER if self.path.startswith("/other") else GOOD
        if self.path.startswith("/pack.zip"):
            body = _zip({"buffalo_l/w600k_r50.onnx": GOOD, "buffalo_l/det_10g.onnx": OTHER})
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path.startswith("/truncated"):
            self.wfile.write(body[: len(body) // 3])  # then the connection closes mid-transfer
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("THGEVAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("THGEVAL_WEIGHTS_DIR", raising=False)
    monkeypatch.delenv("THGEVAL_WEIGHTS_MIRROR", raising=False)
    return tmp_path / "home" / "weights"


@pytest.fixture
def pinned(monkeypatch):
    """A manifest entry with a published checksum and size (the real ones have none)."""
    e = WeightsEntry("pinned_net", "pinned.bin", ("http://127.0.0.1:9/never",),
                     sha256=hashlib.sha256(GOOD).hexdigest(), size=len(GOOD))
    known = dict(registry._load())
    known[e.name] = e
    monkeypatch.setattr(registry, "_load", lambda: known)
    return e


def _leftovers(store):
    return [p.name for p in store.iterdir() if p.name.endswith(".part")] if store.exists() else []


def test_manifest_has_syncnet_and_s3fd():
    for name, fname in (("syncnet_v2", "syncnet_v2.model"), ("s3fd", "sfd_face.pth")):
        e = weights.get(name)
        assert e.filename == fname and e.urls and e.licence and e.citation


def test_unpinned_first_download_records_checksum(server, store):
    seen = []
    path = weights.fetch("syncnet_v2", url=f"{server}/good", progress=lambda d, t: seen.append((d, t)))
    assert path == store / "syncnet_v2.model" and path.read_bytes() == GOOD
    assert seen[0] == (0, len(GOOD)) and seen[-1] == (len(GOOD), len(GOOD))
    assert weights.recorded_sha256("syncnet_v2") == hashlib.sha256(GOOD).hexdigest()
    v = weights.verify("syncnet_v2")
    assert v.status == "unpinned" and v.good and "recorded" in v.message
    # the file changes on disk: verify now sees a mismatch against the recorded checksum
    path.write_bytes(OTHER)
    v = weights.verify("syncnet_v2")
    assert v.status == "mismatch" and "thgeval weights fetch syncnet_v2" in v.message
    # fetch replaces the bad file; a server now sending other bytes is refused
    with pytest.raises(weights.WeightsChecksumError, match="recorded at the first download"):
        weights.fetch("syncnet_v2", url=f"{server}/other")
    assert path.read_bytes() == OTHER  # untouched: nothing was renamed into place
    assert weights.fetch("syncnet_v2", url=f"{server}/good").read_bytes() == GOOD
    assert _leftovers(store) == []


def test_interrupted_transfer_leaves_nothing(server, store):
    with pytest.raises(weights.WeightsDownloadError, match="interrupted") as e:
        weights.fetch("syncnet_v2", url=f"{server}/truncated")
    assert "thgeval weights fetch syncnet_v2" in str(e.value)
    assert not (store / "syncnet_v2.model").exists() and _leftovers(store) == []
    assert weights.recorded_sha256("syncnet_v2") is None
    assert weights.verify("syncnet_v2").status == "missing"


def test_http_error_is_reported(server, store):
    with pytest.raises(weights.WeightsDownloadError, match="404"):
        weights.fetch("syncnet_v2", url=f"{server}/missing")


def test_pinned_wrong_checksum_refused(server, store, pinned, monkeypatch):
    monkeypatch.setenv("THGEVAL_WEIGHTS_URL_PINNED_NET", f"{server}/other")
    with pytest.raises(weights.WeightsChecksumError, match="published checksum"):
        weights.fetch("pinned_net")
    assert not (store / "pinned.bin").exists() and _leftovers(store) == []
    monkeypatch.delenv("THGEVAL_WEIGHTS_URL_PINNED_NET")
    monkeypatch.setenv("THGEVAL_WEIGHTS_MIRROR", f"{server}/mirror")  # joined with the file name
    p = weights.fetch("pinned_net")
    assert p.read_bytes() == GOOD and weights.verify("pinned_net").status == "ok"
    assert weights.recorded_sha256("pinned_net") is None  # pinned entries need no lock record
    # a truncated file on disk is caught by its size
    p.write_bytes(GOOD[:100])
    v = weights.verify("pinned_net")
    assert v.status == "mismatch" and "truncated" in v.message


def test_nothing_downloads_on_lookup(store):
    with pytest.raises(weights.WeightsMissing, match="thgeval weights fetch syncnet_v2"):
        weights.locate("syncnet_v2")
    assert not store.exists()


def test_cli(server, store, capsys):
    assert main(["weights", "list"]) == 0
    assert "syncnet_v2" in capsys.readouterr().out
    assert main(["weights", "path", "syncnet_v2"]) == 2
    assert "thgeval weights fetch syncnet_v2" in capsys.readouterr().err
    assert main(["weights", "fetch", "syncnet_v2", "--url", f"{server}/truncated"]) == 2
    assert "interrupted" in capsys.readouterr().err
    assert main(["weights", "fetch", "syncnet_v2", "--url", f"{server}/good"]) == 0
    assert "unpinned" in capsys.readouterr().out
    assert main(["weights", "verify"]) == 0
    assert "syncnet_v2: unpinned" in capsys.readouterr().out
    assert main(["weights", "path", "syncnet_v2"]) == 0
    assert capsys.readouterr().out.strip() == str(store / "syncnet_v2.model")
    (store / "syncnet_v2.model").write_bytes(b"junk")
    assert main(["weights", "verify", "syncnet_v2"]) == 1
    assert "mismatch" in capsys.readouterr().out


def test_member_of_a_zip_pack(server, store):
    """insightface ships its models in zip packs: the entry's member is extracted and checked."""
    path = weights.fetch("arcface-w600k-r50", url=f"{server}/pack.zip")
    assert path == store / "w600k_r50.onnx" and path.read_bytes() == GOOD
    assert weights.recorded_sha256("arcface-w600k-r50") == hashlib.sha256(GOOD).hexdigest()
    assert weights.verify("arcface-w600k-r50").good
    with pytest.raises(weights.WeightsDownloadError, match="not a readable zip"):
        weights.fetch("arcface-w600k-r50", url=f"{server}/good", force=True)
    assert path.read_bytes() == GOOD and _leftovers(store) == []
