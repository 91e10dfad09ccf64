"""Reading uploads: documents to text, Q&A files to rows, and the errors people see."""

from __future__ import annotations

import itertools
import json

import pytest

from backend.knowledge import chunking, parsing
from backend.knowledge.parsing import KnowledgeError
from tests.backend.knowledge.files import blank_pdf, docx_file, text_pdf


def test_text_files_decode_utf8_with_bom_and_old_windows_encodings():
    assert parsing.extract_text("\ufeffCafé au lait\r\n".encode(), ".txt") == "Café au lait"
    assert parsing.extract_text("Crème brûlée".encode("cp1252"), ".txt") == "Crème brûlée"
    assert parsing.extract_text(b"# Menu\n\n\n\n- bread  \n", ".md") == "# Menu\n\n- bread"


def test_pdf_text_layer_is_extracted():
    data = text_pdf("Sunrise Bakery price list", "Sourdough loaf (800 g): 6 dollars")
    assert parsing.extract_text(data, ".pdf") == (
        "Sunrise Bakery price list\nSourdough loaf (800 g): 6 dollars"
    )


def test_pdf_without_text_layer_says_it_is_probably_scanned():
    with pytest.raises(KnowledgeError) as error:
        parsing.extract_text(blank_pdf(), ".pdf")
    assert error.value.message == (
        "This PDF has no text layer (it is probably scanned); upload a text PDF or paste the text."
    )


def test_damaged_pdf_and_fake_docx_get_a_clear_error():
    with pytest.raises(KnowledgeError, match="This PDF could not be read"):
        parsing.extract_text(b"%PDF-1.4 truncated", ".pdf")
    with pytest.raises(KnowledgeError, match=r"save it as \.docx"):
        parsing.extract_text(b"PK\x03\x04 not really a zip", ".docx")


def test_docx_paragraphs_and_tables_become_text():
    data = docx_file("Cakes", "We bake to order.", table=[["Size", "Price"], ["Small", "$20"]])
    assert parsing.extract_text(data, ".docx") == (
        "Cakes\nWe bake to order.\nSize | Price\nSmall | $20"
    )


def test_text_file_of_only_whitespace_has_no_text():
    with pytest.raises(KnowledgeError, match="no text"):
        parsing.extract_text(b" \n\t\n", ".txt")


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("menu.xlsx", b"x", r"cannot read \.xlsx files \(menu\.xlsx\); upload \.txt, \.md, \.pdf"),
        ("README", b"x", "cannot read files without an extension"),
        ("empty.txt", b"", "empty.txt is empty"),
        ("huge.pdf", b"x" * (20 * 1024 * 1024 + 1), "20.0 MB; the limit is 20 MB"),
    ],
)
def test_uploads_are_checked_before_anything_is_stored(filename, data, expected):
    with pytest.raises(KnowledgeError, match=expected) as error:
        parsing.check_upload(filename, data)
    assert error.value.field == "file"


def test_csv_without_an_answer_column_names_the_missing_column_and_those_found():
    data = b"question,reply,id\nOpen on Sunday?,Yes,1\n"
    with pytest.raises(KnowledgeError) as error:
        parsing.read_qa_file(data, ".csv")
    assert "missing: answer" in error.value.message
    assert "columns found: 'question', 'reply', 'id'" in error.value.message


def test_csv_from_a_spreadsheet_with_semicolons_and_other_column_names():
    data = "\ufeffQuestion;Answer;External ID;Lang;Group Key\nOuvert ?;Oui;h1;FR;hours\n".encode()
    rows = parsing.read_qa_file(data, ".csv")
    assert parsing.qa_row(rows[0], 1) == parsing.QARow(
        question="Ouvert ?", answer="Oui", external_id="h1", language="fr", group_key="hours"
    )


def test_json_and_jsonl_rows():
    items = [{"question": "Q1", "answer": "A1", "id": 7}, {"question": "Q2", "answer": "A2"}]
    rows = parsing.read_qa_file(json.dumps(items).encode(), ".json")
    assert [parsing.qa_row(row, n).external_id for n, row in enumerate(rows, 1)] == ["7", None]
    jsonl = "\n".join(json.dumps(item) for item in items).encode()
    assert parsing.read_qa_file(jsonl, ".jsonl") == rows


def test_json_errors_name_the_problem():
    with pytest.raises(KnowledgeError, match="must be a list of objects"):
        parsing.read_qa_file(b'{"question": "q"}', ".json")
    with pytest.raises(KnowledgeError, match="Line 2 is not valid JSON"):
        parsing.read_qa_file(b'{"question": "q", "answer": "a"}\n{oops\n', ".jsonl")
    with pytest.raises(KnowledgeError, match="missing: question, answer"):
        parsing.read_qa_file(b'[{"q": 1}]', ".json")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"question": "Open?", "answer": "  "}, "row 3: missing answer"),
        ({"question": "", "answer": "Yes"}, "row 3: missing question"),
        ({}, "row 3: missing question and answer"),
        ("just text", "row 3: not an object"),
        ({"question": "Open?", "answer": ["Yes"]}, "row 3: answer must be text"),
    ],
)
def test_bad_rows_say_which_row_and_what_is_missing(row, message):
    with pytest.raises(KnowledgeError) as error:
        parsing.qa_row(row, 3)
    assert error.value.message.startswith(message)


def test_content_hash_ignores_cosmetic_whitespace():
    assert parsing.content_hash("Q", "Line one\r\nLine two  \n\n\n") == parsing.content_hash(
        "Q", "Line one\nLine two"
    )
    assert parsing.content_hash("Q", "A") != parsing.content_hash("Q", "B")


def test_long_text_is_split_into_overlapping_chunks_of_at_most_1000_characters():
    sentences = [f"Sentence number {n} is about bread and cakes." for n in range(200)]
    chunks = chunking.split_text(" ".join(sentences))
    assert len(chunks) > 5
    assert all(len(chunk) <= chunking.CHUNK_CHARACTERS for chunk in chunks)
    assert all(sentence in " ".join(chunks) for sentence in sentences)
    overlapping = sum(1 for a, b in itertools.pairwise(chunks) if b[:40] in a)
    assert overlapping >= len(chunks) // 2


def test_an_faq_is_one_chunk_embedded_with_its_question():
    [chunk] = chunking.faq_chunks("Do you deliver?", "Yes. " * 500)
    assert chunk.question == "Do you deliver?"
    assert chunk.passage == "Do you deliver?\n" + "Yes. " * 500
