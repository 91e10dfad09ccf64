"""Writing ad copy: offline templates per platform and language, and the LLM path."""

from __future__ import annotations

import json

import pytest

from backend.ads import service
from backend.ads.schemas import CTA_MAX, LANGUAGES, LIMITS, PLATFORMS, AdError
from backend.ads.templates import TEXTS
from backend.auth.permissions import PermissionDenied
from backend.commerce import service as commerce
from backend.models import Role
from tests.factories import actor_for, make_business
from tests.fakes.openai_server import FakeError

DESCRIPTION = (
    "Slow-fermented for 36 hours with our own wild yeast, baked every morning in a stone oven. "
    "A crackling crust, an open crumb and a gentle tang that keeps for days. Best with butter."
)


@pytest.fixture
def owner(db):
    business = make_business(db, name="Mama Ngina Bakery")
    actor, _ = actor_for(db, role=Role.OWNER, business=business)
    return actor


@pytest.fixture
def loaf(db, owner):
    return commerce.create_product(db, actor=owner, name="Sourdough loaf", price="6.50",
                                   currency="USD", description=DESCRIPTION)  # fmt: skip


def _generate(db, owner, **form):
    form = {"platform": "facebook", "language": "en", "count": 3, **form}
    return service.generate_variants(db, actor=owner, **form)


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_offline_variants_fit_the_platform_and_speak_the_language(
    db, owner, loaf, platform, language
):
    generation = _generate(db, owner, product_id=loaf.id, platform=platform,
                           language=language, count=5)  # fmt: skip

    assert generation.source == "templates"
    assert generation.notice == ""
    assert len(generation.variants) == 5
    limits = LIMITS[platform]
    for variant in generation.variants:
        assert 0 < len(variant.headline) <= limits.headline, variant.headline
        assert 0 < len(variant.primary_text) <= limits.primary_text, variant.primary_text
        assert 0 < len(variant.call_to_action) <= CTA_MAX
        assert variant.call_to_action in TEXTS[language]["cta"][platform]
        assert "{" not in variant.headline + variant.primary_text
    assert len({v.headline for v in generation.variants}) == 5
    texts = " ".join(v.headline + " " + v.primary_text for v in generation.variants)
    assert "Sourdough loaf" in texts
    assert "6.50 USD" in texts
    assert "Mama Ngina Bakery" in texts


def test_a_long_description_is_cut_at_a_word_not_mid_word(db, owner, loaf):
    variants = _generate(db, owner, product_id=loaf.id, count=5).variants
    starting = [v.primary_text for v in variants if v.primary_text.startswith("Slow-fermented")]
    assert starting
    for text in starting:
        assert "Best with butter" not in text  # the whole description cannot fit in 125
        part = text.split("…")[0] if "…" in text else text.split(". ")[0] + "."
        assert DESCRIPTION.startswith(part), text
        assert DESCRIPTION[len(part)] in " .,", f"cut mid-word: {text!r}"


def test_a_free_text_offer_without_a_price(db, owner):
    generation = _generate(db, owner, offer="20% off all birthday cakes this weekend",
                           platform="whatsapp", language="sw", count=4)  # fmt: skip
    for variant in generation.variants:
        assert "{price}" not in variant.primary_text
        assert "USD" not in variant.headline + variant.primary_text
    assert any("20% off all birthday cakes" in v.headline for v in generation.variants)


def test_tone_changes_the_copy(db, owner, loaf):
    professional = _generate(db, owner, product_id=loaf.id, count=5, tone="professional")
    playful = _generate(db, owner, product_id=loaf.id, count=5, tone="playful")
    assert not any("!" in v.headline + v.primary_text for v in professional.variants)
    emojis = ("✨", "🔥", "🎉", "😍", "🙌")
    assert all(any(e in v.primary_text for e in emojis) for v in playful.variants)


def test_a_very_long_product_name_still_fits(db, owner):
    product = commerce.create_product(db, actor=owner, name="Extra large " * 12 + "cake",
                                      price="40", currency="USD")  # fmt: skip
    for variant in _generate(db, owner, product_id=product.id, count=5).variants:
        assert len(variant.headline) <= LIMITS["facebook"].headline
        assert len(variant.primary_text) <= LIMITS["facebook"].primary_text


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"platform": "tiktok", "offer": "x"}, "platform"),
        ({"language": "de", "offer": "x"}, "language"),
        ({"count": 6, "offer": "x"}, "count"),
        ({"count": 0, "offer": "x"}, "count"),
        ({"count": "many", "offer": "x"}, "count"),
        ({"tone": "angry", "offer": "x"}, "tone"),
        ({}, "offer"),
        ({"offer": "x" * 501}, "offer"),
        ({"product_id": 999_999}, "product"),
    ],
)
def test_bad_form_input_names_the_field_and_the_fix(db, owner, form, field):
    with pytest.raises(AdError) as raised:
        _generate(db, owner, **form)
    assert raised.value.field == field
    assert raised.value.message.endswith(".")


def test_another_business_product_cannot_be_used(db, owner, loaf):
    stranger, _ = actor_for(db, role=Role.OWNER)
    with pytest.raises(AdError) as raised:
        _generate(db, stranger, product_id=loaf.id)
    assert raised.value.field == "product"


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_cannot_generate(db, owner, role):
    business_id = owner.business_id
    from backend.models import Business

    actor, _ = actor_for(db, role=role, business=db.get(Business, business_id))
    with pytest.raises(PermissionDenied):
        _generate(db, actor, offer="Fresh bread")
    with pytest.raises(PermissionDenied):
        service.product_options(db, actor=actor)


def test_product_options_list_active_products(db, owner, loaf):
    commerce.create_product(db, actor=owner, name="Old cake", price="1", currency="USD",
                            is_active=False)  # fmt: skip
    options = service.product_options(db, actor=owner)
    assert [(o.name, o.price) for o in options] == [("Sourdough loaf", "6.50 USD")]


# --- the LLM path -----------------------------------------------------------------------------


def _variants(n: int, headline: str = "Fresh sourdough daily") -> dict:
    return {"variants": [{"headline": f"{headline} {i}", "primary_text": f"Body {i}",
                          "call_to_action": "Send message"} for i in range(n)]}  # fmt: skip


def test_llm_variants_are_used_when_configured(db, owner, loaf, fake_openai):
    fake_openai.queue(_variants(3))
    generation = _generate(db, owner, product_id=loaf.id, language="fr", tone="playful")

    assert generation.source == "ai"
    assert generation.notice == ""
    assert [v.headline for v in generation.variants] == [
        "Fresh sourdough daily 0", "Fresh sourdough daily 1", "Fresh sourdough daily 2"
    ]  # fmt: skip
    (request,) = fake_openai.chat_requests
    prompt = request.contents("user")[0]
    assert "Sourdough loaf" in prompt
    assert "6.50 USD" in prompt
    assert "Mama Ngina Bakery" in prompt
    assert "Français" in prompt
    assert "at most 40" in prompt
    assert "at most 125" in prompt
    assert "playful" in prompt
    assert "Write 3 different variants" in prompt
    assert request.body["response_format"] == {"type": "json_object"}


def test_llm_text_beyond_the_limits_is_shortened(db, owner, loaf, fake_openai):
    long = "A really wonderful loaf of bread that everybody in town talks about"
    cta = "Message us now please today"
    fake_openai.queue(
        {"variants": [{"headline": long, "primary_text": long * 3, "call_to_action": cta}]}
    )
    (variant,) = _generate(db, owner, product_id=loaf.id, count=1).variants
    assert len(variant.headline) <= 40
    assert variant.headline.endswith("…")
    assert len(variant.primary_text) <= 125


@pytest.mark.parametrize(
    "reply",
    [
        "Here are three great ads for you!",  # not JSON
        {"ads": [{"headline": "x"}]},  # no variants list
        {"variants": [{"headline": "Only a headline"}]},  # fields missing
        {"variants": []},
        FakeError(500),
    ],
)
def test_a_bad_llm_answer_falls_back_to_templates_and_says_so(db, owner, loaf, fake_openai, reply):
    fake_openai.queue(reply, reply)  # the client retries a 500 once
    generation = _generate(db, owner, product_id=loaf.id, count=2)

    assert generation.source == "templates"
    assert "could not be used" in generation.notice
    assert "templates" in generation.notice
    assert len(generation.variants) == 2
    assert all(len(v.headline) <= 40 for v in generation.variants)
    assert fake_openai.chat_requests


def test_fenced_json_from_the_llm_is_accepted(db, owner, loaf, fake_openai):
    fake_openai.queue("```json\n" + json.dumps(_variants(1)) + "\n```")
    generation = _generate(db, owner, product_id=loaf.id, count=1)
    assert generation.source == "ai"
    assert generation.variants[0].headline == "Fresh sourdough daily 0"


def test_llm_generation_counts_towards_the_monthly_usage(db, owner, loaf, fake_openai):
    from backend.ai import usage

    fake_openai.queue(_variants(2))
    _generate(db, owner, product_id=loaf.id, count=2)
    used = usage.usage_for(db, business_id=owner.business_id, budget=None)
    assert used.requests == 1
    assert used.total_tokens > 0


def test_a_spent_ai_budget_uses_the_templates_and_says_so(db, owner, loaf, fake_openai):
    from backend.ai import service as ai_rules
    from backend.ai import usage

    ai_rules.update_rules(db, actor=owner, monthly_token_budget=1000)
    usage.record(db, business_id=owner.business_id, prompt_tokens=900, completion_tokens=200)
    generation = _generate(db, owner, product_id=loaf.id, count=2)

    assert generation.source == "templates"
    assert "budget is used up" in generation.notice
    assert fake_openai.chat_requests == []
