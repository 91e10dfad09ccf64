"""`kb import` and `kb search`: bulk FAQ import and batch search from files, as JSON lines."""

from __future__ import annotations

import argparse
import csv
import json

import pytest

from backend.knowledge import cli
from tests.backend.knowledge.bakery import FAQ, QUERIES


def _write_csv(path, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "question", "answer", "category"])
        writer.writeheader()
        writer.writerows(rows)


def _run(capsys, *argv: str) -> tuple[int, list[dict], str]:
    parser = argparse.ArgumentParser(prog="python -m backend.cli")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_import_embeds_now_and_search_answers_each_query(committed_owner, tmp_path, capsys):
    business = str(committed_owner.business_id)
    faq = tmp_path / "faq.csv"
    _write_csv(faq, FAQ)

    code, [summary], err = _run(capsys, "kb", "import", "--business", business, str(faq))
    assert (code, err) == (0, "")
    assert summary == {"created": 10, "updated": 0, "unchanged": 0, "failed": 0, "errors": []}

    queries = tmp_path / "queries.jsonl"
    lines = [json.dumps({"id": f"q{n}", "query": q}) for n, (_, q, _) in enumerate(QUERIES[:6])]
    queries.write_text("\n".join([*lines, "", json.dumps({"query": "Mko wapi?"})]) + "\n")
    code, results, err = _run(
        capsys, "kb", "search", "--business", business, "--k", "3", "--queries", str(queries)
    )
    assert (code, err) == (0, "")
    assert len(results) == 7
    for n, (_, query, expected) in enumerate(QUERIES[:6]):
        assert results[n]["id"] == f"q{n}"
        assert results[n]["query"] == query
        assert len(results[n]["results"]) == 3
        assert results[n]["results"][0]["external_id"] == expected
    assert "id" not in results[6]
    best = results[6]["results"][0]
    assert set(best) == {"external_id", "score", "text"}
    assert best["text"].startswith("You will find us at 12 Market Street")


def test_reimport_counts_unchanged_updated_and_failed_rows(committed_owner, tmp_path):
    faq = tmp_path / "faq.jsonl"
    rows = [dict(row) for row in FAQ[:3]]
    faq.write_text("\n".join(json.dumps(row) for row in rows))
    assert cli.kb_import(committed_owner.business_id, faq)["created"] == 3

    rows[1]["answer"] = "We deliver everywhere in town, free of charge."
    rows[2]["answer"] = ""
    faq.write_text("\n".join(json.dumps(row) for row in rows))
    summary = cli.kb_import(committed_owner.business_id, faq)
    assert summary == {
        "created": 0,
        "updated": 1,
        "unchanged": 1,
        "failed": 1,
        "errors": ["row 3: missing answer"],
    }
    [hit] = next(
        cli.kb_search(committed_owner.business_id, 1, _queries(tmp_path, "free delivery in town"))
    )["results"]
    assert (hit["external_id"], hit["text"]) == (
        "delivery",
        "We deliver everywhere in town, free of charge.",
    )


def _queries(tmp_path, *queries: str):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps({"query": q}) for q in queries))
    return path


def test_import_leaves_every_source_ready(committed_owner, tmp_path):
    faq = tmp_path / "faq.json"
    faq.write_text(json.dumps(FAQ[:2]))
    cli.kb_import(committed_owner.business_id, faq)
    results = next(cli.kb_search(committed_owner.business_id, 5, _queries(tmp_path, "hours")))
    assert len(results["results"]) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["kb", "import", "--business", "999999", "FAQ"], "error: business 999999 does not exist"),
        (["kb", "import", "--business", "1", "faq.xlsx"], "error: faq.xlsx: use a .csv, .json"),
        (["kb", "import", "--business", "1", "missing.csv"], "error: cannot read"),
        (["kb", "import", "--business", "1", "BAD"], "error: The CSV file needs a 'question'"),
        (["kb", "search", "--business", "1", "--queries", "QBAD"], "error: q.jsonl line 2"),
        (["kb", "search", "--business", "1", "--k", "0", "--queries", "Q"], "error: --k must"),
    ],
)
def test_errors_exit_1_with_one_line_on_stderr(
    committed_owner, tmp_path, capsys, monkeypatch, argv, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FAQ").write_text("")
    _write_csv(tmp_path / "faq.csv", FAQ[:1])
    (tmp_path / "BAD").write_text("")
    (tmp_path / "bad.csv").write_text("q,a\n1,2\n")
    (tmp_path / "q.jsonl").write_text('{"query": "hours"}\nnot json\n')
    (tmp_path / "good.jsonl").write_text('{"query": "hours"}\n')
    business = str(committed_owner.business_id)
    argv = [
        {"FAQ": "faq.csv", "BAD": "bad.csv", "QBAD": "q.jsonl", "Q": "good.jsonl"}.get(a, a)
        for a in argv
    ]
    argv = [business if a == "1" else a for a in argv]
    code, _, err = _run(capsys, *argv)
    assert code == 1
    assert err.startswith(message)
    assert err.count("\n") == 1
