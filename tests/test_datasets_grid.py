"""GRID adapter on miniature trees built from ../shared/media/grid (clips linked, not copied).

Transcripts are checked against manifest.csv from both sources (align files, file names);
a Zenodo-style mix-up of alignment folders (lhotse's map) is planted, detected and fixed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from _bench_util import feeds_bench
from thgeval.datasets import open_dataset
from thgeval.datasets.grid import (LHOTSE_ALIGN_FIX, parse_align, parse_id_list, transcript_from_align,
                                   transcript_from_name, words_from_name)
from thgeval.errors import ConfigError

# clip in ../shared/media/grid → (speaker, utterance) in the miniature tree
LAYOUT = {
    "bbaf2n": "s1", "brbk7n": "s1", "lbax4n": "s2", "lbbc2a": "s2", "lrwp9a": "s20", "lwbsza": "s20",
    "pwij3p": "s22", "id2_swwp2s": "s22", "sbia1a": "s5", "sbwe5n": "s5", "swiz3n": "s6",
}


def manifest_transcripts(media: Path) -> dict[str, str]:
    with open(media / "manifest.csv", newline="") as f:
        return {Path(r["file"]).stem.split("_")[-1]: r["transcript"] for r in csv.DictReader(f)
                if r["file"].startswith("grid/") and r["file"].endswith(".mpg")}


def synthetic_align(words: list[str]) -> str:
    """An align file in GRID's format (CRLF, 1/25000 s) for the given words, with silences."""
    lines, t = ["0 10000 sil"], 10000
    for w in words:
        lines.append(f"{t} {t + 6000} {w}")
        t += 6000
    lines.append(f"{t} 74500 sil")
    return "\r\n".join(lines) + "\r\n"


def build_grid(media: Path, root: Path, *, zenodo_mixup: bool) -> dict[str, str]:
    """Videos at s{N}/{utt}.mpg, alignments at alignments/s{N}/{utt}.align. With the mix-up,
    each speaker's align files go to the folder lhotse's map says the Zenodo copy put them in."""
    truth = manifest_transcripts(media)
    for clip, spk in LAYOUT.items():
        utt = clip.split("_")[-1]
        (root / spk).mkdir(parents=True, exist_ok=True)
        (root / spk / f"{utt}.mpg").symlink_to(media / "grid" / f"{clip}.mpg")
        folder = LHOTSE_ALIGN_FIX.get(spk, spk) if zenodo_mixup else spk
        adir = root / "alignments" / folder
        adir.mkdir(parents=True, exist_ok=True)
        if clip == "id2_swwp2s":  # the one real align file
            (adir / f"{utt}.align").symlink_to(media / "grid" / "id2_swwp2s.align")
        else:
            (adir / f"{utt}.align").write_bytes(synthetic_align(truth[utt].split()).encode())
    return truth


@pytest.mark.media
def test_grammar_decodes_every_shared_clip(media):
    truth = manifest_transcripts(media)
    assert len(truth) == 11
    for utt, text in truth.items():
        assert transcript_from_name(utt) == text
    assert words_from_name("lwbsza")[4] == "zero"
    with pytest.raises(ValueError):
        words_from_name("bbawxn")  # w is not a GRID letter


@pytest.mark.media
def test_real_align_file(media):
    raw = (media / "grid" / "id2_swwp2s.align").read_bytes()
    assert b"\r\n" in raw  # CRLF as distributed
    items = parse_align(raw.decode())
    assert items[0] == (0.0, 12250 / 25000, "sil") and items[-1][2] == "sil"
    assert items[1] == (0.49, 0.77, "set")  # 12250 and 19250 units of 1/25000 s
    assert transcript_from_align(items) == "set white with p two soon"
    assert items[-1][1] * 25 == pytest.approx(74.5)  # 1000 units per frame: 74.5 frames


@pytest.mark.media
@pytest.mark.parametrize("source", ["align", "filename"])
def test_transcripts_match_manifest(media, tmp_path, source):
    truth = build_grid(media, tmp_path, zenodo_mixup=False)
    rep = open_dataset("grid", tmp_path, "all", transcript=source)
    # the other 27 speakers with video are absent from the miniature tree: 1000 each by design
    absent = rep.problems_of("missing")
    assert len(absent) == 27 and all(p.detail == "speaker folder not found" for p in absent)
    assert rep.found == 11 and rep.expected == 11 + 27 * 1000
    assert len(rep.problems) == 27, rep.problems
    for r in rep.records:
        assert r.transcript == truth[r.metadata["utterance"]]
        assert r.metadata["transcript_source"] == source
        assert r.fps == 25.0 and r.speaker == r.id.split("/")[0]
    swwp = rep.by_id()["s22/swwp2s"]
    assert swwp.metadata["words"][0] == [0.49, 0.77, "set"]
    assert "s21: GRID has no video of this speaker (skipped)" in rep.notes


@pytest.mark.media
def test_zenodo_mixup_detected_and_fixed(media, tmp_path):
    truth = build_grid(media, tmp_path, zenodo_mixup=True)
    assert not (tmp_path / "alignments" / "s20").exists()  # s20's files sit in folder s21
    rep = open_dataset("grid", tmp_path, "all")
    fixed = {p.id: Path(p.path).name for p in rep.problems_of("misassigned")}
    assert fixed == {"s5": "s6", "s6": "s5", "s20": "s21", "s22": "s23"}
    assert all("lhotse" in p.detail for p in rep.problems_of("misassigned"))
    assert {p.kind for p in rep.problems} == {"misassigned", "missing"}
    for r in rep.records:
        assert r.metadata["transcript_source"] == "align"
        assert r.transcript == truth[r.metadata["utterance"]]
    assert any("mix-up" in n for n in rep.notes)

    # Not fixed: reported, and the transcripts fall back to the file names.
    raw = open_dataset("grid", tmp_path, "all", align_fix="none")
    assert {p.id for p in raw.problems_of("misassigned")} == {"s5", "s6"}
    assert {p.id for p in raw.problems_of("no-transcript")} == {"s20", "s22"}
    assert all(r.transcript == truth[r.metadata["utterance"]] for r in raw.records)
    assert {r.metadata["transcript_source"] for r in raw.records if r.speaker in ("s5", "s6", "s20", "s22")} == {"filename"}


@pytest.mark.media
def test_mixup_outside_lhotse_map_found_by_content(media, tmp_path):
    truth = build_grid(media, tmp_path, zenodo_mixup=False)
    # s1 and s2 swapped: not in lhotse's map, found by matching utterance names.
    a = tmp_path / "alignments"
    (a / "s1").rename(a / "tmp")
    (a / "s2").rename(a / "s1")
    (a / "tmp").rename(a / "s2")
    rep = open_dataset("grid", tmp_path, "unseen-test")
    assert {p.id: Path(p.path).name for p in rep.problems_of("misassigned")} == {"s1": "s2", "s2": "s1"}
    assert all("content match" in p.detail for p in rep.problems_of("misassigned"))
    assert all(r.transcript == truth[r.metadata["utterance"]] for r in rep.records)


@pytest.mark.media
def test_planted_problems(media, tmp_path):
    from thgeval.io import write_clip

    build_grid(media, tmp_path, zenodo_mixup=False)
    # an utterance whose video is missing (its align file is there)
    (tmp_path / "alignments" / "s1" / "bgaa1a.align").write_bytes(synthetic_align("bin green at a one again".split()).encode())
    # an empty video file
    (tmp_path / "s2" / "lgaz9s.mpg").write_bytes(b"")
    # a 30 fps, 64×48 clip without audio
    rng = np.random.default_rng(0)
    write_clip(tmp_path / "s1" / "sgbz4n.mp4", rng.integers(0, 255, (20, 48, 64, 3), dtype=np.uint8), 30)
    # an align file that disagrees with its file name
    (tmp_path / "alignments" / "s2" / "lbax4n.align").write_bytes(synthetic_align("lay blue at x five now".split()).encode())
    # a file that is not a GRID utterance
    (tmp_path / "s1" / "notes12.mpg").symlink_to(media / "grid" / "bbaf2n.mpg")

    rep = open_dataset("grid", tmp_path, "unseen-test", probe=True)
    kinds = {(p.kind, p.id) for p in rep.problems}
    feeds_bench(tmp_path, rep, "grid", "unseen-test", probe=True)
    assert ("missing", "s1/bgaa1a") in kinds
    assert ("unreadable", "s2/lgaz9s") in kinds
    assert {("fps", "s1/sgbz4n"), ("size", "s1/sgbz4n"), ("frames", "s1/sgbz4n"), ("no-audio", "s1/sgbz4n")} <= kinds
    assert ("transcript-mismatch", "s2/lbax4n") in kinds
    assert ("bad-name", "s1/notes12") in kinds
    assert rep.probed
    ids = set(rep.by_id())
    assert "s2/lgaz9s" not in ids and "s1/bgaa1a" not in ids  # unusable clips leave the records
    assert rep.by_id()["s1/sgbz4n"].audio is None  # no track, no separate file
    assert rep.by_id()["s1/bbaf2n"].audio is not None
    # 8 clips of s1, s2, s20, s22 + bgaa1a, lgaz9s, sgbz4n, notes12 (no transcript at all: dropped)
    assert rep.expected == 12 and "s1/notes12" not in ids
    assert "s1/bbaf2n" in ids and rep.by_id()["s2/lbax4n"].transcript == "lay blue at x five now"
    summary = rep.summary()
    assert "found" in summary and "unreadable" in summary


@pytest.mark.media
def test_splits_and_lists(media, tmp_path):
    build_grid(media, tmp_path, zenodo_mixup=False)
    test = open_dataset("grid", tmp_path, "unseen-test")
    assert {r.speaker for r in test.records} == {"s1", "s2", "s20", "s22"} and test.found == 8
    train = open_dataset("grid", tmp_path, "unseen-train")
    assert {r.speaker for r in train.records} == {"s5", "s6"}
    # speakers of the split without a folder: reported, counted by design
    absent = {p.id for p in train.problems_of("missing")}
    assert "s3" in absent and "s21" not in absent and "s1" not in absent
    assert train.expected == 3 + 1000 * len(absent)
    with pytest.raises(ConfigError, match="list"):
        open_dataset("grid", tmp_path, "overlapped-test")
    lst = tmp_path / "overlap_val.txt"
    lst.write_text("s1/video/mpg_6000/bbaf2n\ns5/video/mpg_6000/sbia1a\ns5/video/mpg_6000/bgin9a\n")
    ov = open_dataset("grid", tmp_path, "overlapped-test", list=str(lst))
    assert sorted(ov.by_id()) == ["s1/bbaf2n", "s5/sbia1a"] and ov.expected == 3
    assert [p.id for p in ov.problems_of("missing")] == ["s5/bgin9a"]


def test_id_list_formats():
    assert parse_id_list(["s14/video/mpg_6000/bbaq7n", "s3/lgaz9s.mpg", "s2_bbaf2n", "s7 pwij3p"]) == [
        ("s14", "bbaq7n"), ("s3", "lgaz9s"), ("s2", "bbaf2n"), ("s7", "pwij3p")]
    with pytest.raises(ConfigError):
        parse_id_list(["bbaf2n"])


def test_bad_options(tmp_path):
    (tmp_path / "s1").mkdir()
    with pytest.raises(ConfigError, match="unknown option"):
        open_dataset("grid", tmp_path, "all", allign_fix="none")
    with pytest.raises(ConfigError, match="unknown split"):
        open_dataset("grid", tmp_path, "test")
    with pytest.raises(ConfigError, match="no speaker folders"):
        open_dataset("grid", tmp_path, "all")


@pytest.mark.media
def test_grid_feeds_eval_with_transcripts_and_hypotheses(media, tmp_path):
    """The adapter's records drive `evaluate`: GT from the split, a method's clips by id,
    transcripts from the align files, --hyp texts; corpus WER in the leaderboard = jiwer's."""
    import csv as _csv

    jiwer = pytest.importorskip("jiwer")
    from thgeval.metrics.transcript import normalize
    from thgeval.report.leaderboard import build
    from thgeval.run import evaluate

    root = tmp_path / "grid"
    truth = build_grid(media, root, zenodo_mixup=True)
    rep = open_dataset("grid", root, "unseen-test")
    method = tmp_path / "method"
    for r in rep.records[:-1]:  # the method lacks one clip
        (method / r.speaker).mkdir(parents=True, exist_ok=True)
        (method / f"{r.id}.mpg").symlink_to(r.video)
    rows, missing = rep.pairs({"m": method})
    assert missing == [f"m: no clip {rep.records[-1].id} in {method}"]
    manifest = tmp_path / "pairs.csv"
    with open(manifest, "w", newline="") as f:
        w = _csv.DictWriter(f, fieldnames=["method", "clip", "pred", "gt"])
        w.writeheader()
        w.writerows(rows)
    hyps = {r.id: truth[r.metadata["utterance"]].replace("now", "not").replace(" at ", " ") for r in rep.records}
    hyp_file = tmp_path / "hyp.txt"
    hyp_file.write_text("".join(f"{k} {v}\n" for k, v in hyps.items()))
    result = evaluate(manifest=manifest, metrics="wer,cer,wer@utterance-mean", out=tmp_path / "out", workers=1,
                      transcripts=rep.write_transcripts(tmp_path / "text.txt"),
                      hypotheses={"m": str(hyp_file), "real": {k: truth[k.split("/")[1]] for k in hyps}})
    board = build(result.rows, result.metrics, result.methods)
    ok = [r for r in result.rows if r.method == "m" and r.metric == "wer" and r.variant == "corpus" and r.status == "ok"]
    assert len(ok) == len(rep.records) - 1
    ids = [r.clip for r in ok]
    want = jiwer.wer([normalize(rep.by_id()[i].transcript) for i in ids], [normalize(hyps[i]) for i in ids])
    wer_ref = next(x for x in result.metrics if x.key == "wer@corpus")
    assert board.cell("m", wer_ref).mean == pytest.approx(want, abs=1e-12)
    assert board.cell("real", wer_ref).mean == 0.0  # the ceiling: GT read perfectly here
