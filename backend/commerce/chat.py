"""Selling inside the conversation: a customer who wants to buy gets an order and a payment link.

The offline path: an explicit intent ("buy 2 sourdough", "quiero comprar pan", "nataka kununua
mkate") is matched against the active catalogue by fuzzy name; one clear product becomes an
order (prices from the catalogue) and a /pay link; several become quick-reply buttons; no match
returns None so the AI answers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from sqlmodel import Session

from backend.ai.schemas import ToolCall
from backend.commerce.schemas import CommerceError, OrderView, ProductView

# Matches at or above this score are candidates; one clearly ahead of the rest is chosen.
CANDIDATE_SCORE = 0.6
CLEAR_LEAD = 0.1
TOKEN_SCORE = 0.8
MAX_BUTTONS = 10
# The LLM's create_order tool: its name, how many product names its description lists, and
# the largest quantity per line it may ask for (create_order enforces its own limit too).
ORDER_TOOL = "create_order"
TOOL_PRODUCTS = 50
MAX_TOOL_QUANTITY = 100

# "I want to buy" in each language; the first capture after it is what they want.
_INTENTS: dict[str, list[str]] = {
    "en": [
        r"(?:hi|hello|hey)?\s*(?:i(?:'d| would)? (?:like|want|wanna) to|i wanna|can i|could i|"
        r"may i|let me|i'll|i will|please)?\s*(?:buy|order|purchase)",
    ],
    "es": [
        r"(?:hola)?\s*(?:quiero|quisiera|me gustaria|deseo|puedo|voy a)?\s*"
        r"(?:comprar|pedir|ordenar)",
    ],
    "fr": [
        r"(?:bonjour|salut)?\s*(?:je (?:veux|voudrais|souhaite|vais)|j'aimerais|je peux)?\s*"
        r"(?:acheter|commander)",
    ],
    "pt": [
        r"(?:ola|oi)?\s*(?:eu )?(?:quero|queria|gostaria de|posso|vou)?\s*"
        r"(?:comprar|encomendar|pedir)",
    ],
    "sw": [
        r"(?:habari|jambo)?\s*(?:(?:mimi )?(?:ni)?nataka|naomba|ningependa)?\s*"
        r"(?:kununua|kuagiza|nunua|agiza)",
    ],
}
_COMPILED = {
    lang: [re.compile(rf"^{p}(?:\s+(?P<rest>.*))?$") for p in patterns]
    for lang, patterns in _INTENTS.items()
}
# Verbs that also mean "buy" in another of the languages: checked in this order.
_LANGUAGE_ORDER = ("en", "es", "fr", "pt", "sw")

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "un": 1, "uno": 1, "una": 1, "dos": 2,
    "tres": 3, "cuatro": 4, "cinco": 5, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "quatro": 4, "moja": 1, "mbili": 2, "tatu": 3,
    "nne": 4, "tano": 5,
}  # fmt: skip
# Articles and politeness that say nothing about which product.
_FILLER = {
    "the", "some", "of", "de", "del", "la", "le", "les", "el", "los", "las", "des", "du", "o",
    "os", "as", "um", "uma", "x", "please", "por", "favor", "s'il", "vous", "plait", "sil",
    "pls", "thanks", "gracias", "merci", "obrigado", "obrigada", "tafadhali", "asante", "for",
    "me", "pour", "moi", "para", "mi", "mim",
}  # fmt: skip

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "buy": "Buy",
        "choose": "Which one would you like to buy?",
        "catalogue": "Here is what we sell. Which one would you like?",
        "order": "Order #{number}",
        "total": "Total: {total}",
        "pay": "Pay here: {url}",
        "follow_up": "Thank you! Online payment is not set up for {currency} yet; someone from "
        "our team will contact you to arrange payment.",
        "refused": "Sorry, I could not place this order: {reason}",
        "unknown": 'Sorry, we do not sell "{product}".',
    },
    "es": {
        "buy": "Comprar",
        "choose": "¿Cuál quieres comprar?",
        "catalogue": "Esto es lo que vendemos. ¿Qué te gustaría?",
        "order": "Pedido #{number}",
        "total": "Total: {total}",
        "pay": "Paga aquí: {url}",
        "follow_up": "¡Gracias! El pago en línea en {currency} aún no está disponible; alguien "
        "de nuestro equipo te contactará para el pago.",
        "refused": "Lo siento, no pude crear el pedido: {reason}",
        "unknown": 'Lo siento, no vendemos "{product}".',
    },
    "fr": {
        "buy": "Acheter",
        "choose": "Lequel voulez-vous acheter ?",
        "catalogue": "Voici ce que nous vendons. Que souhaitez-vous ?",
        "order": "Commande n°{number}",
        "total": "Total : {total}",
        "pay": "Payez ici : {url}",
        "follow_up": "Merci ! Le paiement en ligne en {currency} n'est pas encore disponible ; "
        "quelqu'un de notre équipe vous contactera pour le paiement.",
        "refused": "Désolé, je n'ai pas pu passer la commande : {reason}",
        "unknown": "Désolé, nous ne vendons pas « {product} ».",
    },
    "pt": {
        "buy": "Comprar",
        "choose": "Qual deles você quer comprar?",
        "catalogue": "Isto é o que vendemos. O que você gostaria?",
        "order": "Pedido #{number}",
        "total": "Total: {total}",
        "pay": "Pague aqui: {url}",
        "follow_up": "Obrigado! O pagamento online em {currency} ainda não está disponível; "
        "alguém da nossa equipe vai entrar em contato para o pagamento.",
        "refused": "Desculpe, não consegui criar o pedido: {reason}",
        "unknown": 'Desculpe, não vendemos "{product}".',
    },
    "sw": {
        "buy": "Nunua",
        "choose": "Ungependa kununua kipi?",
        "catalogue": "Hivi ndivyo tunavyouza. Ungependa nini?",
        "order": "Oda #{number}",
        "total": "Jumla: {total}",
        "pay": "Lipa hapa: {url}",
        "follow_up": "Asante! Malipo ya mtandaoni kwa {currency} bado hayajawekwa; mtu wa timu "
        "yetu atawasiliana nawe kuhusu malipo.",
        "refused": "Samahani, sikuweza kuweka oda hii: {reason}",
        "unknown": 'Samahani, hatuuzi "{product}".',
    },
}


@dataclass(frozen=True)
class PurchaseReply:
    """What to answer a customer who wants to buy (instead of the AI's answer)."""

    text: str
    quick_replies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PurchaseIntent:
    """A message asking to buy: in which language, how many, and of what (may be empty)."""

    language: str
    quantity: int
    phrase: str


def _plain(text: str) -> str:
    """Lowercase, without accents or punctuation (apostrophes kept), single-spaced."""
    text = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w'\s]", " ", text)
    return " ".join(text.split())


def _quantity(words: list[str]) -> tuple[int, list[str]]:
    quantity = 1
    if words:
        first = words[0]
        if first.isdigit():
            quantity, words = int(first), words[1:]
        elif re.fullmatch(r"x\d+|\d+x", first):
            quantity, words = int(first.strip("x")), words[1:]
        elif first in _NUMBER_WORDS:
            quantity, words = _NUMBER_WORDS[first], words[1:]
    if words and words[0] == "x":
        words = words[1:]
    if len(words) >= 2 and (re.fullmatch(r"x\d+", words[-1]) or words[-2] == "x"):
        tail = words[-1].strip("x")
        if tail.isdigit():
            quantity, words = int(tail), words[:-2] if words[-2] == "x" else words[:-1]
    return quantity, words


def parse_intent(text: str, language: str | None = None) -> PurchaseIntent | None:
    """The purchase intent in `text`, or None when the customer is not asking to buy."""
    plain = _plain(text or "")
    if not plain or len(plain) > 300:
        return None
    order = list(_LANGUAGE_ORDER)
    if language in _COMPILED:
        order.remove(language)
        order.insert(0, language)
    for lang in order:
        for pattern in _COMPILED[lang]:
            found = pattern.match(plain)
            if found is None:
                continue
            quantity, words = _quantity((found.group("rest") or "").split())
            words = [w for w in words if w not in _FILLER]
            return PurchaseIntent(language=lang, quantity=quantity, phrase=" ".join(words))
    return None


def _token_score(phrase_words: list[str], name_words: list[str]) -> float:
    if not phrase_words or not name_words:
        return 0.0
    hits = 0
    for word in phrase_words:
        best = max(SequenceMatcher(None, word, n).ratio() for n in name_words)
        hits += best >= TOKEN_SCORE
    return hits / len(phrase_words)


def match_products(phrase: str, products: list[ProductView]) -> list[ProductView]:
    """The products `phrase` could mean, best first: one when it is clear, several when not."""
    phrase = _plain(phrase)
    if not phrase:
        return []
    scored = []
    for product in products:
        name = _plain(product.name)
        if name == phrase:
            return [product]
        whole = SequenceMatcher(None, phrase, name).ratio()
        tokens = _token_score(phrase.split(), name.split())
        score = max(whole, tokens * 0.95 if tokens == 1 else tokens * 0.8)
        if score >= CANDIDATE_SCORE:
            scored.append((score, product))
    scored.sort(key=lambda pair: (-pair[0], pair[1].name))
    if len(scored) > 1 and scored[0][0] - scored[1][0] >= CLEAR_LEAD:
        return [scored[0][1]]
    return [product for _, product in scored]


def _button(strings: dict[str, str], product: ProductView, quantity: int) -> str:
    return (
        f"{strings['buy']} {quantity} x {product.name}"
        if quantity > 1
        else (f"{strings['buy']} {product.name}")
    )


def _summary(strings: dict[str, str], order: OrderView) -> list[str]:
    from backend.commerce.service import format_money

    lines = [strings["order"].format(number=order.number)]
    lines += [
        f"{item.quantity} x {item.name}: {format_money(item.line_total_cents, order.currency)}"
        for item in order.items
    ]
    lines.append(strings["total"].format(total=order.total_display))
    return lines


def purchase_reply(
    session: Session,
    *,
    business_id: int,
    conversation_id: int,
    contact_id: int | None,
    text: str,
    language: str | None,
) -> PurchaseReply | None:
    """The reply to a purchase intent in `text`, or None when the message is not one."""
    from backend.commerce import service as commerce

    intent = parse_intent(text, language)
    if intent is None:
        return None
    products = commerce.active_products(session, business_id=business_id)
    if not products:
        return None
    strings = _TEXT[intent.language]
    if not intent.phrase:
        buttons = [_button(strings, p, 1) for p in products[:MAX_BUTTONS]]
        return PurchaseReply(text=strings["catalogue"], quick_replies=buttons)
    matches = match_products(intent.phrase, products)
    if not matches:
        return None
    if len(matches) > 1:
        buttons = [_button(strings, p, intent.quantity) for p in matches[:MAX_BUTTONS]]
        return PurchaseReply(text=strings["choose"], quick_replies=buttons)
    return _order_reply(
        session,
        strings,
        business_id=business_id,
        items=[(matches[0].id, intent.quantity)],
        contact_id=contact_id,
        conversation_id=conversation_id,
    )


def _order_reply(
    session: Session,
    strings: dict[str, str],
    *,
    business_id: int,
    items: list[tuple[int, int]],
    contact_id: int | None,
    conversation_id: int,
) -> PurchaseReply:
    """Place the order (catalogue prices) and answer with its summary and payment link."""
    from backend.commerce import service as commerce

    try:
        order = commerce.create_order(
            session,
            business_id=business_id,
            items=items,
            contact_id=contact_id,
            conversation_id=conversation_id,
        )
    except CommerceError as exc:
        return PurchaseReply(text=strings["refused"].format(reason=exc.message))
    lines = _summary(strings, order)
    currency = order.currency
    if not _payable_currencies(session, business_id=business_id, currencies={currency}):
        return PurchaseReply(text="\n".join([*lines, strings["follow_up"].format(
            currency=order.currency)]))  # fmt: skip
    from backend.payments import service as payments
    from backend.payments.schemas import PaymentError

    try:
        link = payments.create_payment_link(session, business_id=business_id, order_id=order.id)
    except PaymentError:
        # E.g. a free order: nothing to pay online, the team follows up.
        return PurchaseReply(text="\n".join([*lines, strings["follow_up"].format(
            currency=order.currency)]))  # fmt: skip
    return PurchaseReply(text="\n".join([*lines, strings["pay"].format(url=link.url)]))


# --- the online path: the LLM calls the create_order tool ------------------------------------


def _payable_currencies(session: Session, *, business_id: int, currencies: set[str]) -> set[str]:
    """Which of `currencies` at least one enabled payment provider of the business accepts."""
    from backend.payments import registry
    from backend.payments import service as payments

    payable: set[str] = set()
    for provider in payments.list_providers(session, business_id=business_id):
        if not provider.is_enabled:
            continue
        try:
            adapter = registry.get_provider(provider.kind)
        except registry.UnknownProvider:
            continue
        accepted = {c.upper() for c in (provider.currencies or adapter.currencies or ())}
        payable |= {c for c in currencies if not accepted or c.upper() in accepted}
    return payable


def order_tool(session: Session, *, business_id: int) -> dict[str, Any] | None:
    """The `create_order` tool schema for the LLM, or None when nothing can be paid online.

    Offered only when the business sells active products in a currency one of its enabled
    payment providers accepts; the description names those products so the model picks real ones.
    """
    from backend.commerce import service as commerce

    products = commerce.active_products(session, business_id=business_id)
    if not products:
        return None
    payable = _payable_currencies(
        session, business_id=business_id, currencies={p.currency for p in products}
    )
    names = [p.name for p in products if p.currency in payable][:TOOL_PRODUCTS]
    if not names:
        return None
    return {
        "type": "function",
        "function": {
            "name": ORDER_TOOL,
            "description": (
                "Create an order and a payment link when the customer clearly asks to buy. "
                "Use product names exactly as sold; prices come from the catalogue. "
                f"Products sold: {'; '.join(names)}."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_BUTTONS,
                        "items": {
                            "type": "object",
                            "properties": {
                                "product": {
                                    "type": "string",
                                    "minLength": 1,
                                    "description": "The product's name as in the catalogue.",
                                },
                                "quantity": {
                                    "type": "integer",
                                    "minimum": 1,
                                    "maximum": MAX_TOOL_QUANTITY,
                                },
                            },
                            "required": ["product", "quantity"],
                        },
                    }
                },
                "required": ["items"],
            },
        },
    }


def reply_to_tool_call(
    session: Session,
    *,
    business_id: int,
    conversation_id: int,
    contact_id: int | None,
    call: ToolCall,
    language: str | None,
) -> PurchaseReply:
    """Answer the model's `create_order` call: an order and its link, or what is sold instead.

    Each item's product is matched by name against the active catalogue like the offline path;
    only names and quantities are taken from the call, never prices.
    """
    from backend.commerce import service as commerce

    strings = _TEXT.get(language or "", _TEXT["en"])
    products = commerce.active_products(session, business_id=business_id)
    catalogue = [_button(strings, p, 1) for p in products[:MAX_BUTTONS]]
    items: list[tuple[int, int]] = []
    for item in call.arguments.get("items") or []:
        if not isinstance(item, dict):
            continue  # the engine checked the schema; a caller that did not gets no order line
        name = str(item.get("product") or "").strip()
        quantity = item.get("quantity")
        matches = match_products(name, products)
        if not matches:
            text = "\n".join([strings["unknown"].format(product=name[:80]), strings["catalogue"]])
            return PurchaseReply(text=text, quick_replies=catalogue)
        if len(matches) > 1:
            buttons = [_button(strings, p, quantity) for p in matches[:MAX_BUTTONS]]
            return PurchaseReply(text=strings["choose"], quick_replies=buttons)
        items.append((matches[0].id, quantity))
    if not items:
        return PurchaseReply(text=strings["catalogue"], quick_replies=catalogue)
    return _order_reply(
        session,
        strings,
        business_id=business_id,
        items=items,
        contact_id=contact_id,
        conversation_id=conversation_id,
    )
