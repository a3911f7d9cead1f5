"""Paper protocols (data files), Wav2Lip filelist pairing, self-checks, and --all-variants."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thgeval.cli import main
from thgeval.errors import ConfigError
from thgeval.io import write_clip
from thgeval.metrics import CLIP, ClipValue, Metric, Variant, register, registry, resolve
from thgeval.protocols import all_protocols, get_protocol, run_checks
from thgeval.report import write_outputs
from thgeval.report.disagreement import variant_disagreement
from thgeval.report.leaderboard import Cell, Leaderboard
from thgeval.run import Row, evaluate

from conftest import moving_frames


def _audio_len(sample, **_):
    audio, note = sample.driving_audio()
    return ClipValue(float(len(audio)), notes=[note])


@pytest.fixture(scope="module", autouse=True)
def audio_metric():
    registry._load_builtin()
    register(Metric(name="toy_drive", title="Drive", higher_is_better=True, needs=frozenset({"audio"}), kind=CLIP,
                    clip_fn=_audio_len, variants={"v": Variant("v", {}, "test")}, default_variant="v", version="1"))
    yield
    registry._REGISTRY.pop("toy_drive", None)


def test_every_protocol_file_loads_and_lists(capsys):
    names = {p.name for p in all_protocols()}
    assert {"wav2lip-lrs2", "wav2lip-lrs3", "wav2lip-lrw", "fomm-vox", "vico", "hallo-hdtf"} <= names
    for p in all_protocols():
        assert p.metrics and p.code and p.paper and p.title
        for m in p.metrics:
            assert "@" in m or m in {"csim", "lse_c", "lse_d"}
    assert main(["protocols"]) == 0
    assert "wav2lip-lrs2" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="did you mean 'wav2lip-lrs3'"):
        get_protocol("wav2lip-lrs")


def _wav2lip_tree(tmp_path):
    """A miniature LRS2-like data root, a filelist in the published format, one method's results."""
    root = tmp_path / "main"
    tone = lambda f: (0.2 * np.sin(np.arange(16000) * f)).astype(np.float32)  # noqa: E731
    clips = {"6330311066473698535/00011": 0.05, "6330311066473698535/00018": 0.09, "5535415699068794046/00001": 0.13}
    for i, (cid, f) in enumerate(clips.items()):
        write_clip(root / f"{cid}.mp4", moving_frames(25, h=48, w=64, seed=i), 25, audio=tone(f))
    filelist = tmp_path / "lrs2.txt"
    # line i: audio of one clip, video of another (the published format)
    ids = list(clips)
    filelist.write_text(f"{ids[1]} {ids[0]}\n{ids[2]} {ids[1]}\n{ids[0]} {ids[2]}\n")
    res = tmp_path / "results"
    write_clip(res / "0.mp4", moving_frames(25, h=48, w=64, seed=0), 25)  # generated, no audio of its own
    write_clip(res / "2.mp4", moving_frames(25, h=48, w=64, seed=2), 25, audio=tone(0.05))
    write_clip(res / "7.mp4", moving_frames(25, h=48, w=64, seed=7), 25)  # no line 7
    return root, filelist, res, ids


def test_wav2lip_filelist_pairs_by_line_index(tmp_path):
    root, filelist, res, ids = _wav2lip_tree(tmp_path)
    r = evaluate(preds={"w2l": res}, metrics="psnr,toy_drive", out=tmp_path / "o", workers=1,
                 protocol="wav2lip-lrs2", filelist=filelist, data_root=root, cache_dir=tmp_path / "c")
    rows = {(x.method, x.clip, x.metric): x for x in r.rows}
    # line 0: generated 0.mp4 against the VIDEO source ids[0]: identical frames
    assert rows[("w2l", "0", "psnr")].value == float("inf")
    # line 1: no result file -> a failed row with the reason, never a silent gap
    assert rows[("w2l", "1", "psnr")].status == "failed" and "missing prediction" in rows[("w2l", "1", "psnr")].reason
    # 0.mp4 has no audio: the AUDIO_SRC of line 0 (ids[1]) drives it, and the row says so
    drive = rows[("w2l", "0", "toy_drive")]
    assert drive.status == "ok" and "00018.mp4's audio used" in drive.notes
    # 2.mp4 has its own track; the real row scores each video source with its own audio
    assert rows[("w2l", "2", "toy_drive")].notes == ""
    assert rows[("real", "0", "toy_drive")].status == "ok" and rows[("real", "0", "toy_drive")].notes == ""
    assert any("7.mp4 matches no line" in p for p in r.problems)
    assert any("lse_d@wav2lip-lrs" in p for p in r.problems) or resolve("lse_d@wav2lip-lrs")
    card = next(p for p in write_outputs(r)[1] if p.name == "evaluation_card.json")
    assert json.loads(card.read_text())["config"]["protocol"]["name"] == "wav2lip-lrs2"


def test_wav2lip_filelist_refuses_escaping_paths(tmp_path):
    root, filelist, res, ids = _wav2lip_tree(tmp_path)
    filelist.write_text(f"{ids[0]} ../../etc/passwd\n")
    with pytest.raises(ConfigError, match="points outside"):
        evaluate(preds={"w2l": res}, metrics="psnr", out=tmp_path / "o", workers=1,
                 protocol="wav2lip-lrs2", filelist=filelist, data_root=root)
    with pytest.raises(ConfigError, match="needs --filelist and --data-root"):
        evaluate(preds={"w2l": res}, metrics="psnr", out=tmp_path / "o", protocol="wav2lip-lrs2")
    assert main(["eval", "--pred", f"w2l={res}", "--filelist", str(filelist), "--out", str(tmp_path / "o")]) == 2


def _row(method, metric, value, extra=None):
    return Row(method, "c", metric, "v", "1", "k", value, "ok", extra=extra or {})


def test_self_checks_flag_an_implausible_real_row():
    p = get_protocol("wav2lip-lrs2")
    bad = [_row("real", "lse_c", 0.4), _row("real", "lse_c", 0.6), _row("m", "lse_c", 8.0)]
    warnings = run_checks(p, bad)
    assert len(warnings) == 1 and "lse_c on real clips is 0.5, below 3" in warnings[0]
    assert run_checks(p, [_row("real", "lse_c", 7.5), _row("real", "lse_d", 6.8)]) == []
    fomm = get_protocol("fomm-vox")
    assert "detection_rate" in run_checks(fomm, [_row("real", "akd", 1.0, {"detection_rate": 0.5})])[0]


def test_all_variants_and_disagreement(tmp_path):
    gt, a, b = tmp_path / "gt", tmp_path / "a", tmp_path / "b"
    for i in range(2):
        f = moving_frames(8, h=64, w=80, seed=i)
        write_clip(gt / f"c{i}.mp4", f, 25, lossless=True)
        rng = np.random.default_rng(i)
        write_clip(a / f"c{i}.mp4", np.clip(f + rng.normal(0, 6, f.shape), 0, 255).astype(np.uint8), 25, lossless=True)
        write_clip(b / f"c{i}.mp4", np.clip(f.astype(int) // 2 + 64, 0, 255).astype(np.uint8), 25, lossless=True)
    r = evaluate(gt, {"a": a, "b": b}, metrics="ssim", every_variant=True, out=tmp_path / "o", workers=1)
    every = {"skimage-gaussian", "skimage-uniform7", "skimage-uniform7-gray", "cmvq", "piq"}
    assert {x.variant for x in r.rows if x.metric == "ssim"} == every
    board, _ = write_outputs(r)
    (d,) = variant_disagreement(board)
    assert d.metric == "ssim" and set(d.variants) == every
    assert d.variant_spread["a"] > 0 and d.method_spread["skimage-gaussian"] > 0
    assert "Variant disagreement" in (tmp_path / "o" / "leaderboard.md").read_text()


def test_ranking_flip_is_flagged():
    refs = [resolve("ssim@skimage-gaussian"), resolve("ssim@skimage-uniform7")]
    cells = {}
    for m, vals in {"a": (0.90, 0.80), "b": (0.85, 0.82)}.items():
        for ref, v in zip(refs, vals):
            cells[(m, ref.key)] = Cell(v, 0.0, 3, v, v, 0, 0, [])
    (d,) = variant_disagreement(Leaderboard(["a", "b"], refs, cells))
    assert d.flips == [("a", "b", "skimage-gaussian", "skimage-uniform7")]
