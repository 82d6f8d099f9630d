"""The extract command, the corpus loaders (odd-order download-and-verify on an archive made here)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from ilya.core.errors import IlyaError
from ilya.gamepad.corpus import fetch_archive, fetch_odd_order, load_corpus


def _ilya(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ilya", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "ILYA_PROGRESS": "0", **(env or {})})


def _archive(tmp: Path) -> tuple[Path, str]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in {"odd-order-x/theories/BGsection1.v": "Lemma one : 1 = 1.\nProof. reflexivity. Qed.\n",
                           "odd-order-x/theories/PFsection1.v": "Lemma two : 2 = 2.\nProof. reflexivity. Qed.\n"
                           }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = tmp / "odd-order.tar.gz"
    path.write_bytes(buf.getvalue())
    return path, hashlib.sha256(buf.getvalue()).hexdigest()


def test_odd_order_loader_verifies_the_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive, sha = _archive(tmp_path)
    with pytest.raises(IlyaError, match="sha256 mismatch"):
        fetch_archive(archive.as_uri(), "0" * 64, tmp_path / "bad")
    assert not (tmp_path / "bad" / "src").exists()  # nothing unverified is unpacked
    root = fetch_odd_order(tmp_path / "cache", sha256=sha, url=archive.as_uri())
    assert sorted(p.name for p in (root / "theories").glob("*.v")) == ["BGsection1.v", "PFsection1.v"]
    archive.unlink()  # a verified unpacked copy is reused without the network
    monkeypatch.setenv("ILYA_ODD_ORDER_URL", archive.as_uri())
    corpus = load_corpus("odd-order", cache_dir=tmp_path / "cache", sha256=sha)
    assert [p.name for p in corpus.files] == ["BGsection1.v", "PFsection1.v"]
    with pytest.raises(IlyaError, match="sha256"):
        fetch_odd_order(tmp_path / "other", sha256=None, url=archive.as_uri())


def test_mathcomp_corpus_is_found() -> None:
    corpus = load_corpus("mathcomp")
    rels = [corpus.rel(p) for p in corpus.files]
    assert "ssreflect/ssrnat.v" in rels and "algebra/ssralg.v" in rels and len(rels) > 80
    assert rels.index("ssreflect/ssrnat.v") < rels.index("algebra/ssralg.v")


def test_extract_command_end_to_end(tmp_path: Path) -> None:
    src = tmp_path / "dev"
    src.mkdir()
    (src / "a.v").write_text("Lemma a : True.\nProof. exact I. Qed.\nLemma broken : False.\nProof. exact I. Qed.\n")
    out = tmp_path / "ds"
    proc = _ilya("gamepad", "extract", "--corpus", str(src), "--out", str(out), "--workers", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout)
    assert m["lemmas"] == 1 and m["lemmas_failed"] == 1 and m["steps"] == 1
    assert re.search(r"1 lemmas failed \(50\.00%", proc.stderr)
    fail = json.loads((out / "failures.jsonl").read_text().splitlines()[0])
    assert fail["file"] == "a.v" and fail["line"] == 4 and "exact I" in fail["sentence"]


def test_missing_coq_is_one_line_from_the_cli(tmp_path: Path) -> None:
    (tmp_path / "a.v").write_text("Lemma a : True.\nProof. exact I. Qed.\n")
    proc = _ilya("gamepad", "extract", "--corpus", str(tmp_path), "--out", str(tmp_path / "o"),
                 env={"ILYA_COQTOP": "/nonexistent/coqtop"})
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1
    assert lines[0] == "ilya: error: Coq is not installed (install it: apt-get install coq libcoq-mathcomp)"
