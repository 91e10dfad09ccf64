"""The Templates page's broadcasts state: typing a segment counts it in the background, a
broadcast is created off the websocket's loop, and a live batch re-reads only the broadcasts it
names and merges them into the page."""

from __future__ import annotations

import asyncio
import threading

import pytest
import reflex as rx
import sqlalchemy as sa
from reflex.components.radix.themes.components.button import Button
from reflex.istate.data import RouterData
from reflex.state import State

from backend.auth import service as auth
from backend.auth.schemas import LoginTicket
from backend.core.db import get_engine, session_scope
from backend.models.templates import BroadcastRecipient
from backend.templates import service
from bizbot_app.pages import templates as templates_page
from state.live import LiveBatch
from state.templates import (
    BroadcastRow,
    BroadcastsRead,
    BroadcastsState,
    ChannelOption,
    PickerOption,
    _named_broadcasts,
    _read_broadcasts,
)
from tests.backend.templates.helpers import (
    approved_template,
    broadcast_with,
    business_with_number,
    segment_contact,
    statements,
)


def _page(**router) -> BroadcastsState:
    root = State(_reflex_internal_init=True)
    if router:
        root.router = RouterData.from_router_data(router)
    return root.get_substate(BroadcastsState.get_full_name().split(".")[1:])


# --- the segment preview -------------------------------------------------------------------------


def test_typing_a_segment_asks_for_a_count_in_the_background_and_the_last_keystroke_wins():
    assert BroadcastsState.refresh_preview.is_background
    page = _page()
    with statements() as seen:
        first = BroadcastsState.set_b.fn(page, "b_label", "v")
        second = BroadcastsState.set_b.fn(page, "b_label", "vip")
        BroadcastsState.set_b.fn(page, "b_name", "Weekend")  # not the segment: no count
    assert seen == []  # a keystroke runs no SQL on the websocket's loop
    assert page.b_label == "vip"
    # Each keystroke asks for a count with its own number; only the newest one's is shown.
    assert first.handler.fn is BroadcastsState.refresh_preview.fn
    assert [(str(name), str(value)) for name, value in first.args] == [("seq", "1")]
    assert [(str(name), str(value)) for name, value in second.args] == [("seq", "2")]
    assert page._preview_seq == 2


# --- starting a broadcast ------------------------------------------------------------------------


class _Held:
    """The page's state as a background event sees it: every write it makes to the state is
    recorded with whether `async with self` was held then."""

    def __init__(self, state: BroadcastsState) -> None:
        vars(self).update(state=state, held=False, unheld_writes=[])

    async def __aenter__(self):
        vars(self)["held"] = True
        return self

    async def __aexit__(self, *exc) -> None:
        vars(self)["held"] = False

    def __getattr__(self, name: str):
        return getattr(vars(self)["state"], name)

    def __setattr__(self, name: str, value) -> None:
        if not self.held:
            self.unheld_writes.append(name)
        setattr(self.state, name, value)


def _start(
    page: BroadcastsState,
) -> tuple[_Held, int, list[tuple[str, int]], set[tuple[bool, bool]]]:
    """Run the page's "Send broadcast" on an event loop of its own: (the state as the event
    held it, the loop's thread, (statement, thread) of every statement meanwhile, (the button's
    loading flag, whether the state was held) during the worker thread's statements)."""
    held, seen, outcome, loading = _Held(page), [], [], set()

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, threading.get_ident()))
        if threading.get_ident() != outcome[0]:
            # Not held: the browser already has the flag the event set before letting go.
            loading.add((page.b_starting, held.held))

    async def scenario():
        outcome.append(threading.get_ident())
        await BroadcastsState.start_broadcast.fn(held)

    sa.event.listen(get_engine(), "after_cursor_execute", record)
    try:
        thread = threading.Thread(target=lambda: asyncio.run(scenario()))
        thread.start()
        thread.join(30)
    finally:
        sa.event.remove(get_engine(), "after_cursor_execute", record)
    assert outcome, "the event did not run"
    return held, outcome[0], seen, loading


@pytest.mark.usefixtures("committed")
def test_a_broadcast_is_created_off_the_websockets_loop_with_the_same_notice():
    assert BroadcastsState.start_broadcast.is_background
    with session_scope() as session:
        owner, business, number = business_with_number(session)
        for n in range(5):
            segment_contact(session, business, number, f"VIP {n}", label="vip", opted_out=n < 2)
        segment_contact(session, business, number, "Not VIP")
        template = approved_template(session, business, number, "weekend")
        ticket = LoginTicket(user_id=owner.user_id, business_id=business.id)
        token = auth.start_session(session, ticket=ticket, ip_address=None, user_agent=None)
        template_id, number_id = template.id, number.id
    page = _page(asPath="/templates", headers={"cookie": f"{auth.SESSION_COOKIE}={token}"})
    page.choices = [PickerOption(template_id, "weekend (en_US)", "Hi {{1}}!", "", 1, 0)]
    page.channels = [ChannelOption(number_id, "WhatsApp")]
    page.b_channel, page.b_name, page.b_label = "WhatsApp", "Weekend", "vip"

    # No template chosen: said on the form, nothing stored, the button never spins.
    held, _, seen, loading = _start(page)
    assert page.b_error == "Choose an approved template."
    assert not any(s.startswith("INSERT INTO broadcast") for s, _ in seen)
    assert page.b_starting is False

    # A template without its variable's value: the button spins while the service checks it,
    # then the service's message is on the form and the button is back.
    page.b_template = "weekend (en_US)"
    held, _, seen, loading = _start(page)
    assert "variables" in page.b_error
    assert loading == {(True, False)}
    assert page.b_starting is False

    page.b_values = ["friend"]
    held, loop_thread, seen, loading = _start(page)
    assert (page.b_error, page.b_notice) == (
        "", "Sending Weekend to 3 contact(s); 2 opted out and skipped."
    )  # fmt: skip
    # The broadcast and its recipients were written by a worker thread, not the loop's.
    writes = [t for s, t in seen if s.startswith("INSERT INTO broadcast")]
    assert len(writes) == 2
    assert loop_thread not in writes
    assert held.unheld_writes == []  # every state change was made holding the state
    assert loading == {(True, False)}  # the button spun the whole time it was being stored
    assert page.b_starting is False
    assert [(b.name, b.summary) for b in page.broadcasts] == [("Weekend", "2 opted out, 3 queued")]
    with session_scope() as session:
        stored = session.exec(
            sa.select(sa.func.count()).select_from(BroadcastRecipient)
        ).scalar_one()
    assert stored == 5


def test_a_click_while_a_broadcast_is_being_started_is_ignored():
    page = _page()
    page.b_starting, page.b_template = True, "weekend (en_US)"
    held, _, seen, _ = _start(page)
    assert (seen, held.unheld_writes) == ([], [])
    assert (page.b_starting, page.b_error, page.b_notice) == (True, "", "")


def test_the_send_broadcast_button_spins_and_is_disabled_while_starting():
    def walk(component: rx.Component):
        yield component
        for child in component.children:
            yield from walk(child)

    buttons = [
        c for c in walk(templates_page._broadcasts())
        if isinstance(c, Button) and any("Send broadcast" in str(getattr(d, "contents", ""))
                                         for d in walk(c))
    ]  # fmt: skip
    assert len(buttons) == 1
    # Radix disables a loading button, so the spinner also keeps a second click out.
    assert str(buttons[0].loading) == str(BroadcastsState.b_starting)


# --- broadcasts on the page and live -------------------------------------------------------------


@pytest.fixture
def three_broadcasts(committed):
    with session_scope() as session:
        owner, business, number = business_with_number(session)
        big = broadcast_with(
            session, owner, business, number, "Big",
            ["sent:delivered"] * 40 + ["sent:read"] * 15 + ["queued"] * 4 + ["opted_out"] * 3,
        )  # fmt: skip
        small = broadcast_with(
            session, owner, business, number, "Small",
            ["sent:queued", "sent:read", "sent:failed", "opted_out"],
        )  # fmt: skip
        quiet = broadcast_with(session, owner, business, number, "Quiet", ["queued"])
        stranger, other, other_number = business_with_number(session)
        theirs = broadcast_with(session, stranger, other, other_number, "Theirs", ["queued"] * 2)
    return owner, {"big": big.id, "small": small.id, "quiet": quiet.id, "theirs": theirs.id}


def test_a_live_batch_rereads_only_the_broadcasts_it_names_with_counts_made_in_sql(
    three_broadcasts,
):
    owner, ids = three_broadcasts
    with statements() as seen:
        [small] = _read_broadcasts(owner, BroadcastsRead((ids["small"],)))
    assert isinstance(small, BroadcastRow)
    assert (small.id, small.name, small.total) == (ids["small"], "Small", 4)
    assert small.summary == "1 failed, 1 opted out, 1 queued, 1 read"
    assert {r.name: r.status for r in small.recipients} == {
        "Small 000": "queued", "Small 001": "read", "Small 002": "failed",
        "Small 003": "opted_out",
    }  # fmt: skip
    [failed] = [r for r in small.recipients if r.status == "failed"]
    assert failed.error == "Undeliverable (code 131026)"
    assert (small.shown_label, small.can_show_more) == ("", False)
    # The broadcast, its counts (one GROUP BY), its recipients: nothing of the other broadcasts.
    assert len(seen) == 3
    assert max(rows for _, rows in seen) == 4
    assert "GROUP BY broadcastrecipient.broadcast_id" in seen[1][0]

    # Thousands of recipients or a few: the counts cover all, the list stops at the first 50.
    with statements() as seen:
        [big] = _read_broadcasts(owner, BroadcastsRead((ids["big"],)))
    assert big.summary == "40 delivered, 3 opted out, 4 queued, 15 read"
    assert big.total == 62
    assert len(big.recipients) == service.RECIPIENTS_SHOWN == 50
    assert big.recipients[0].name == "Big 000"
    assert (big.shown_label, big.can_show_more) == ("Showing 50 of 62 recipients.", True)
    assert len(seen) == 3
    assert max(rows for _, rows in seen) == 50

    [more] = _read_broadcasts(owner, BroadcastsRead((ids["big"],), ((ids["big"], 100),)))
    assert (len(more.recipients), more.shown_label, more.can_show_more) == (62, "", False)

    # Several named broadcasts still cost three statements; another business's are never read.
    with statements() as seen:
        rows = _read_broadcasts(owner, BroadcastsRead((ids["quiet"], ids["small"], ids["theirs"])))
    assert [r.name for r in rows] == ["Quiet", "Small"]
    assert len(seen) == 3
    # The full read (a resync) lists the latest ones, newest first.
    assert [r.name for r in _read_broadcasts(owner)] == ["Quiet", "Small", "Big"]


def test_the_page_merges_what_a_live_batch_rereads(three_broadcasts):
    owner, ids = three_broadcasts
    batch = LiveBatch.of([
        {"event": "broadcast.updated", "broadcast_id": ids["small"]},
        {"event": "broadcast.updated", "broadcast_id": str(ids["quiet"])},
        {"event": "message.updated", "message_id": 1, "broadcast_id": 999},
    ])  # fmt: skip
    assert _named_broadcasts(batch) == {ids["small"], ids["quiet"]}

    page = _page()
    shown = _read_broadcasts(owner)
    page.broadcasts = [r for r in shown if r.name != "Quiet"]  # opened before Quiet started
    with session_scope() as session:
        session.exec(
            sa.update(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == ids["small"])
            .values(status="opted_out")
        )
    page.parent_state.router = RouterData.from_router_data({"asPath": "/templates"})
    page.b_loaded, page._shown = True, {ids["small"]: 100, ids["big"]: 100}
    request = page._live_request(batch, owner)
    assert request == BroadcastsRead(
        tuple(sorted((ids["quiet"], ids["small"]))), ((ids["small"], 100),)
    )
    assert page._live_request(LiveBatch(tick=True), owner) is None
    assert page._live_request(LiveBatch(resync=True), owner).broadcast_ids is None
    page._live_apply(request, _read_broadcasts(owner, request))
    assert [r.name for r in page.broadcasts] == ["Quiet", "Small", "Big"]
    [small] = [r for r in page.broadcasts if r.name == "Small"]
    assert small.summary == "4 opted out"
    big = next(r for r in page.broadcasts if r.name == "Big")
    assert big == next(r for r in shown if r.name == "Big")
