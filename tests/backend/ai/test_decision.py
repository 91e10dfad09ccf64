"""The handoff decision: asking for a person in any language, small talk, thresholds."""

from __future__ import annotations

import pytest

from backend.ai import decision
from backend.ai.answer import Answer
from backend.ai.rules import RulesView
from backend.ai.schemas import Action, HandoffReason

RULES = RulesView(business_id=1)


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a real person",
        "human please",
        "AGENT!",
        "Can I speak to someone?",
        "Je voudrais parler à quelqu'un",
        "Je veux un conseiller",
        "Quiero hablar con una persona",
        "pásame con alguien de verdad",
        "Quero falar com um atendente",
        "Nataka kuongea na mtu halisi",
        "nataka kuzungumza na mtu",
        "Jag vill prata med en människa",
        "Ich möchte mit einem Menschen sprechen",
        "Posso parlare con qualcuno?",
        "Ik wil met iemand praten",
        "أريد التحدث مع موظف",
        "Talk to a person",  # the quick reply BizBot offers
        "Ongea na mtu",
    ],
)
def test_asking_for_a_person_in_many_languages(text):
    assert decision.asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'd like to chat with a member of staff",
        "connect me to support",
        "puis-je avoir un vrai interlocuteur",
        "niunganishe na muhudumu",
    ],
)
def test_embedding_check_catches_what_no_list_has(text):
    assert not decision.asks_for_human(text, use_embeddings=False)
    assert decision.asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "When do you open?",
        "How much is a birthday cake for 10 people?",
        "Do you deliver to Westlands?",
        "Can I pay with M-Pesa?",
        "I want to order a cake",
        "Je veux commander",
        "Quiero un pastel",
        "Nataka keki",
        "What is your phone number?",
        "Do you sell human hair wigs? We need them for a theatre show next week",
        "the person who delivered was rude",
        "price per person?",
        "keki ya mtu mmoja ni bei gani",
        "thanks",
    ],
)
def test_ordinary_questions_are_not_requests_for_a_person(text):
    assert not decision.asks_for_human(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hi", "greeting"),
        ("Hello!", "greeting"),
        ("Habari yako", "greeting"),
        ("bonjour", "greeting"),
        ("hi, thanks", "greeting"),
        ("ok", "thanks"),
        ("Thank you!", "thanks"),
        ("asante sana", "thanks"),
        ("👍", "thanks"),
        ("Hapana, asante", "thanks"),
        ("لا، شكرًا", "thanks"),
        ("hi, do you deliver?", None),
        ("ok but when do you open", None),
    ],
)
def test_small_talk(text, kind):
    assert decision.small_talk(text) == kind


def test_below_the_threshold_hands_over_in_the_customers_language():
    answer = Answer(text="We open at 8.", confidence=0.4, source_chunk_ids=[7])
    result = decision.decide(answer, rules=RULES, language="fr")
    assert result.action == Action.HANDOFF
    assert result.handoff_reason == HandoffReason.LOW_CONFIDENCE
    assert result.text.startswith("Je ne suis pas sûr")
    assert (result.confidence, result.source_chunk_ids) == (0.4, [7])


def test_at_the_threshold_replies():
    answer = Answer(text="We open at 8.", confidence=0.55, source_chunk_ids=[7])
    result = decision.decide(answer, rules=RULES, language="en")
    assert (result.action, result.text, result.handoff_reason) == (
        Action.REPLY,
        "We open at 8.",
        None,
    )


def test_the_business_fallback_message_is_used_in_its_own_language():
    rules = RulesView(business_id=1, fallback_message="Let me check with the baker.")
    answer = Answer(text="", confidence=0.0, answered=False)
    assert decision.decide(answer, rules=rules, language="en").text == (
        "Let me check with the baker."
    )
    assert decision.decide(answer, rules=rules, language="sw").text.startswith("Sina uhakika")
