"""The owner teaches the assistant on /knowledge and watches it learn, in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

OWNER = "owner@sunrise-bakery.example"
AGENT = "agent@sunrise-bakery.example"
# Embedding runs in the RQ worker; its first job also loads the model.
EMBEDDED_WITHIN_MS = 90_000
READY = re.compile(r"Ready · \d+ chunks?")
DASH = "\N{EN DASH}"  # Playwright hands patterns to JavaScript, which lacks \N{...}
FIRST_PAGE = re.compile(rf"^1{DASH}50 of \d+$")


def open_knowledge(page: Page, app_url: str) -> None:
    page.goto(app_url + "/knowledge")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fknowledge"))
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/knowledge/?$"))
    expect(page.get_by_role("heading", name="Knowledge", level=1)).to_be_visible()


def source_row(page: Page, title: str) -> Locator:
    return page.get_by_role("row").filter(has_text=title)


def open_upload_and_send(page: Page, *files: dict) -> Locator:
    """Upload `files` through the upload dialog; the list of per-file results."""
    page.get_by_role("button", name="Upload files").first.click()
    dialog = page.get_by_role("dialog", name="Upload files")
    dialog.locator("input[type=file]").set_input_files(list(files))
    return dialog.get_by_label("Uploaded files")


def test_owner_adds_tests_edits_and_deletes_an_faq(page: Page, app_url: str):
    question = "Can I bring my dog into the shop?"
    answer = "Dogs on a lead are welcome inside; there is a water bowl by the door."
    open_knowledge(page, app_url)

    page.get_by_role("button", name="Add FAQ").first.click()
    dialog = page.get_by_role("dialog", name="Add an FAQ")
    dialog.get_by_label("Question").fill(question)
    dialog.get_by_label("Answer").fill(answer)
    dialog.get_by_label("Category (optional)").fill("Visiting")
    dialog.get_by_role("button", name="Add FAQ").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("FAQ added.")).to_be_visible()

    row = source_row(page, question)
    expect(row).to_contain_text("Visiting")
    expect(row).to_contain_text("FAQ")
    # No reload: the page follows the worker until the FAQ is embedded.
    expect(row).to_contain_text(READY, timeout=EMBEDDED_WITHIN_MS)

    page.get_by_role("tab", name="Test a question").click()
    page.get_by_label("Customer question").fill("Est-ce que je peux venir avec mon chien ?")
    page.get_by_role("button", name="Search").click()
    passages = page.get_by_label("Retrieved passages")
    expect(passages).to_contain_text(question)
    expect(passages).to_contain_text(re.compile(r"Similarity \d+%"))
    expect(passages).to_contain_text("water bowl")

    page.get_by_role("tab", name=re.compile("Sources")).click()
    row.get_by_role("button", name=f"Edit {question}").click()
    dialog = page.get_by_role("dialog", name="Edit FAQ")
    expect(dialog.get_by_label("Question")).to_have_value(question)
    expect(dialog.get_by_label("Answer")).to_have_value(answer)
    dialog.get_by_label("Answer").fill("Well-behaved dogs are welcome; we keep treats at the till.")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("FAQ saved.")).to_be_visible()
    expect(row).to_contain_text("treats at the till")
    expect(row).to_contain_text(READY, timeout=EMBEDDED_WITHIN_MS)

    row.get_by_role("button", name=f"Delete {question}").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text(question)
    confirm.get_by_role("button", name="Delete").click()
    expect(page.get_by_text(f"Deleted “{question}”.")).to_be_visible()
    expect(source_row(page, question)).to_have_count(0)


def test_owner_uploads_a_csv_of_faqs_and_an_unsupported_file(page: Page, app_url: str):
    questions = ["Do you sell gift vouchers?", "Can I order a cake two days ahead?"]
    csv = (
        "question,answer\n"
        f"{questions[0]},Yes: vouchers of 10 to 100 dollars at the counter.\n"
        f'"{questions[1]}","Yes, order by 4pm and it is ready two days later."\n'
    )
    open_knowledge(page, app_url)

    results = open_upload_and_send(
        page, {"name": "bakery-faq.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    expect(results).to_contain_text("bakery-faq.csv")
    expect(results).to_contain_text("2 FAQs added.")
    page.get_by_role("button", name="Done").click()
    for question in questions:
        expect(source_row(page, question)).to_contain_text(READY, timeout=EMBEDDED_WITHIN_MS)

    results = open_upload_and_send(
        page,
        {"name": "setup.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ\x90\x00"},
        {"name": "logo.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n"},
    )
    expect(results).to_contain_text("setup.exe")
    expect(results).to_contain_text("logo.png")
    expect(results.get_by_text(re.compile(r"\.txt, \.md, \.pdf, \.docx"))).to_have_count(2)
    page.get_by_role("button", name="Done").click()
    expect(source_row(page, "setup.exe")).to_have_count(0)
    expect(source_row(page, "logo.png")).to_have_count(0)


def test_the_search_box_filters_sources(page: Page, app_url: str):
    open_knowledge(page, app_url)
    page.get_by_role("button", name="Paste text").first.click()
    dialog = page.get_by_role("dialog", name="Paste text")
    dialog.get_by_label("Title").fill("Parking near the bakery")
    dialog.get_by_label("Text").fill("Free parking behind the bakery on Mango Lane after 5pm.")
    dialog.get_by_role("button", name="Add text").click()
    expect(page.get_by_text("Text added.")).to_be_visible()
    expect(source_row(page, "Parking near the bakery")).to_be_visible()

    page.get_by_label("Search knowledge").fill("Mango Lane")
    expect(source_row(page, "Parking near the bakery")).to_be_visible()
    page.get_by_label("Search knowledge").fill("no such words zqxj")
    expect(page.get_by_text("No sources match “no such words zqxj”.")).to_be_visible()
    expect(source_row(page, "Parking near the bakery")).to_have_count(0)


def test_an_agent_cannot_open_knowledge(page: Page, app_url: str):
    page.goto(app_url + "/login")
    page.get_by_label("Email").fill(AGENT)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    page.goto(app_url + "/knowledge")
    expect(page.get_by_text("Knowledge is not available to your role")).to_be_visible()
    expect(page.get_by_role("button", name="Add FAQ")).to_have_count(0)


def test_sources_are_listed_fifty_a_page(page: Page, app_url: str):
    rows = "".join(
        f"How do I order cake number {n}?,Ask at the counter for cake {n}.\n" for n in range(51)
    )
    open_knowledge(page, app_url)
    results = open_upload_and_send(
        page,
        {
            "name": "cakes.csv",
            "mimeType": "text/csv",
            "buffer": ("question,answer\n" + rows).encode(),
        },
    )
    expect(results).to_contain_text("51 FAQs added.")
    page.get_by_role("button", name="Done").click()

    expect(page.get_by_text(FIRST_PAGE)).to_be_visible()
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    page.get_by_role("button", name="Next").click()
    second_page = page.get_by_text(re.compile(rf"^51{DASH}\d+ of \d+$"))
    expect(second_page).to_be_visible()
    total = int(second_page.inner_text().rsplit(" ", 1)[1])
    expect(page.get_by_role("row")).to_have_count(1 + min(50, total - 50))  # with the header
    page.get_by_role("button", name="Previous").click()
    expect(page.get_by_text(FIRST_PAGE)).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(51)
