"""Opt-out by reply: a customer who writes STOP gets no more broadcasts; START undoes it.

Conservative on purpose: only a message that *is* a keyword counts ("STOP", "Stop!",
"unsubscribe", "arrêt", "baja", "acha"…), never a sentence that contains one ("don't stop
the delivery"). Case, accents, surrounding punctuation and emoji are ignored. The pipeline
calls `handle_keyword` before the AI engine: when it returns a reply, that short
confirmation (in the customer's language) is sent instead of an AI answer.

This module imports only models, events, the templates repository and the engine's text
folding (`backend.ai.rules.normalize`), so the pipeline (backend.conversations) may call it
without depending on the inbox, handoff or notifications.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from backend import events
from backend.ai.rules import normalize
from backend.models.base import utcnow
from backend.templates import repository as repo

OPTED_OUT, OPTED_IN = "opted_out", "opted_in"

# Whole-message keywords that stop broadcasts, per language (the languages the engine
# answers in). The same word may belong to several languages ("stop", "parar").
STOP_KEYWORDS: dict[str, tuple[str, ...]] = {
    "en": ("stop", "unsubscribe", "stop messages", "stop all", "stop promotions", "opt out",
           "optout", "cancel subscription"),
    "fr": ("stop", "arrêt", "arrête", "arrêter", "désabonner", "désabonnement",
           "me désabonner", "désinscrire", "me désinscrire"),
    "es": ("stop", "baja", "parar", "darme de baja", "dar de baja", "cancelar suscripción"),
    "pt": ("stop", "parar", "sair", "cancelar inscrição", "descadastrar"),
    "sw": ("stop", "acha", "sitisha", "jiondoe", "nitoe"),
    "de": ("stop", "stopp", "abmelden", "abbestellen"),
    "it": ("stop", "disiscrivi", "disiscrivimi", "cancellami"),
    "nl": ("stop", "afmelden", "uitschrijven"),
    "sv": ("stop", "stopp", "avregistrera", "avsluta prenumeration"),
    "ar": ("stop", "توقف", "إيقاف", "إلغاء الاشتراك"),
}  # fmt: skip
# Whole-message keywords that subscribe again (only when the contact had opted out: a plain
# "start" from anyone else is an ordinary message for the AI).
START_KEYWORDS: dict[str, tuple[str, ...]] = {
    "en": ("start", "unstop", "subscribe", "resubscribe", "opt in"),
    "fr": ("start", "s'abonner", "réabonner", "me réabonner"),
    "es": ("start", "alta", "darme de alta"),
    "pt": ("start", "voltar a receber"),
    "sw": ("start", "anza", "jiunge"),
    "de": ("start", "anmelden"),
    "it": ("start", "iscrivimi"),
    "nl": ("start", "aanmelden"),
    "sv": ("start",),
    "ar": ("start", "اشتراك"),
}

CONFIRM_STOP: dict[str, str] = {
    "en": "You won't receive our broadcasts any more. Write START to subscribe again.",
    "fr": "Vous ne recevrez plus nos messages de diffusion. Écrivez START pour vous réabonner.",
    "es": "Ya no recibirás nuestros mensajes de difusión. Escribe START para suscribirte de nuevo.",
    "pt": "Você não vai mais receber nossas mensagens de difusão. Escreva START para voltar a "
    "receber.",
    "sw": "Hutapokea tena matangazo yetu. Andika START ili kujiunga tena.",
    "de": "Sie erhalten keine Rundnachrichten mehr von uns. Schreiben Sie START, um sie wieder "
    "zu erhalten.",
    "it": "Non riceverai più i nostri messaggi broadcast. Scrivi START per iscriverti di nuovo.",
    "nl": "Je ontvangt onze berichten niet meer. Stuur START om je weer aan te melden.",
    "sv": "Du får inte längre våra utskick. Skriv START för att prenumerera igen.",
    "ar": "لن تصلك رسائلنا الجماعية بعد الآن. اكتب START للاشتراك من جديد.",
}
CONFIRM_START: dict[str, str] = {
    "en": "You're subscribed to our broadcasts again. Write STOP to stop them.",
    "fr": "Vous êtes de nouveau abonné(e) à nos messages de diffusion. Écrivez STOP pour les "
    "arrêter.",
    "es": "Vuelves a estar suscrito a nuestros mensajes de difusión. Escribe STOP para dejar "
    "de recibirlos.",
    "pt": "Você voltou a receber nossas mensagens de difusão. Escreva STOP para parar.",
    "sw": "Umejiunga tena na matangazo yetu. Andika STOP kuyasitisha.",
    "de": "Sie erhalten unsere Rundnachrichten wieder. Schreiben Sie STOP, um sie abzubestellen.",
    "it": "Riceverai di nuovo i nostri messaggi broadcast. Scrivi STOP per non riceverli più.",
    "nl": "Je ontvangt onze berichten weer. Stuur STOP om te stoppen.",
    "sv": "Du får våra utskick igen. Skriv STOP för att sluta.",
    "ar": "ستصلك رسائلنا الجماعية من جديد. اكتب STOP لإيقافها.",
}
# Longer than any keyword: a longer message is never one (and is not normalised at all).
_MAX_KEYWORD_CHARS = 40


def _index(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for language, words in table.items():
        for word in words:
            found.setdefault(normalize(word), []).append(language)
    return {word: tuple(languages) for word, languages in found.items()}


_STOP = _index(STOP_KEYWORDS)
_START = _index(START_KEYWORDS)


def keyword_of(text: str) -> tuple[str, tuple[str, ...]] | None:
    """(OPTED_OUT or OPTED_IN, the languages the keyword belongs to) when the whole message is
    an opt-out or opt-in keyword; None for anything else."""
    if not text or len(text.strip()) > _MAX_KEYWORD_CHARS:
        return None
    word = normalize(text)
    if word in _STOP:
        return OPTED_OUT, _STOP[word]
    if word in _START:
        return OPTED_IN, _START[word]
    return None


@dataclass(frozen=True)
class KeywordReply:
    """What the pipeline sends instead of an AI answer: the confirmation and its language."""

    action: str  # OPTED_OUT or OPTED_IN
    text: str
    language: str


def _language(candidates: tuple[str, ...], *hints: str | None) -> str:
    """The keyword's language; for a word several languages share, the customer's known one."""
    for hint in hints:
        short = (hint or "").split("-")[0].split("_")[0].lower()
        if short in candidates:
            return short
    return candidates[0] if candidates[0] in CONFIRM_STOP else "en"


def handle_keyword(
    session: Session, *, business_id: int, contact_id: int, text: str, language: str | None = None
) -> KeywordReply | None:
    """Opt the contact out (STOP) or back in (START) when the whole message is such a keyword.

    Returns the confirmation to send instead of an AI answer, or None when the message is not
    a keyword (or START from a contact who never opted out): the AI answers it as usual.
    `language` is the conversation's language, used when a keyword is shared ("stop").
    """
    found = keyword_of(text)
    if found is None:
        return None
    action, candidates = found
    contact = repo.lock_contact(session, business_id=business_id, contact_id=contact_id)
    if contact is None:
        return None
    if action == OPTED_IN and contact.opted_out_at is None:
        return None
    reply_language = _language(candidates, contact.language, language)
    _set(session, contact, opted_out=action == OPTED_OUT, source="keyword")
    table = CONFIRM_STOP if action == OPTED_OUT else CONFIRM_START
    return KeywordReply(action=action, text=table[reply_language], language=reply_language)


def set_opted_out(
    session: Session, *, business_id: int, contact_id: int, opted_out: bool, source: str = "agent"
) -> bool:
    """Opt a contact of the business out of broadcasts (or back in); whether anything changed.

    Raises LookupError when the business has no such contact.
    """
    contact = repo.lock_contact(session, business_id=business_id, contact_id=contact_id)
    if contact is None:
        raise LookupError("This contact does not exist (any more); reload the page.")
    return _set(session, contact, opted_out=opted_out, source=source)


def _set(session: Session, contact, *, opted_out: bool, source: str) -> bool:
    if (contact.opted_out_at is not None) == opted_out:
        return False  # already so: the first opt-out's time is kept
    contact.opted_out_at = utcnow() if opted_out else None
    session.add(contact)
    session.flush()
    events.publish(session, "contact.updated", business_id=contact.business_id,
                   contact_id=contact.id, opted_out=opted_out, source=source)  # fmt: skip
    return True
