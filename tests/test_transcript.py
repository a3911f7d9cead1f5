"""WER / CER / word accuracy: parity with jiwer 4.0.0 on real GRID transcripts (manifest.csv)
against perturbed hypotheses, corpus-level and utterance-mean; normalisation; --hyp files.

Tolerance reached: 1e-12 (both are exact integer ratios)."""

from __future__ import annotations

import csv
import random

import numpy as np
import pytest

from thgeval.errors import ConfigError, MetricSkipped
from thgeval.run.inputs import read_texts as read_hypotheses
from thgeval.metrics.transcript import (cer, edit_distance, error_counts, normalize, wer,
                                        word_accuracy)

jiwer = pytest.importorskip("jiwer")

EXTRA = ["It's eleven o'clock", "Don't forget a jacket", "I think I've seen this before",
         "WHEN YOU'RE COOKING CHIPS AT HOME", "the 4 of us met at 10"]


def grid_transcripts(media) -> list[str]:
    with open(media / "manifest.csv", newline="") as f:
        return [r["transcript"] for r in csv.DictReader(f) if r["transcript"]]


def perturb(text: str, rng: random.Random, vocab: list[str]) -> str:
    words = text.split()
    out = []
    for w in words:
        r = rng.random()
        if r < 0.12:
            out.append(rng.choice(vocab))  # substitution
        elif r < 0.22:
            continue  # deletion
        else:
            out.append(w)
        if rng.random() < 0.1:
            out.append(rng.choice(vocab))  # insertion
    # case and tag noise, punctuation, stray spaces: removed by the normalisation
    out = [w.upper() if rng.random() < 0.3 else w.capitalize() if rng.random() < 0.2 else w for w in out]
    if rng.random() < 0.4:
        out.insert(rng.randrange(len(out) + 1), rng.choice(["{NS}", "{LG}", "{breath}"]))
    s = "  ".join(out) if rng.random() < 0.3 else " ".join(out)
    return s + ("." if rng.random() < 0.3 else "")


def jiwer_normalised(refs, hyps):
    return [normalize(r) for r in refs], [normalize(h) for h in hyps]


@pytest.mark.media
@pytest.mark.parametrize("seed", range(5))
def test_parity_with_jiwer(media, seed):
    rng = random.Random(seed)
    refs = grid_transcripts(media) + EXTRA
    vocab = sorted({w for r in refs for w in normalize(r).split()})
    hyps = [perturb(r, rng, vocab) for r in refs]
    nr, nh = jiwer_normalised(refs, hyps)
    assert wer(refs, hyps) == pytest.approx(jiwer.wer(nr, nh), abs=1e-12)
    assert wer(refs, hyps, aggregation="utterance-mean") == pytest.approx(
        np.mean([jiwer.wer(r, h) for r, h in zip(nr, nh)]), abs=1e-12)
    assert cer(refs, hyps) == pytest.approx(jiwer.cer(nr, nh), abs=1e-12)
    assert cer(refs, hyps, aggregation="utterance-mean") == pytest.approx(
        np.mean([jiwer.cer(r, h) for r, h in zip(nr, nh)]), abs=1e-12)
    nsr, nsh = [r.replace(" ", "") for r in nr], [h.replace(" ", "") for h in nh]
    assert cer(refs, hyps, spaces=False) == pytest.approx(jiwer.cer(nsr, nsh), abs=1e-12)
    # the counts behind the corpus value are jiwer's S + D + I
    out = jiwer.process_words(nr, nh)
    assert int(error_counts(refs, hyps).errors.sum()) == out.substitutions + out.deletions + out.insertions


def test_normalisation():
    assert normalize("BIN {NS} Blue  at F two now.") == "bin blue at f two now"
    assert normalize("It\u2019s ELEVEN o'clock!") == "it's eleven o'clock"
    assert normalize("the 4 of-us") == "the 4 of us"
    assert wer("bin blue at f two now", "Bin BLUE {LG} at f, two now") == 0.0
    assert normalize("  ") == "" and normalize(None) == ""


def test_pure_python_distance_equals_rapidfuzz():
    from thgeval.metrics.transcript import _edit_distance_py

    rng = random.Random(7)
    for _ in range(300):
        a = [rng.choice("abcde") for _ in range(rng.randrange(0, 12))]
        b = [rng.choice("abcde") for _ in range(rng.randrange(0, 12))]
        assert _edit_distance_py(a, b) == edit_distance(a, b)


def test_known_values_and_aggregations():
    assert edit_distance("kitten", "sitting") == 3
    assert wer("a b c d", "a x c") == pytest.approx(2 / 4)  # one substitution, one deletion
    assert wer(["a b c d", "e f"], ["a b c d", "x y z"]) == pytest.approx(3 / 6)
    assert wer(["a b c d", "e f"], ["a b c d", "x y z"], aggregation="utterance-mean") == pytest.approx((0 + 1.5) / 2)
    assert cer("ab c", "ab") == pytest.approx(2 / 4)
    assert cer("ab c", "ab", spaces=False) == pytest.approx(1 / 3)
    assert wer("a", "a b c") == 2.0  # insertions can push WER above 1
    assert word_accuracy(["ABOUT", "WORLD"], ["about", "word"]) == 0.5


def test_empty_references_reported():
    counts = error_counts(["", "a b"], ["x y", "a b"])
    assert counts.empty_refs == [0]
    # corpus: the empty reference's insertions count, as in jiwer 4
    assert counts.corpus() == pytest.approx(jiwer.wer(["", "a b"], ["x y", "a b"]))
    assert counts.utterance_mean() == 0.0  # undefined for the empty one: left out
    assert np.isnan(wer("", "", aggregation="corpus"))


def test_hypothesis_file(tmp_path):
    p = tmp_path / "hyp.txt"
    p.write_text("\ufeff# lip reader X\ns1/bbaf2n bin blue at f two now\ns1/brbk7n.mp4   bin red by k seven\n\ns2/x\n")
    assert read_hypotheses(p) == {"s1/bbaf2n": "bin blue at f two now", "s1/brbk7n": "bin red by k seven", "s2/x": ""}
    p.write_text("a one\na two\n")
    with pytest.raises(ConfigError, match="twice"):
        read_hypotheses(p)
    with pytest.raises(ConfigError, match="cannot read"):
        read_hypotheses(tmp_path / "absent.txt")


class _Sample:
    """The parts of thgeval.metrics.sample.Sample the transcript metrics read."""

    def __init__(self, transcript, hypothesis):
        self.transcript, self.hypothesis = transcript, hypothesis
        self._m = {}

    def shared(self, key, fn):
        return self._m.setdefault(key, fn())

    def path(self, side):
        return "clip.mp4"


def test_clip_metrics_and_registry():
    from thgeval.metrics import get_metric, resolve
    from thgeval.metrics.registry import POOLED_FRAMES

    m = get_metric("wer")
    assert m.kind == "clip" and m.no_reference and m.variants["corpus"].aggregation == POOLED_FRAMES
    v = m.clip_fn(_Sample("bin blue at f two now", "bin blue at f too now"), **resolve("wer").params())
    assert v.value == pytest.approx(1 / 6) and v.n_frames == 6 and v.extra["source"] == "hyp"
    c = get_metric("cer").clip_fn(_Sample("ab c", "ab"), **resolve("cer@nospace").params())
    assert c.value == pytest.approx(1 / 3) and c.n_frames == 3
    # pooled aggregation of clip values weighted by reference length = corpus WER
    refs, hyps = ["a b c d", "e f", "g"], ["a b c", "x y z", "g"]
    vals = [m.clip_fn(_Sample(r, h)) for r, h in zip(refs, hyps)]
    pooled = sum(x.value * x.n_frames for x in vals) / sum(x.n_frames for x in vals)
    assert pooled == pytest.approx(wer(refs, hyps))
    with pytest.raises(MetricSkipped, match="no reference transcript"):
        m.clip_fn(_Sample(None, "x"))
    with pytest.raises(MetricSkipped, match="empty"):
        m.clip_fn(_Sample("{NS}", "x"))
    with pytest.raises(MetricSkipped, match="--hyp"):
        m.clip_fn(_Sample("a", None), reader="hyp")
    assert get_metric("word_acc").clip_fn(_Sample("ABOUT", "about")).value == 1.0
