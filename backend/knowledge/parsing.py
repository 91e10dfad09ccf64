"""Reading what a business uploads: documents to text, Q&A files to rows, with clear errors."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePath

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_QUESTION_CHARS = 2000
MAX_ANSWER_CHARS = 20000
DOCUMENT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
QA_TYPES = {".csv": "text/csv", ".json": "application/json", ".jsonl": "application/jsonl"}
SUPPORTED_TYPES = DOCUMENT_TYPES | QA_TYPES
_SUPPORTED_LIST = ".txt, .md, .pdf, .docx, or a .csv, .json or .jsonl of questions and answers"

# A Q&A file's columns, and the other names people give them.
_COLUMN_ALIASES = {
    "question": "question",
    "answer": "answer",
    "id": "id",
    "external_id": "id",
    "category": "category",
    "language": "language",
    "lang": "language",
    "group": "group",
    "group_key": "group",
}


class KnowledgeError(ValueError):
    """Bad input for the knowledge base; `field` names the form field, the message the fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class QARow:
    """One question and answer from a Q&A file or an import."""

    question: str
    answer: str
    external_id: str | None = None
    category: str | None = None
    language: str | None = None
    group_key: str | None = None


def normalise_text(text: str) -> str:
    """Text as stored and hashed: NFC, LF line ends, no trailing spaces or runs of blank lines."""
    # PostgreSQL text cannot hold NUL, and PDF extraction sometimes yields it.
    text = unicodedata.normalize("NFC", text).replace("\x00", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def normalise_line(text: str) -> str:
    """A one-line value (a question, a title): NFC with whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).replace("\x00", "").split())


def content_hash(*parts: str) -> str:
    """sha256 hex of the parts, each normalised, so cosmetic edits do not re-embed."""
    joined = "\x1f".join(normalise_text(part) for part in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def bytes_hash(data: bytes) -> str:
    """sha256 hex of a file's bytes."""
    return hashlib.sha256(data).hexdigest()


def file_extension(filename: str) -> str:
    """The lower-case extension of `filename`, with its dot ("" when it has none)."""
    return PurePath(filename).suffix.lower()


def upload_path(data_dir: Path, *, business_id: int, digest: str, ext: str) -> Path:
    """Where an uploaded file's bytes are kept: content-addressed, one folder per business."""
    return Path(data_dir) / "uploads" / str(int(business_id)) / f"{digest}{ext}"


def check_upload(filename: str, data: bytes) -> str:
    """Reject unsupported, empty or oversized uploads; return the file's extension."""
    ext = file_extension(filename)
    if ext not in SUPPORTED_TYPES:
        what = f"{ext} files" if ext else "files without an extension"
        raise KnowledgeError(
            f"BizBot cannot read {what} ({filename}); upload {_SUPPORTED_LIST}.", field="file"
        )
    if not data:
        raise KnowledgeError(f"{filename} is empty; choose a file with text in it.", field="file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise KnowledgeError(
            f"{filename} is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB. Split it into smaller files or paste the "
            "text instead.",
            field="file",
        )
    return ext


def decode_text(data: bytes) -> str:
    """Bytes of a text file as str: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Files saved by older Windows tools; cp1252 is what they almost always are.
        return data.decode("cp1252", errors="replace")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise KnowledgeError(
                "This PDF is password-protected; remove the password (print or export it to "
                "a new PDF) and upload it again.",
                field="file",
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except KnowledgeError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        raise KnowledgeError(
            f"This PDF could not be read ({exc}); open it and save or export it as a new PDF, "
            "or paste the text instead.",
            field="file",
        ) from exc
    text = normalise_text("\n\n".join(pages))
    if not text:
        raise KnowledgeError(
            "This PDF has no text layer (it is probably scanned); upload a text PDF or paste "
            "the text.",
            field="file",
        )
    return text


def _docx_text(data: bytes) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises zipfile / lxml / KeyError on non-docx input
        raise KnowledgeError(
            "This file is not a readable Word document (.docx). Old .doc files are not "
            "supported: open it in Word or LibreOffice and save it as .docx, or paste the text.",
            field="file",
        ) from exc
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells]
            # Merged cells repeat their text in every grid cell they cover.
            parts.append(" | ".join(dict.fromkeys(cell for cell in cells if cell)))
    return normalise_text("\n".join(parts))


def extract_text(data: bytes, ext: str) -> str:
    """The text of a document (.txt, .md, .pdf, .docx); raises KnowledgeError when there is none."""
    if ext == ".pdf":
        return _pdf_text(data)
    if ext == ".docx":
        text = _docx_text(data)
    elif ext in (".txt", ".md"):
        text = normalise_text(decode_text(data))
    else:
        raise KnowledgeError(
            f"BizBot cannot read {ext or 'files without an extension'} files as a document; "
            f"upload {_SUPPORTED_LIST}.",
            field="file",
        )
    if not text:
        raise KnowledgeError("This file has no text in it; check it is the right file.")
    return text


def _canonical_columns(keys) -> dict[str, str]:
    """Map each original key to its canonical column name (unknown keys are kept, ignored)."""
    mapping = {}
    for key in keys:
        name = str(key or "").strip().lower().replace(" ", "_")
        mapping[key] = _COLUMN_ALIASES.get(name, name)
    return mapping


def _require_columns(found: list[str], canonical: set[str], what: str) -> None:
    missing = [col for col in ("question", "answer") if col not in canonical]
    if missing:
        shown = ", ".join(repr(col) for col in found if col) or "none"
        raise KnowledgeError(
            f"The {what} needs a 'question' and an 'answer' column; missing: "
            f"{', '.join(missing)} (columns found: {shown}). Rename the columns and upload it "
            "again.",
            field="file",
        )


def _read_csv(text: str) -> list[dict]:
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in many locales export with ";" or tabs; the header line tells which.
    delimiter = max(",;\t", key=first_line.count)
    try:
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        found = list(reader.fieldnames or [])
        mapping = _canonical_columns(found)
        _require_columns(found, set(mapping.values()), "CSV file")
        return [
            {mapping.get(key, key): value for key, value in row.items() if key is not None}
            for row in reader
        ]
    except csv.Error as exc:
        raise KnowledgeError(
            f"This CSV file could not be read ({exc}); export it again as CSV (UTF-8).",
            field="file",
        ) from exc


def _read_json_rows(items: list, what: str) -> list:
    objects = [item for item in items if isinstance(item, dict)]
    found = list(dict.fromkeys(key for item in objects for key in item))
    _require_columns(found, set(_canonical_columns(found).values()), what)
    rows = []
    for item in items:
        if isinstance(item, dict):
            mapping = _canonical_columns(item)
            rows.append({mapping[key]: value for key, value in item.items()})
        else:
            rows.append(item)  # reported by qa_row as "not an object"
    return rows


def read_qa_file(data: bytes, ext: str) -> list:
    """The rows of a .csv, .json (a list of objects) or .jsonl file, keyed by canonical column."""
    text = decode_text(data)
    if not text.strip():
        raise KnowledgeError("This file is empty; add a header row and questions.", field="file")
    if ext == ".csv":
        rows = _read_csv(text)
    elif ext == ".json":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise KnowledgeError(
                f"This is not valid JSON ({exc.msg} at line {exc.lineno}); check the file.",
                field="file",
            ) from exc
        if not isinstance(items, list):
            raise KnowledgeError(
                'A .json file must be a list of objects: [{"question": "…", "answer": "…"}, …].',
                field="file",
            )
        rows = _read_json_rows(items, "JSON file")
    elif ext == ".jsonl":
        items = []
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise KnowledgeError(
                    f"Line {number} is not valid JSON ({exc.msg}); a .jsonl file holds one "
                    'object per line: {"question": "…", "answer": "…"}.',
                    field="file",
                ) from exc
        rows = _read_json_rows(items, "JSONL file")
    else:
        raise KnowledgeError(f"{ext} is not a Q&A file type; use .csv, .json or .jsonl.")
    if not rows:
        raise KnowledgeError("This file has a header but no questions in it.", field="file")
    return rows


def _cell(row: dict, column: str, number: int, *, limit: int | None = None) -> str | None:
    value = row.get(column)
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    if isinstance(value, dict | list):
        raise KnowledgeError(f"row {number}: {column} must be text, not a list or object")
    value = normalise_text(str(value)) if column == "answer" else normalise_line(str(value))
    if limit is not None and len(value) > limit:
        raise KnowledgeError(
            f"row {number}: {column} is {len(value)} characters; keep it under {limit}"
        )
    return value or None


def qa_row(row: object, number: int) -> QARow:
    """Validate one raw Q&A row (`number` counts from 1); raises KnowledgeError "row N: …"."""
    if not isinstance(row, dict):
        raise KnowledgeError(f"row {number}: not an object with question and answer")
    question = _cell(row, "question", number, limit=MAX_QUESTION_CHARS)
    answer = _cell(row, "answer", number, limit=MAX_ANSWER_CHARS)
    if not question and not answer:
        raise KnowledgeError(f"row {number}: missing question and answer")
    if not question:
        raise KnowledgeError(f"row {number}: missing question")
    if not answer:
        raise KnowledgeError(f"row {number}: missing answer")
    return QARow(
        question=question,
        answer=answer,
        external_id=_cell(row, "id", number, limit=255),
        category=_cell(row, "category", number, limit=120),
        language=(_cell(row, "language", number, limit=16) or "").lower() or None,
        group_key=_cell(row, "group", number, limit=255),
    )
