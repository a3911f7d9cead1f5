"""Word and character error rates of a lip reader's transcript (WER, CER), and word accuracy.

Both texts pass through one normalisation, identical for reference and hypothesis
(:func:`normalize`): Unicode NFKC, case-folded, ``{…}`` tags removed (LRS noise marks such as
``{LG}``), typographic apostrophes made ``'``, every other punctuation or symbol character
replaced by a space, whitespace collapsed; letters, digits and apostrophes are kept
(``o'clock`` stays one word, ``4`` is not spelt out). Errors are the Levenshtein distance
(substitutions + deletions + insertions, each costing 1) between word sequences (WER) or
character sequences (CER, spaces counted; variant ``nospace`` removes them first).

Aggregation is part of the variant:

- ``corpus`` (default): Σ errors / Σ reference words over the set — AV-HuBERT's
  ``infer_s2s.py`` (n_err / n_total), Auto-AVSR's ``lightning.py`` (total_edit_distance /
  total_length), LipNet's ``callbacks.py`` (mean errors / mean reference length, the same
  ratio), and ``jiwer.wer(list, list)``;
- ``utterance-mean``: the mean of per-clip rates (SPECTRE, Filntisis et al. 2023, averages
  ``jiwer.wer`` per video; VIPL's LipNet-PyTorch averages per utterance too, which on GRID's
  six-word sentences equals the corpus value).

Registry choice: ``wer`` / ``cer`` are ``clip`` metrics whose clip value is the clip's rate and
whose weight (``ClipValue.n_frames``) is its reference length. Pooled aggregation
(Σ rate·length / Σ length) is then exactly Σ errors / Σ length, so the corpus-level number,
its bootstrap CI, per-clip rows, resume and the ``real`` row (GT video through the same
reader: the ceiling) all come from the existing machinery; a ``set`` metric would lose the
per-clip rows. A clip whose reference normalises to nothing is skipped with that reason
(its rate is undefined), so it leaves the set value; :func:`error_counts` on lists counts its
insertions, as jiwer 4 does.

Parity: equal to jiwer 4.0.0 (corpus and utterance mean, WER and CER) to 1e-12 on real GRID
transcripts against perturbed hypotheses (tests/test_transcript.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ConfigError, MetricSkipped

try:  # optional C++ Levenshtein (a dependency of jiwer)
    from rapidfuzz.distance import Levenshtein as _rapidfuzz
except ImportError:  # pragma: no cover - exercised where rapidfuzz is absent
    _rapidfuzz = None

_TAG = re.compile(r"\{[^{}]*\}")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
WORD, CHAR, CHAR_NOSPACE = "word", "char", "char-nospace"
UNITS = (WORD, CHAR, CHAR_NOSPACE)


def normalize(text: str) -> str:
    """The normalisation applied identically to references and hypotheses (see module doc)."""
    t = unicodedata.normalize("NFKC", text or "").translate(_APOSTROPHES).casefold()
    t = _TAG.sub(" ", t)
    t = "".join(c if c.isalnum() or c == "'" or c.isspace() else " " for c in t)
    return " ".join(t.split())


def tokens(text: str, unit: str = WORD) -> list[str]:
    """A normalised text as the units errors are counted in."""
    t = normalize(text)
    if unit == WORD:
        return t.split()
    if unit == CHAR:
        return list(t)
    if unit == CHAR_NOSPACE:
        return list(t.replace(" ", ""))
    raise ValueError(f"unit must be one of {UNITS}; got {unit!r}")


def edit_distance(ref: Sequence, hyp: Sequence) -> int:
    """Levenshtein distance (unit costs) between two sequences, O(len(ref)·len(hyp)).

    Uses RapidFuzz's C++ implementation when it is installed (it comes with jiwer), else the
    dynamic programme below; both give the same integer.
    """
    if _rapidfuzz is not None:
        return _rapidfuzz.distance(ref, hyp)
    return _edit_distance_py(ref, hyp)


def _edit_distance_py(ref: Sequence, hyp: Sequence) -> int:
    if len(ref) < len(hyp):
        ref, hyp = hyp, ref
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i]
        for j, h in enumerate(hyp, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class ErrorCounts:
    """Per-utterance errors and reference lengths of a set, in one unit."""

    errors: np.ndarray  # (N,) int
    ref_len: np.ndarray  # (N,) int
    hyp_len: np.ndarray  # (N,) int
    unit: str

    @property
    def empty_refs(self) -> list[int]:
        return [int(i) for i in np.flatnonzero(self.ref_len == 0)]

    def corpus(self) -> float:
        """Σ errors / Σ reference length (NaN when every reference is empty)."""
        total = int(self.ref_len.sum())
        return float(self.errors.sum()) / total if total else float("nan")

    def utterance_mean(self) -> float:
        """Mean of per-utterance rates over utterances with a non-empty reference."""
        keep = self.ref_len > 0
        return float(np.mean(self.errors[keep] / self.ref_len[keep])) if keep.any() else float("nan")

    def value(self, aggregation: str) -> float:
        if aggregation == "corpus":
            return self.corpus()
        if aggregation == "utterance-mean":
            return self.utterance_mean()
        raise ValueError(f"aggregation must be corpus or utterance-mean; got {aggregation!r}")


def _as_lists(references, hypotheses) -> tuple[list[str], list[str]]:
    refs = [references] if isinstance(references, str) else list(references)
    hyps = [hypotheses] if isinstance(hypotheses, str) else list(hypotheses)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    return refs, hyps


def error_counts(references, hypotheses, unit: str = WORD) -> ErrorCounts:
    """Errors and reference lengths per utterance (strings or lists of strings)."""
    refs, hyps = _as_lists(references, hypotheses)
    e, r, h = [], [], []
    for ref, hyp in zip(refs, hyps):
        rt, ht = tokens(ref, unit), tokens(hyp, unit)
        e.append(edit_distance(rt, ht))
        r.append(len(rt))
        h.append(len(ht))
    return ErrorCounts(np.asarray(e, np.int64), np.asarray(r, np.int64), np.asarray(h, np.int64), unit)


def wer(references, hypotheses, *, aggregation: str = "corpus") -> float:
    """Word error rate of hypotheses against references, in [0, ∞) (insertions can exceed 1).

    Parameters
    ----------
    references, hypotheses : a string each, or equal-length lists of strings.
    aggregation : ``corpus`` (Σ errors / Σ reference words; AV-HuBERT, Auto-AVSR, LipNet) or
        ``utterance-mean`` (mean of per-utterance WER over non-empty references; SPECTRE).

    Notes
    -----
    Both sides are normalised by :func:`normalize`. An empty reference adds its insertions
    to the corpus numerator and nothing to the denominator, and is left out of the mean.
    """
    return error_counts(references, hypotheses, WORD).value(aggregation)


def cer(references, hypotheses, *, aggregation: str = "corpus", spaces: bool = True) -> float:
    """Character error rate; ``spaces=False`` removes spaces before counting. See :func:`wer`."""
    return error_counts(references, hypotheses, CHAR if spaces else CHAR_NOSPACE).value(aggregation)


def word_accuracy(references, hypotheses) -> float:
    """Share of utterances whose normalised hypothesis equals the reference (LRW's score)."""
    refs, hyps = _as_lists(references, hypotheses)
    return float(np.mean([normalize(r) == normalize(h) for r, h in zip(refs, hyps)])) if refs else float("nan")


# --- the metrics ------------------------------------------------------------------------------
def hypothesis_for(sample, side: str = "pred", reader: str | None = None) -> tuple[str, str]:
    """The text a clip was read as, and where it came from.

    The user's hypothesis (``--hyp``) for the generated side when given; else the named
    reader (default: the registry's default reader) run on the clip's video, memoised per
    clip job so ``wer`` and ``cer`` read each video once. Raises MetricSkipped (with the
    fetch command when the reader's weights are absent).
    """
    if side == "pred" and sample.hypothesis is not None and reader in (None, "hyp"):
        return sample.hypothesis, "hyp"
    if reader == "hyp":
        raise MetricSkipped("no hypothesis for this clip (give --hyp FILE with an 'id text' line for it)")
    from ..nets.readers import get_reader

    rd = get_reader(reader)
    path = sample.path(side)
    text = sample.shared(("transcribe", rd.name, str(path)), lambda: rd.transcribe_sample(sample, side))
    return text, rd.name


def _reference(sample) -> str:
    if sample.transcript is None:
        raise MetricSkipped("no reference transcript for this clip (dataset adapter or transcripts file)")
    return sample.transcript


def _rate_clip(sample, unit: str, reader=None, aggregation: str = "corpus"):
    from .registry import ClipValue

    ref = _reference(sample)
    hyp, source = hypothesis_for(sample, "pred", reader)
    counts = error_counts(ref, hyp, unit)
    n = int(counts.ref_len[0])
    if n == 0:
        raise MetricSkipped("the reference transcript is empty after normalisation: the rate is undefined")
    e = int(counts.errors[0])
    return ClipValue(value=e / n, n_frames=n, notes=[f"hypothesis from {source}"],
                     extra={"errors": e, "ref_len": n, "hyp_len": int(counts.hyp_len[0]), "unit": unit,
                            "hypothesis": hyp, "reference": ref, "source": source})


def wer_clip(sample, *, aggregation: str = "corpus", reader: str | None = None):
    """Clip WER; its weight is the reference's word count (pooled = corpus-level WER)."""
    return _rate_clip(sample, WORD, reader)


def cer_clip(sample, *, aggregation: str = "corpus", spaces: bool = True, reader: str | None = None):
    return _rate_clip(sample, CHAR if spaces else CHAR_NOSPACE, reader)


def word_acc_clip(sample, *, reader: str | None = None):
    from .registry import ClipValue

    ref = _reference(sample)
    hyp, source = hypothesis_for(sample, "pred", reader)
    ok = normalize(ref) == normalize(hyp)
    return ClipValue(value=float(ok), n_frames=1, notes=[f"hypothesis from {source}"],
                     extra={"hypothesis": hyp, "reference": ref, "source": source})


def _register() -> None:
    from .registry import CLIP, MEAN_OF_CLIP_MEANS, POOLED_FRAMES, Metric, Variant, register

    corpus_ref = ("Σ errors / Σ reference words over the set: AV-HuBERT avhubert/infer_s2s.py (n_err / n_total), "
                  "Auto-AVSR lightning.py (total_edit_distance / total_length), LipNet rizkiarm/LipNet callbacks.py "
                  "(mean errors / mean reference length); equals jiwer.wer on the lists")
    mean_ref = ("mean of per-clip rates: SPECTRE (filby89/spectre utils/run_av_hubert.py, jiwer per video), "
                "VIPL LipNet-PyTorch main.py (equal to corpus on GRID: six words each)")
    register(Metric(
        name="wer", title="WER", higher_is_better=False, needs=frozenset({"transcript"}), kind=CLIP,
        clip_fn=wer_clip, family="transcript", unit="", value_range="[0, ∞), 0 = every word right",
        variants={
            "corpus": Variant("corpus", {"aggregation": "corpus"}, corpus_ref, POOLED_FRAMES,
                              notes="clip weight = reference words"),
            "utterance-mean": Variant("utterance-mean", {"aggregation": "utterance-mean"}, mean_ref,
                                      MEAN_OF_CLIP_MEANS),
        },
        default_variant="corpus", version="1",
        description="word error rate of a lip reader's transcript of the video (--hyp FILE or a registered reader)",
    ))
    register(Metric(
        name="cer", title="CER", higher_is_better=False, needs=frozenset({"transcript"}), kind=CLIP,
        clip_fn=cer_clip, family="transcript", value_range="[0, ∞)",
        variants={
            "corpus": Variant("corpus", {"aggregation": "corpus", "spaces": True},
                              "Σ character errors / Σ reference characters, spaces counted (jiwer.cer)", POOLED_FRAMES),
            "nospace": Variant("nospace", {"aggregation": "corpus", "spaces": False},
                               "as corpus, spaces removed before counting", POOLED_FRAMES),
            "utterance-mean": Variant("utterance-mean", {"aggregation": "utterance-mean", "spaces": True},
                                      mean_ref.replace("rates", "character error rates"), MEAN_OF_CLIP_MEANS),
        },
        default_variant="corpus", version="1",
        description="character error rate of a lip reader's transcript",
    ))
    register(Metric(
        name="word_acc", title="Word acc.", higher_is_better=True, needs=frozenset({"transcript"}), kind=CLIP,
        clip_fn=word_acc_clip, family="transcript", value_range="[0, 1]",
        variants={"lrw": Variant("lrw", {}, "share of clips read as their word (LRW, Chung & Zisserman 2016)",
                                 MEAN_OF_CLIP_MEANS)},
        default_variant="lrw", version="1",
        description="isolated-word accuracy of a lip reader (LRW)",
    ))


_register()
