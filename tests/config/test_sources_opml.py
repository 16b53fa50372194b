"""`servicebot sources export|import`: OPML out, OPML in as proposed config, SSRF refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from digests.opml import OpmlError, export_opml, parse_opml, source_name
from tests.config.test_cli import ROOT, servicebot, shipped_config

OPML = ROOT / "tests/data/opml/reader-export.opml"


def _config(tmp_path: Path) -> Path:
    return shipped_config(
        tmp_path,
        **{
            "network.allow_hosts": ["rsshub.internal"],
            "sources": [
                {"name": "already", "kind": "feed", "url": "http://127.0.0.1:9/already.xml"},
                {"name": "weather", "kind": "weather", "url": "https://api.open-meteo.com/v1/forecast",
                 "latitude": 39.03, "longitude": 115.93},
                {"name": "xa-jobs", "kind": "jobs", "url": "https://rc.example-xiongan.cn/jobs.rss"},
            ],
            "digests.morning.sections": [{"key": "policy", "sources": ["already"]}],
            "digests.tea.sections": [{"key": "jobs", "sources": ["xa-jobs"]}],
        },
    )


def test_import_proposes_new_feeds_and_refuses_what_the_ssrf_guard_refuses(tmp_path: Path) -> None:
    done = servicebot("sources", "import", str(OPML), "--config", str(_config(tmp_path)))
    assert done.returncode == 1, done.stderr  # something was refused
    proposed = yaml.safe_load(done.stdout)["sources"]
    assert proposed == [
        {"name": "rsshub", "kind": "feed",
         "url": "http://rsshub.internal:1200/wechat/wechat2rss/abc123"},  # its host is in allow_hosts
        {"name": "xinhua-politics", "kind": "feed", "url": "http://180.76.76.76/rss/politics.xml"},
    ]
    assert "# 雄安发布（RSSHub）" in done.stdout
    refused = [line for line in done.stderr.splitlines() if line.startswith("refused:")]
    assert len(refused) == 4, done.stderr
    for url in ("192.168.1.1", "169.254.169.254", "localhost", "file:///etc/passwd"):
        assert any(url in line for line in refused), (url, refused)
    assert "non-public address" in done.stderr and "only http and https" in done.stderr
    assert "already a source (already)" in done.stderr
    # what it proposes is valid config: pasted in, check accepts it
    data = yaml.safe_load(_config(tmp_path).read_text(encoding="utf-8"))
    data["sources"] += proposed
    (tmp_path / "merged.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert servicebot("check", "--config", str(tmp_path / "merged.yaml")).returncode in (0, 1)


def test_export_writes_the_feed_sources_and_import_reads_them_back(tmp_path: Path) -> None:
    config = _config(tmp_path)
    out = tmp_path / "sources.opml"
    done = servicebot("sources", "export", "--out", str(out), "--config", str(config))
    assert done.returncode == 0, done.stderr
    entries = parse_opml(out.read_bytes())
    assert [(e.title, e.xml_url) for e in entries] == [
        ("already", "http://127.0.0.1:9/already.xml"), ("xa-jobs", "https://rc.example-xiongan.cn/jobs.rss")]
    again = servicebot("sources", "import", str(out), "--config", str(config))
    assert again.returncode == 0 and yaml.safe_load(again.stdout)["sources"] == []  # nothing new


def test_a_broken_or_hostile_opml_is_one_clear_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.opml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>', encoding="utf-8")
    done = servicebot("sources", "import", str(bomb), "--config", str(_config(tmp_path)))
    assert done.returncode == 2 and "refused" in done.stderr and "Traceback" not in done.stderr
    broken = tmp_path / "broken.opml"
    broken.write_text("<opml><body><outline xmlUrl='http://a/'></body>", encoding="utf-8")
    done = servicebot("sources", "import", str(broken), "--config", str(_config(tmp_path)))
    assert done.returncode == 2 and f"{broken}:1:" in done.stderr and "not well-formed" in done.stderr
    missing = servicebot("sources", "import", str(tmp_path / "nope.opml"), "--config", str(_config(tmp_path)))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_opml_helpers() -> None:
    text = export_opml([("a&b", "feed", "http://x.example/?a=1&b=2"), ("w", "weather", "http://w")], title="t<")
    assert [(e.title, e.xml_url) for e in parse_opml(text.encode())] == [("a&b", "http://x.example/?a=1&b=2")]
    with pytest.raises(OpmlError, match="expected an <opml> root"):
        parse_opml(b"<rss/>")
    assert source_name("雄安发布", "https://mp.example.cn/s/x", set()) == "mp-example-cn-s-x"
    assert source_name("Xinhua", "http://a/", {"xinhua"}) == "xinhua-2"
