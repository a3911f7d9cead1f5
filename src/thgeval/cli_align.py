"""The ``align`` command (parse, call :func:`thgeval.face.align_clips`, print)."""

from __future__ import annotations

import sys


def add_align_parser(sub) -> None:
    a = sub.add_parser("align", help="write aligned face crops of clips (a GT/pred pair shares one transform)")
    a.add_argument("inputs", nargs="+", metavar="IN", help="clips, or folders of clips, to align")
    a.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder (<name>.mp4 each; GT crops in DIR/gt)")
    a.add_argument("--mode", choices=("similarity", "box"), default="similarity",
                   help="similarity: landmarks to a canonical template; box: SyncNet-style box crop (default: %(default)s)")
    a.add_argument("--size", type=int, default=256, help="side of the square crops, pixels (default: %(default)s)")
    a.add_argument("--gt", metavar="GT", help="ground-truth clip, or folder of clips paired by name: the "
                   "transform is computed on GT and applied to both, so pixels correspond")
    a.add_argument("--detector", choices=("hog", "cnn"), default="hog", help="face detector (default: %(default)s)")
    a.add_argument("--workers", type=int, metavar="N", help="processes (default: every core)")


def cmd_align(args) -> int:
    from .cli import EXIT_CLIP_FAILED, EXIT_OK, EXIT_USAGE, _err
    from .face import FaceSettings
    from .face.aligner import align_clips

    if args.size < 16:
        _err(f"--size must be at least 16 pixels; got {args.size}")
        return EXIT_USAGE
    results = align_clips(args.inputs, args.out, gt=args.gt, mode=args.mode, size=args.size,
                          settings=FaceSettings(detector=args.detector), workers=args.workers)
    failed = 0
    for src, r in results:
        if isinstance(r, str):
            failed += 1
            print(f"failed: {r}", file=sys.stderr)
            continue
        fit = f", template fit {r.residual_px:.1f} px" if r.residual_px is not None else ""
        gt = f" (+ GT {r.gt_output})" if r.gt_output else ""
        print(f"{src} → {r.output}{gt}: {r.valid_frames}/{r.frames} frames with a face{fit}")
        for n in r.notes:
            print(f"  note: {n}")
    return EXIT_CLIP_FAILED if failed else EXIT_OK
