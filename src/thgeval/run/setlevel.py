"""Set-level rows (FID, KID, FVD, corpus WER, ...): one per method, from cached clip features.

Runs after every clip job: the GT side is every GT clip of the dataset with features, the
method's side every clip of that method with features. Clips without features (unreadable,
no face, skipped) are left out and counted in the row's notes, never silently.
"""

from __future__ import annotations

from ..errors import MetricSkipped
from .features import FeatureCache, FeatureList, feature_key
from .framepass import one_line
from .pairing import Pairing
from .store import FAILED, OK, SET_CLIP, SKIPPED, Row, Store, input_key


def set_rows(store: Store, pairing: Pairing, refs, cache: FeatureCache, sha, run_id: int, result,
             retry_failed: bool = False) -> None:
    """Compute (or reuse) each method's set-level row of each set metric; adds them to ``result``."""
    from .. import __version__

    for ref in refs:
        fkey = feature_key(ref)
        gt_all = [sha(p) for _, p in sorted(pairing.gt.items())]
        gt_have = [s for s in gt_all if cache.has(fkey, s)]
        for method in pairing.methods:
            preds = [sha(p.pred) for p in pairing.pairs if p.method == method and p.pred is not None]
            have = [s for s in preds if cache.has(fkey, s)]
            ikey = input_key(metric=ref.key, version=ref.version, params=ref.params(), features=fkey,
                             pred=sorted(have), gt=sorted(gt_have))
            old = store.get(method, SET_CLIP, ref.metric.name, ref.variant.name)
            if old is not None and old.input_key == ikey and not (
                old.status == FAILED and (retry_failed or old.tool_version != __version__)
            ):
                result.rows.append(old)
                result.reused += 1
                continue
            row = _compute(ref, method, ikey, cache, fkey, have, gt_have, len(preds), len(gt_all))
            store.put([row], run_id, __version__)
            result.rows.append(row)
            result.computed += 1


def _compute(ref, method, ikey, cache, fkey, have, gt_have, n_pred, n_gt) -> Row:
    m, v = ref.metric, ref.variant
    notes = []
    if len(have) < n_pred:
        notes.append(f"{n_pred - len(have)} of {n_pred} clips without features left out")
    if len(gt_have) < n_gt:
        notes.append(f"{n_gt - len(gt_have)} of {n_gt} GT clips without features left out")

    def row(value, status, reason="", n=0, extra=None, more=()):
        return Row(method, SET_CLIP, m.name, v.name, m.version, ikey, value, status, reason,
                   "; ".join(notes + list(more)), n, extra=dict(extra or {}))

    why = m.why_not(v.name)  # missing weights or modules: say the fix, not only the symptom
    if not have:
        return row(None, SKIPPED, f"cannot run here: {why}" if why else
                   "no clip of this method has features (see its per-clip rows)")
    if not gt_have:
        return row(None, SKIPPED, f"cannot run here: {why}" if why else
                   "no GT clip has features: the reference set is empty")
    try:
        sv = m.set_fn(FeatureList(cache, fkey, have), FeatureList(cache, fkey, gt_have), **ref.params())
    except MetricSkipped as e:
        return row(None, SKIPPED, one_line(e))
    except Exception as e:  # a metric bug must not end the run
        return row(None, FAILED, one_line(e))
    extra = {"n_clips": sv.n_clips, "n_gt_clips": len(gt_have), "n_items": sv.n_items, **sv.extra}
    value = float(sv.value)
    if value != value:
        return row(None, FAILED, "metric gave NaN", sv.n_items, extra, sv.notes)
    return row(value, OK, "", sv.n_items, extra, sv.notes)
