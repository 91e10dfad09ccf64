"""`python -m backend.cli kb …`: bulk-import FAQs and run searches from files, as JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from backend.core.db import session_scope
from backend.knowledge import parsing, service, tasks
from backend.knowledge import repository as repo
from backend.knowledge.embeddings import EmbeddingError
from backend.knowledge.parsing import KnowledgeError


def _check_business(business_id: int) -> None:
    with session_scope() as session:
        if not repo.business_exists(session, business_id=business_id):
            raise KnowledgeError(f"business {business_id} does not exist", field="business")


def kb_import(business_id: int, path: Path) -> dict:
    """Upsert the FAQs of a .csv, .json or .jsonl file and embed them now; return the summary."""
    path = Path(path)
    ext = parsing.file_extension(path.name)
    if ext not in parsing.QA_TYPES:
        raise KnowledgeError(
            f"{path.name}: use a .csv, .json (a list of objects) or .jsonl file with question "
            "and answer columns",
            field="file",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(f"cannot read {path}: {exc.strerror}", field="file") from exc
    rows = parsing.read_qa_file(data, ext)
    _check_business(business_id)
    with session_scope() as session:
        summary = service.import_rows(session, business_id=business_id, rows=rows, enqueue=False)
    with session_scope() as session:
        pending = service.sources_to_embed(session, business_id=business_id)
    # The job's own code, run here so the command's result is final when it returns.
    tasks.embed_sources(pending)
    return asdict(summary)


def _read_queries(path: Path) -> Iterator[tuple[int, dict]]:
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise KnowledgeError(f"cannot read {path}: {exc.strerror}", field="queries") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KnowledgeError(
                f"{path.name} line {number}: not valid JSON ({exc.msg}); write one object per "
                'line, e.g. {"id": "q1", "query": "opening hours?"}',
                field="queries",
            ) from exc
        if not isinstance(item, dict) or not isinstance(item.get("query"), str):
            raise KnowledgeError(
                f'{path.name} line {number}: needs a "query" string', field="queries"
            )
        yield number, item


def kb_search(business_id: int, k: int, queries_path: Path) -> Iterator[dict]:
    """Search the business's knowledge for each query of a JSONL file; yield one result each."""
    if k < 1:
        raise KnowledgeError("--k must be at least 1", field="k")
    _check_business(business_id)
    with session_scope() as session:
        for _, item in _read_queries(Path(queries_path)):
            results = service.search(session, business_id=business_id, query=item["query"], k=k)
            out: dict = {"query": item["query"]}
            if "id" in item:
                out["id"] = item["id"]
            out["results"] = [
                {"external_id": hit.external_id, "score": round(hit.score, 6), "text": hit.text}
                for hit in results
            ]
            yield out


def _print(data: dict) -> None:
    print(json.dumps(data, default=str, ensure_ascii=False), flush=True)


def _fail(exc: Exception) -> int:
    message = " ".join(str(exc).split())
    print(f"error: {message}", file=sys.stderr)
    return 1


def cmd_kb_import(args: argparse.Namespace) -> int:
    """`kb import --business ID FILE`: print the import summary as one JSON line."""
    try:
        _print(kb_import(args.business, args.file))
    except (KnowledgeError, EmbeddingError) as exc:
        return _fail(exc)
    return 0


def cmd_kb_search(args: argparse.Namespace) -> int:
    """`kb search --business ID --k 5 --queries FILE`: print one JSON line per query."""
    try:
        for result in kb_search(args.business, args.k, args.queries):
            _print(result)
    except (KnowledgeError, EmbeddingError) as exc:
        return _fail(exc)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `kb import` and `kb search` commands to the CLI's subparsers."""
    kb = subparsers.add_parser("kb", help="the knowledge base").add_subparsers(
        dest="kb", required=True
    )
    imp = kb.add_parser(
        "import",
        help="upsert FAQs from a .csv, .json or .jsonl file (question, answer, optional id, "
        "category, language, group) and embed them; prints a JSON summary",
    )
    imp.add_argument("--business", type=int, required=True, help="id of the business")
    imp.add_argument("file", type=Path, help="the .csv, .json or .jsonl file")
    imp.set_defaults(func=cmd_kb_import)

    search = kb.add_parser(
        "search",
        help='search the knowledge for each query of a JSONL file ({"query": …, "id": …} '
        "per line); prints one JSON line of results per query",
    )
    search.add_argument("--business", type=int, required=True, help="id of the business")
    search.add_argument("--k", type=int, default=5, help="results per query (default: 5)")
    search.add_argument("--queries", type=Path, required=True, help="the JSONL file of queries")
    search.set_defaults(func=cmd_kb_search)
