"""``thgeval lipsync``: see what a sync score means.

For one generated clip (and optionally its ground truth): a figure (PNG and SVG) with the
mouth opening over time (pred vs GT), the audio envelope and spectrogram, the sync curve
over offsets (SyncNet's mean distance when its weights are present, else the weight-free
curve) and the per-frame confidence; and an MP4 with GT | pred side by side, the mouth
landmarks drawn, a cursor moving over a strip of the curves, and the audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..errors import MetricSkipped
from ..metrics.sample import GT, PRED, Sample, SampleOptions

MOUTH_OUTER = list(range(48, 60))
MOUTH_INNER = list(range(60, 68))


@dataclass
class LipsyncOutputs:
    png: Path
    svg: Path
    mp4: Path | None
    offset: int
    confidence: float
    source: str  # "syncnet" or "weight-free"


def _curves(sample: Sample, side: str, params_syncnet: dict) -> dict:
    """Everything plotted for one side: mouth opening, envelope, sync curve and confidence."""
    from ..metrics.avsync import mouth_features
    from ..metrics.syncnet import VARIANTS, _face, avsync_pass, syncnet_pass

    face = _face(sample, side)
    out = {"fps": sample.info(side).fps, "landmarks": np.asarray(face.landmarks),
           "open": mouth_features(face.landmarks, face.valid)[:, 0]}
    av = avsync_pass(sample, side)
    out["envelope"] = av.envelope
    try:
        r = syncnet_pass(sample, side, **dict(params_syncnet or VARIANTS["thgeval"].params))
        out.update(source="syncnet", offsets=r.shifts(), curve=r.curve, offset=r.offset, confidence=r.lse_c,
                   frame_conf=r.frame_conf_smooth, conf_label="SyncNet confidence (median − distance, medfilt 9)",
                   curve_label="SyncNet mean distance (min = LSE-D)", best=int(np.argmin(r.curve)),
                   conf_start=2)  # window v covers frames v … v+4: centre v + 2
    except MetricSkipped as e:
        k = int(np.argmax(av.curve))
        smooth = np.convolve(np.nan_to_num(av.frame_agreement), np.ones(9) / 9, mode="same")
        out.update(source="weight-free", offsets=av.offsets, curve=av.curve, offset=av.offset,
                   confidence=av.confidence, frame_conf=smooth, best=k, conf_start=0,
                   conf_label="weight-free per-frame agreement (9-frame mean)",
                   curve_label="weight-free sync curve (max = offset)", why_not_syncnet=str(e))
    return out


def _plot(pred: dict, gt: dict | None, audio: np.ndarray, sr: int, title: str, png: Path, svg: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..metrics.audio_features import log_mel

    fig, axes = plt.subplots(5, 1, figsize=(11, 12), constrained_layout=True)
    t = np.arange(len(pred["open"])) / pred["fps"]
    ax = axes[0]
    ax.plot(t, pred["open"], label="pred", color="C0")
    if gt is not None:
        ax.plot(np.arange(len(gt["open"])) / gt["fps"], gt["open"], label="GT", color="C1", alpha=0.8)
    ax.set(title="mouth opening (inner lips / inter-ocular distance)", xlabel="time (s)", ylabel="opening")
    ax.legend(loc="upper right")
    ax = axes[1]
    ax.plot(t, pred["envelope"], color="C2")
    ax.set(title="audio envelope: log energy 100–4000 Hz per video frame", xlabel="time (s)", ylabel="log energy")
    ax = axes[2]
    mel = log_mel(audio, sr) if audio.size else np.zeros((1, 40))
    ax.imshow(mel.T, origin="lower", aspect="auto", cmap="magma",
              extent=(0, len(mel) * 0.01, 0, mel.shape[1]))
    ax.set(title="spectrogram (40 log-mel bands, 10 ms hop)", xlabel="time (s)", ylabel="mel band")
    ax = axes[3]
    for d, name, color in ((pred, "pred", "C0"), (gt, "GT", "C1")):
        if d is None:
            continue
        ax.plot(d["offsets"], d["curve"], marker="o", ms=3, color=color,
                label=f"{name}: offset {d['offset']:+d}, conf {d['confidence']:.2f}")
        ax.axvline(d["offsets"][d["best"]], color=color, ls="--", lw=1)
    ax.set(title=pred["curve_label"] + " over offsets (positive: audio leads)", xlabel="offset (frames)",
           ylabel="distance" if pred["source"] == "syncnet" else "correlation (z)")
    ax.legend(loc="best")
    ax = axes[4]
    for d, name, color in ((pred, "pred", "C0"), (gt, "GT", "C1")):
        if d is None:
            continue
        fc = d["frame_conf"]
        ax.plot((np.arange(len(fc)) + d["conf_start"]) / d["fps"], fc, color=color, label=name)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(title=pred["conf_label"], xlabel="time (s)", ylabel="confidence")
    ax.legend(loc="upper right")
    fig.suptitle(title)
    fig.savefig(png, dpi=100)
    fig.savefig(svg)
    plt.close(fig)


def _strip(pred: dict, gt: dict | None, width: int, height: int = 120) -> np.ndarray:
    """An RGB image of the mouth-opening and envelope curves over the clip's time (for the MP4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    n = len(pred["open"])
    z = lambda x: (x - np.nanmin(x)) / max(np.nanmax(x) - np.nanmin(x), 1e-9)  # noqa: E731
    ax.plot(np.arange(n), z(pred["open"]), color="C0", lw=1.5)
    if gt is not None:
        g = np.interp(np.arange(n) / pred["fps"], np.arange(len(gt["open"])) / gt["fps"], gt["open"])
        ax.plot(np.arange(n), z(g), color="C1", lw=1.2, alpha=0.8)
    ax.fill_between(np.arange(n), 0, z(pred["envelope"]) * 0.9, color="C2", alpha=0.25)
    ax.set_xlim(0, max(n - 1, 1))
    ax.set_ylim(-0.05, 1.05)
    ax.axis("off")
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return cv2.resize(img, (width, height))


def _draw_mouth(frame: np.ndarray, lm: np.ndarray, scale: float) -> np.ndarray:
    out = frame.copy()
    if not np.all(np.isfinite(lm[48:68])):
        return out
    for idx, color in ((MOUTH_OUTER, (0, 255, 0)), (MOUTH_INNER, (255, 80, 80))):
        pts = np.round(lm[idx] * scale).astype(np.int32)
        cv2.polylines(out, [pts], True, color, 1, cv2.LINE_AA)
    return out


def _label(img: np.ndarray, text: str) -> np.ndarray:
    cv2.putText(img, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
    return img


def _video(sample: Sample, pred: dict, gt: dict | None, audio: np.ndarray, path: Path, height: int = 256) -> Path:
    from ..io import write_clip

    pf = sample.frames(PRED)
    gf = sample.frames(GT) if gt is not None else None
    sp = height / pf.shape[1]
    wp = int(round(pf.shape[2] * sp)) // 2 * 2
    wg = 0
    if gf is not None:
        sg = height / gf.shape[1]
        wg = int(round(gf.shape[2] * sg)) // 2 * 2
    width = wp + wg
    strip = _strip(pred, gt, width)
    n = len(pf)
    frames = []
    for i in range(n):
        panels = []
        if gf is not None:
            j = min(int(round(i / pred["fps"] * gt["fps"])), len(gf) - 1)
            g = cv2.resize(gf[j], (wg, height), interpolation=cv2.INTER_AREA)
            panels.append(_label(_draw_mouth(g, gt["landmarks"][j], (wg / gf.shape[2])), "GT"))
        p = cv2.resize(pf[i], (wp, height), interpolation=cv2.INTER_AREA)
        panels.append(_label(_draw_mouth(p, pred["landmarks"][i], wp / pf.shape[2]), "pred"))
        top = np.concatenate(panels, axis=1)
        s = strip.copy()
        x = int(round(i / max(n - 1, 1) * (width - 1)))
        cv2.line(s, (x, 0), (x, s.shape[0] - 1), (220, 0, 0), 2)
        frames.append(np.concatenate([top, s], axis=0))
    return write_clip(path, np.stack(frames), pred["fps"], audio=audio if audio.size else None)


def lipsync(pred: str | Path, out_dir: str | Path, gt: str | Path | None = None, *, video: bool = True,
            options: SampleOptions | None = None, face_fn: Callable | None = None) -> LipsyncOutputs:
    """Write ``NAME_lipsync.png/.svg`` (and ``NAME_lipsync.mp4``) for one clip into ``out_dir``.

    ``face_fn(path) -> FaceTrack`` replaces the face layer (tests, custom detectors).
    """
    pred, out_dir = Path(pred), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sample = Sample("pred", pred.stem, pred, gt, options=options or SampleOptions())
    if face_fn is not None:
        sample.media.face = lambda path, options: face_fn(path)  # noqa: E731
    audio, _ = sample.driving_audio()
    p = _curves(sample, PRED, {})
    g = _curves(sample, GT, {}) if gt is not None and sample.audio(GT) is not None else None
    if gt is not None and g is None:  # GT without audio: its mouth still plots, scored with pred's audio
        from ..metrics.avsync import mouth_features
        from ..metrics.syncnet import _face

        face = _face(sample, GT)

        g = dict(p, fps=sample.info(GT).fps, landmarks=np.asarray(face.landmarks),
                 open=mouth_features(face.landmarks, face.valid)[:, 0])
    stem = out_dir / f"{pred.stem}_lipsync"
    title = (f"{pred.name}" + (f" vs GT {Path(gt).name}" if gt else "")
             + f" — {p['source']}: offset {p['offset']:+d} frames, confidence {p['confidence']:.2f}")
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    _plot(p, g, audio, 16000, title, png, svg)
    mp4 = _video(sample, p, g, audio, stem.with_suffix(".mp4")) if video else None
    return LipsyncOutputs(png, svg, mp4, int(p["offset"]), float(p["confidence"]), p["source"])
