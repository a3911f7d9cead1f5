"""Every dataset adapter on a miniature tree in its layout (synthetic names, real clips from
../shared/media linked in), with planted problems the report must name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from thgeval.datasets import adapters, get_adapter, open_dataset
from thgeval.errors import ConfigError
from _bench_util import feeds_bench

VOX = ["00002", "00010", "00015", "00086", "00098", "00104"]


def link(dst: Path, src: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.symlink_to(src)
    return dst


def kinds(report) -> set[tuple[str, str]]:
    return {(p.kind, p.id) for p in report.problems}


def synthetic_clip(path: Path, size: int, fps: float = 25, n: int = 30, audio: bool = True) -> Path:
    from thgeval.io import write_clip

    rng = np.random.default_rng(1)
    frames = rng.integers(0, 255, (n, size, size, 3), dtype=np.uint8)
    sound = 0.1 * np.sin(np.arange(int(16000 * n / fps)) / 9.0).astype(np.float32) if audio else None
    return write_clip(path, frames, fps, audio=sound)


def test_registry_lists_every_adapter():
    names = [a.name for a in adapters()]
    assert names == ["grid", "lrs2", "lrs3", "lrw", "voxceleb2", "fomm-vox", "hdtf", "mead", "crema-d"]
    for a in adapters():
        assert a.title and a.layout and a.licence and a.citation and a.default_split in a.splits
    assert not get_adapter("lrs2").ships_ids and not get_adapter("lrw").ships_ids
    with pytest.raises(ConfigError, match="did you mean 'lrs2'"):
        get_adapter("lrs22")


@pytest.mark.media
def test_lrs2(media, tmp_path):
    main = tmp_path / "mvlrs_v1" / "main"
    link(main / "5535415699068794046" / "00001.mp4", media / "voxceleb2" / "00002.mp4")
    (main / "5535415699068794046" / "00001.txt").write_text("Text:  WHEN YOU'RE COOKING CHIPS AT HOME\nConf:  4\n")
    synthetic_clip(main / "6330311066473698535" / "00011.mp4", 160)
    (main / "6330311066473698535" / "00011.txt").write_text("Text:  THE DISH\n\nWORD START END ASDSCORE\n")
    link(main / "6330311066473698535" / "00012.mp4", media / "voxceleb2" / "00010.mp4")  # no .txt
    (tmp_path / "test.txt").write_text(
        "5535415699068794046/00001 NF\n6330311066473698535/00011 MV\n6330311066473698535/00012\n6330311066473698535/00099 NF\n")
    with pytest.raises(ConfigError, match="not redistributable"):
        open_dataset("lrs2", tmp_path, "val")
    rep = open_dataset("lrs2", tmp_path, "test", probe=True)
    feeds_bench(tmp_path, rep, "lrs2", "test", probe=True)
    assert rep.expected == 4 and rep.found == 3
    by = rep.by_id()
    assert by["5535415699068794046/00001"].transcript == "WHEN YOU'RE COOKING CHIPS AT HOME"
    assert by["5535415699068794046/00001"].metadata["flag"] == "NF"
    assert by["6330311066473698535/00011"].transcript == "THE DISH"
    assert by["6330311066473698535/00012"].transcript is None
    assert kinds(rep) == {("missing", "6330311066473698535/00099"), ("no-transcript", "6330311066473698535/00012"),
                          ("size", "5535415699068794046/00001"), ("size", "6330311066473698535/00012")}
    assert any("1243" in n for n in rep.notes)
    # the same tree given as mvlrs_v1 with an explicit list
    rep2 = open_dataset("lrs2", tmp_path / "mvlrs_v1", "test", list=str(tmp_path / "test.txt"))
    assert rep2.found == 3


@pytest.mark.media
def test_lrs3(media, tmp_path):
    for i, clip in enumerate(VOX[:3]):
        v = link(tmp_path / "test" / f"talk{i}AAAAAA" / "00001.mp4", media / "voxceleb2" / f"{clip}.mp4")
        if i < 2:
            v.with_suffix(".txt").write_text(f"Text:  SOME WORDS {i}\nConf:  3\nRef:   x\n")
    (tmp_path / "test" / "broken").mkdir()
    (tmp_path / "test" / "broken" / "00001.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    (tmp_path / "test" / "broken" / "00001.txt").write_text("Text:  CUT SHORT\n")
    rep = open_dataset("lrs3", tmp_path, "test", probe=True)
    feeds_bench(tmp_path, rep, "lrs3", "test", probe=True)
    assert rep.expected is None  # no list: every clip of the folder
    assert kinds(rep) == {("no-transcript", "talk2AAAAAA/00001"), ("unreadable", "broken/00001")}
    assert rep.found == 3 and rep.by_id()["talk1AAAAAA/00001"].transcript == "SOME WORDS 1"
    assert rep.by_id()["talk0AAAAAA/00001"].speaker == "talk0AAAAAA"
    lst = tmp_path / "test_list.txt"
    lst.write_text("test/talk0AAAAAA/00001\ntalk9AAAAAA/00004\n")
    rep = open_dataset("lrs3", tmp_path, "test", list=str(lst))
    assert rep.expected == 2 and kinds(rep) == {("missing", "talk9AAAAAA/00004")}
    with pytest.raises(ConfigError, match="split folder"):
        open_dataset("lrs3", tmp_path, "trainval")


@pytest.mark.media
def test_lrw(media, tmp_path):
    data = tmp_path / "lipread_mp4"
    link(data / "ABOUT" / "test" / "ABOUT_00001.mp4", media / "voxceleb2" / "00002.mp4")
    link(data / "ABOUT" / "test" / "ABOUT_00002.mp4", media / "voxceleb2" / "00010.mp4")
    link(data / "ABOUT" / "test" / "ABOUT_00077.mp4", media / "voxceleb2" / "00015.mp4")
    link(data / "ABOUT" / "val" / "ABOUT_00001.mp4", media / "voxceleb2" / "00015.mp4")
    (data / "WORLD" / "test").mkdir(parents=True)
    rep = open_dataset("lrw", tmp_path, "test", probe=True)
    feeds_bench(tmp_path, rep, "lrw", "test", probe=True)
    assert rep.expected == 100 and rep.found == 2
    assert ("unexpected", "ABOUT/test/ABOUT_00077") in kinds(rep)
    assert len(rep.problems_of("missing")) == 48 + 50
    assert {(p.kind, p.id) for p in rep.problems if p.kind in ("size", "frames")} == {
        ("size", "ABOUT/test/ABOUT_00001"), ("frames", "ABOUT/test/ABOUT_00001"),
        ("size", "ABOUT/test/ABOUT_00002"), ("frames", "ABOUT/test/ABOUT_00002")}
    assert all(r.transcript == "ABOUT" for r in rep.records)
    assert any("500" in n for n in rep.notes) and any("word_acc" in n for n in rep.notes)
    train = open_dataset("lrw", tmp_path, "train")
    assert train.expected is None and train.found == 0


@pytest.mark.media
def test_voxceleb2(media, tmp_path):
    mp4 = tmp_path / "test" / "mp4"
    for i, clip in enumerate(VOX):
        link(mp4 / f"id0000{i // 2}" / f"yt{i % 2}xxxxxxxx" / "00001.mp4", media / "voxceleb2" / f"{clip}.mp4")
    link(mp4 / "id09999" / "gridclipxxx" / "00001.mp4", media / "grid" / "bbaf2n.mpg")  # 360×288
    link(tmp_path / "test" / "aac" / "id00000" / "yt0xxxxxxxx" / "00001.m4a", media / "voxceleb2" / "00002.mp4")
    meta = tmp_path / "vox2_meta.csv"
    meta.write_text("VoxCeleb2 ID ,VGGFace2 ID ,Gender ,Set \nid00000 ,n1 ,m ,test \nid00001 ,n2 ,f ,test \n"
                    "id00002 ,n3 ,f ,test \nid09999 ,n4 ,m ,dev \nid00123 ,n5 ,m ,test \n")
    rep = open_dataset("voxceleb2", tmp_path, "test", probe=True, meta=str(meta))
    feeds_bench(tmp_path, rep, "voxceleb2", "test", probe=True, meta=str(meta))
    assert rep.found == 7 and rep.expected is None
    assert kinds(rep) == {("unexpected", "id09999"), ("missing", "id00123"), ("size", "id09999/gridclipxxx/00001")}
    r = rep.by_id()["id00000/yt0xxxxxxxx/00001"]
    assert r.audio.suffix == ".m4a" and r.speaker == "id00000" and r.fps == 25.0
    assert rep.by_id()["id00001/yt0xxxxxxxx/00001"].audio.suffix == ".mp4"
    assert any("36237" in n for n in rep.notes)


@pytest.mark.media
def test_fomm_vox(media, tmp_path):
    from thgeval.io import probe

    n = {c: probe(media / "voxceleb2" / f"{c}.mp4").frame_count for c in VOX[:2]}
    rows = ["video_id,start,end,bbox,fps,width,height,partition,person_id",
            f"AAAAAAAAAAA,1000,{1000 + n['00002']},1-2-3-4,25,1280,720,test,id10280",
            f"BBBBBBBBBBB,5,{5 + n['00010'] + 40},1-2-3-4,25,1280,720,test,id10281",  # frame count off
            "CCCCCCCCCCC,10,110,1-2-3-4,25,1280,720,test,id10282",  # file missing
            "DDDDDDDDDDD,10,110,1-2-3-4,25,1280,720,test,id10283",  # PNG folder
            "EEEEEEEEEEE,10,110,1-2-3-4,25,1280,720,train,id10001"]
    meta = tmp_path / "vox-metadata.csv"
    meta.write_text("\n".join(rows) + "\n")
    test = tmp_path / "test"
    link(test / f"id10280#AAAAAAAAAAA#001000#{1000 + n['00002']:06d}.mp4", media / "voxceleb2" / "00002.mp4")
    link(test / f"id10281#BBBBBBBBBBB#000005#{5 + n['00010'] + 40:06d}.mp4", media / "voxceleb2" / "00010.mp4")
    (test / "id10283#DDDDDDDDDDD#000010#000110").mkdir()
    link(test / "id10999#ZZZZZZZZZZZ#000001#000002.mp4", media / "voxceleb2" / "00015.mp4")
    rep = open_dataset("fomm-vox", tmp_path, "test", probe=True, size=224)
    feeds_bench(tmp_path, rep, "fomm-vox", "test", probe=True, size=224)
    assert rep.expected == 4 and rep.found == 2
    ks = kinds(rep)
    assert ks == {("frames", f"id10281#BBBBBBBBBBB#000005#{5 + n['00010'] + 40:06d}"),
                  ("missing", "id10282#CCCCCCCCCCC#000010#000110"),
                  ("unreadable", "id10283#DDDDDDDDDDD#000010#000110"),
                  ("unexpected", "id10999#ZZZZZZZZZZZ#000001#000002")}
    r = rep.by_id()[f"id10280#AAAAAAAAAAA#001000#{1000 + n['00002']:06d}"]
    assert r.speaker == "id10280" and r.audio is None and r.metadata["start"] == 1000
    # default size 256: the 224×224 clips are reported
    rep256 = open_dataset("fomm-vox", tmp_path, "test", probe=True)
    assert len(rep256.problems_of("size")) == 2


@pytest.mark.media
def test_hdtf(media, tmp_path):
    meta = tmp_path / "HDTF_dataset"
    meta.mkdir()
    (meta / "RD_annotion_time.txt").write_text("Radio1.mp4 00:20-01:35\nRadio11.mp4 00:30-01:00 01:30-02:30\n")
    (meta / "RD_resolution.txt").write_text("Radio1.mp4 720\nRadio11.mp4 720\n")
    (meta / "RD_crop_wh.txt").write_text("Radio1_0.mp4 483 390 0 390\nRadio11_0.mp4 412 599 0 599\n")
    (meta / "RD_crop_ratio.txt").write_text("Radio1_0.mp4 1.0\nRadio11_0.mp4 1.2\n")
    (meta / "RD_video_url.txt").write_text("Radio1 https://www.youtube.com/watch?v=x\nRadio11 https://y\n")
    (meta / "WRA_annotion_time.txt").write_text("AdamSchiff.mp4 00:05-00:35\nNoRes.mp4 00:00-00:10\n")
    (meta / "WRA_resolution.txt").write_text("AdamSchiff.mp4 1080\n")
    (meta / "WRA_crop_wh.txt").write_text("AdamSchiff_0.mp4 1 2 3 2\nNoRes_0.mp4 1 2 3 2\n")
    clips = tmp_path / "clips"
    link(clips / "RD_Radio1_000.mp4", media / "voxceleb2" / "00002.mp4")
    link(clips / "RD_Radio11_000.mp4", media / "voxceleb2" / "00010.mp4")
    link(clips / "RD_Radio11_001.mp4", media / "voxceleb2" / "00015.mp4")  # no crop: excluded
    synthetic_clip(clips / "WRA_AdamSchiff_000.mp4", 64, audio=False)
    link(clips / "Radio1_0.mp4", media / "voxceleb2" / "00086.mp4")  # MRzzm's naming, not the flat one
    rep = open_dataset("hdtf", tmp_path, "all", probe=True, metadata=str(meta))
    feeds_bench(tmp_path, rep, "hdtf", "all", probe=True, metadata=str(meta))
    assert kinds(rep) == {("excluded", "RD_Radio11_001"), ("excluded", "WRA_NoRes_000"),
                          ("bad-name", "Radio1_0"), ("no-audio", "WRA_AdamSchiff_000")}
    assert rep.expected == 3 and rep.found == 3
    r = rep.by_id()["RD_Radio11_000"]
    assert r.speaker == "RD_Radio11" and r.metadata["start_s"] == 30 and r.metadata["crop_wh"] == [412, 599, 0, 599]
    lst = tmp_path / "sadtalker_test.txt"
    lst.write_text("RD_Radio1_000\nWRA_KatieHill_000.mp4\n")
    rep = open_dataset("hdtf", tmp_path, "list", list=str(lst), metadata=str(meta))
    assert rep.expected == 2 and rep.found == 1 and ("missing", "WRA_KatieHill_000") in kinds(rep)
    with pytest.raises(ConfigError, match="no official split"):
        open_dataset("hdtf", tmp_path, "list")


@pytest.mark.media
def test_mead(media, tmp_path):
    for actor, emo, lvl, utt, clip in [("M003", "angry", 3, "001", "00002"), ("M003", "neutral", 1, "002", "00010"),
                                       ("M030", "happy", 2, "014", "00015"), ("W009", "sad", 1, "030", "00086"),
                                       ("M005", "fear", 1, "001", "00098")]:
        link(tmp_path / actor / "video" / "front" / emo / f"level_{lvl}" / f"{utt}.mp4",
             media / "voxceleb2" / f"{clip}.mp4")
    link(tmp_path / "M003" / "audio" / "angry" / "level_3" / "001.m4a", media / "voxceleb2" / "00002.mp4")
    link(tmp_path / "M003" / "video" / "front" / "angry" / "level_3" / "clip.mp4", media / "voxceleb2" / "00002.mp4")
    link(tmp_path / "M003" / "video" / "left_30" / "angry" / "level_3" / "001.mp4", media / "voxceleb2" / "00104.mp4")
    tr = tmp_path / "mead_text.txt"
    tr.write_text("M003_level_3_angry_001 SHE HAD YOUR DARK SUIT IN GREASY WASH WATER ALL YEAR\n"
                  "M030_hap_2_014 ARE YOUR GRADES HIGHER OR LOWER THAN NANCY'S\n")
    rep = open_dataset("mead", tmp_path, "test", transcripts=str(tr), probe=True)
    feeds_bench(tmp_path, rep, "mead", "test", probe=True, transcripts=str(tr))
    assert sorted(rep.by_id()) == ["M003_ang_3_001", "M003_neu_1_002", "M030_hap_2_014", "W009_sad_1_030"]
    assert kinds(rep) == {("missing", "W015"), ("bad-name", "clip"), ("no-transcript", "M003_neu_1_002"),
                          ("no-transcript", "W009_sad_1_030")}
    r = rep.by_id()["M003_ang_3_001"]
    assert r.transcript.startswith("SHE HAD") and r.audio.suffix == ".m4a" and r.metadata["alias"] == "M003_level_3_angry_001"
    assert rep.by_id()["M030_hap_2_014"].transcript.endswith("NANCY'S")
    train = open_dataset("mead", tmp_path, "train")
    assert [r.id for r in train.records] == ["M005_fea_1_001"]
    side = open_dataset("mead", tmp_path, "all", view="left_30", speakers="M003")
    assert [r.id for r in side.records] == ["M003_ang_3_001"]
    with pytest.raises(ConfigError, match="unknown view"):
        open_dataset("mead", tmp_path, "test", view="side")


@pytest.mark.media
def test_crema_d(media, tmp_path):
    flash = tmp_path / "VideoFlash"
    link(flash / "1001_DFA_ANG_XX.flv", media / "voxceleb2" / "00002.mp4")
    link(flash / "1001_IEO_HAP_HI.flv", media / "voxceleb2" / "00010.mp4")
    link(flash / "1076_MTI_NEU_XX.flv", media / "voxceleb2" / "00015.mp4")  # broken per README
    link(flash / "1037_DFA_ANG_XX.flv", media / "carphone" / "pristine.mp4")  # an old copy without audio
    link(tmp_path / "AudioWAV" / "1001_DFA_ANG_XX.wav", media / "voxceleb2" / "00002.mp4")
    (tmp_path / "SentenceFilenames.csv").write_text(
        '"Stimulus_Number","Filename"\n1,"1001_DFA_ANG_XX"\n2,"1001_IEO_HAP_HI"\n3,"1076_MTI_NEU_XX"\n'
        '4,"1091_WSI_FEA_XX"\n5,"1037_DFA_ANG_XX"\n')
    rep = open_dataset("crema-d", tmp_path, "all", probe=True)
    feeds_bench(tmp_path, rep, "crema-d", "all", probe=True)
    assert rep.expected == 5 and rep.found == 3
    assert kinds(rep) == {("excluded", "1076_MTI_NEU_XX"), ("missing", "1091_WSI_FEA_XX"),
                          ("no-audio", "1037_DFA_ANG_XX")}
    by = rep.by_id()
    assert by["1001_DFA_ANG_XX"].transcript == "Don't forget a jacket" and by["1001_DFA_ANG_XX"].audio.suffix == ".wav"
    assert by["1001_IEO_HAP_HI"].transcript == "It's eleven o'clock"
    assert by["1001_IEO_HAP_HI"].metadata["emotion"] == "happy" and by["1001_IEO_HAP_HI"].metadata["level"] == "high"
    assert "2020" in by["1037_DFA_ANG_XX"].metadata["note"] and by["1037_DFA_ANG_XX"].audio is None


@pytest.mark.media
def test_report_serialises_and_probe_limit(media, tmp_path):
    for i, clip in enumerate(VOX[:3]):
        link(tmp_path / "test" / "mp4" / "id00001" / f"yt{i}" / "00001.mp4", media / "voxceleb2" / f"{clip}.mp4")
    rep = open_dataset("voxceleb2", tmp_path, "test")
    assert not rep.probed and "not probed" in rep.summary()
    json.dumps([r.as_dict() for r in rep.records])
    rep.probe(limit=1)
    assert not rep.probed and any("first 1 of 3" in n for n in rep.notes) and rep.found == 3


@pytest.mark.media
def test_cli(media, tmp_path, capsys):
    from thgeval.cli import main

    assert main(["datasets", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed][:2] == ["grid", "lrs2"] and "list" in listed[1]["options"]
    link(tmp_path / "test" / "mp4" / "id00001" / "yt0" / "00001.mp4", media / "voxceleb2" / "00002.mp4")
    (tmp_path / "list.txt").write_text("id00001/yt0/00001\nid00001/yt0/00002\n")
    assert main(["datasets", "voxceleb2", str(tmp_path), "-o", f"list={tmp_path / 'list.txt'}", "--probe"]) == 1
    out = capsys.readouterr().out
    assert "1 clips found of 2 expected" in out and "missing:" in out
    assert main(["datasets", "voxceleb2", str(tmp_path), "-o", "lst=x"]) == 2
    assert "unknown option" in capsys.readouterr().err


@pytest.mark.media
def test_bench_hook(media, tmp_path):
    """`thgeval bench` calls datasets.load(adapter, root, split=..., **options) and iterates records."""
    from thgeval import datasets

    link(tmp_path / "test" / "mp4" / "id00001" / "yt0" / "00001.mp4", media / "voxceleb2" / "00002.mp4")
    rep = datasets.load("voxceleb2", tmp_path, split="test")
    records = list(rep)
    assert len(rep) == 1 and records[0].id == "id00001/yt0/00001" and records[0].video.is_file()
