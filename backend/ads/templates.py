"""Offline ad copy: hand-written templates per language, filled with the product's data.

Used when no LLM is configured, or when its answer cannot be used. Every template reads well on
its own; those naming a price or a description are only used when there is one. Texts are fitted
to the platform's limits (a long description is cut at a word, never mid-word).
"""

from __future__ import annotations

import re
from dataclasses import replace

from backend.ads.schemas import CTA_MAX, LIMITS, AdBrief, AdVariant

__all__ = ["chat_text", "shorten", "write"]

# {name}, {price}, {description} and {business} are filled in; see the module docstring.
TEXTS: dict[str, dict] = {
    "en": {
        "headlines": [
            "{name} — only {price}",
            "{name} at {business}",
            "Treat yourself to {name}",
            "New favourite: {name}",
            "{name}, made for you",
            "Get {name} for {price}",
            "Try {name} today",
        ],
        "bodies": [
            "{description} Get yours for {price} at {business}. Message us to order!",
            "Looking for {name}? {business} has it for {price}. Chat with us and we'll sort "
            "you out.",
            "{description} Order from {business} in a few taps — just send us a message.",
            "Why wait? {name} from {business} is ready for you. Message us now to order.",
            "Loved by our customers: {name}. Ask {business} anything — we reply fast.",
            "{name} for {price}. {description}",
            "Say hello to {name}! Send {business} a message and we'll take care of the rest.",
        ],
        "cta": {
            "whatsapp": ["Chat on WhatsApp", "Send us a message", "Order on WhatsApp"],
            "instagram": ["Send message", "Shop now", "Learn more"],
            "facebook": ["Send message", "Shop now", "Order now", "Learn more"],
        },
        "chat": "Hi! I'd like the {name} (ref {ref})",
        "chat_offer": "Hi! I'm interested in your offer: {name} (ref {ref})",
    },
    "fr": {
        "headlines": [
            "{name} — seulement {price}",
            "{name} chez {business}",
            "Offrez-vous {name}",
            "Nouveau coup de cœur : {name}",
            "{name}, fait pour vous",
            "{name} pour {price}",
            "Essayez {name} aujourd'hui",
        ],
        "bodies": [
            "{description} Le vôtre pour {price} chez {business}. Écrivez-nous pour commander !",
            "Vous cherchez {name} ? {business} l'a pour {price}. Écrivez-nous, on s'occupe "
            "de tout.",
            "{description} Commandez chez {business} en quelques clics : envoyez-nous un message.",
            "Pourquoi attendre ? {name} de {business} vous attend. Écrivez-nous pour commander.",
            "Nos clients l'adorent : {name}. Une question ? {business} répond vite.",
            "{name} pour {price}. {description}",
            "Dites bonjour à {name} ! Envoyez un message à {business}, on fait le reste.",
        ],
        "cta": {
            "whatsapp": ["Discuter sur WhatsApp", "Écrivez-nous", "Commander sur WhatsApp"],
            "instagram": ["Envoyer un message", "Acheter", "En savoir plus"],
            "facebook": ["Envoyer un message", "Acheter", "Commander", "En savoir plus"],
        },
        "chat": "Bonjour ! Je voudrais {name} (ref {ref})",
        "chat_offer": "Bonjour ! Votre offre m'intéresse : {name} (ref {ref})",
    },
    "es": {
        "headlines": [
            "{name} — solo {price}",
            "{name} en {business}",
            "Date un gusto con {name}",
            "Tu nuevo favorito: {name}",
            "{name}, hecho para ti",
            "{name} por {price}",
            "Prueba {name} hoy",
        ],
        "bodies": [
            "{description} Llévatelo por {price} en {business}. ¡Escríbenos para pedir!",
            "¿Buscas {name}? {business} lo tiene por {price}. Escríbenos y te ayudamos.",
            "{description} Pide a {business} en pocos toques: solo envíanos un mensaje.",
            "¿Por qué esperar? {name} de {business} te espera. Escríbenos ahora para pedir.",
            "A nuestros clientes les encanta: {name}. Pregunta a {business}, respondemos rápido.",
            "{name} por {price}. {description}",
            "¡Saluda a {name}! Envía un mensaje a {business} y nos encargamos del resto.",
        ],
        "cta": {
            "whatsapp": ["Chatea por WhatsApp", "Envíanos un mensaje", "Pide por WhatsApp"],
            "instagram": ["Enviar mensaje", "Comprar", "Más información"],
            "facebook": ["Enviar mensaje", "Comprar", "Pedir ahora", "Más información"],
        },
        "chat": "¡Hola! Quiero {name} (ref {ref})",
        "chat_offer": "¡Hola! Me interesa su oferta: {name} (ref {ref})",
    },
    "pt": {
        "headlines": [
            "{name} — só {price}",
            "{name} | {business}",
            "Você merece {name}",
            "Novo favorito: {name}",
            "{name}, feito para você",
            "{name} por {price}",
            "Experimente {name} hoje",
        ],
        "bodies": [
            "{description} Garanta o seu por {price} com {business}. Mande uma mensagem para "
            "pedir!",
            "Procurando {name}? {business} tem por {price}. Fale com a gente e resolvemos tudo.",
            "{description} Peça para {business} em poucos toques: é só mandar uma mensagem.",
            "Por que esperar? {name} de {business} está pronto para você. Mande uma mensagem.",
            "Nossos clientes adoram: {name}. Pergunte o que quiser — {business} responde rápido.",
            "{name} por {price}. {description}",
            "Diga olá para {name}! Mande uma mensagem para {business} e cuidamos do resto.",
        ],
        "cta": {
            "whatsapp": ["Conversar no WhatsApp", "Mande uma mensagem", "Pedir pelo WhatsApp"],
            "instagram": ["Enviar mensagem", "Comprar agora", "Saiba mais"],
            "facebook": ["Enviar mensagem", "Comprar agora", "Peça agora", "Saiba mais"],
        },
        "chat": "Olá! Quero {name} (ref {ref})",
        "chat_offer": "Olá! Tenho interesse na oferta: {name} (ref {ref})",
    },
    "sw": {
        "headlines": [
            "{name} — {price} tu",
            "{name} kutoka {business}",
            "Jipatie {name}",
            "Kipendwa kipya: {name}",
            "{name}, kwa ajili yako",
            "{name} kwa {price}",
            "Jaribu {name} leo",
        ],
        "bodies": [
            "{description} Pata yako kwa {price} kutoka {business}. Tutumie ujumbe kuagiza!",
            "Unatafuta {name}? {business} inayo kwa {price}. Ongea nasi tukuhudumie.",
            "{description} Agiza kutoka {business} kwa urahisi: tutumie ujumbe tu.",
            "Kwa nini usubiri? {name} kutoka {business} iko tayari kwako. Tutumie ujumbe sasa.",
            "Wateja wetu wanaipenda: {name}. Uliza {business} chochote — tunajibu haraka.",
            "{name} kwa {price}. {description}",
            "Karibu {name}! Tuma ujumbe kwa {business} nasi tutashughulikia mengine.",
        ],
        "cta": {
            "whatsapp": ["Ongea nasi WhatsApp", "Tutumie ujumbe", "Agiza kwa WhatsApp"],
            "instagram": ["Tuma ujumbe", "Nunua sasa", "Jifunze zaidi"],
            "facebook": ["Tuma ujumbe", "Nunua sasa", "Agiza sasa", "Jifunze zaidi"],
        },
        "chat": "Habari! Ningependa {name} (ref {ref})",
        "chat_offer": "Habari! Nina nia na ofa yenu: {name} (ref {ref})",
    },
}

_PLAYFUL = ("✨", "🔥", "🎉", "😍", "🙌")
# Shortest room worth giving a description; below it the template without one reads better.
_MIN_DESCRIPTION = 20


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut at a word with "…" when too long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    if " " in cut[len(cut) // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:—-.") + "…"


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def _fill(template: str, brief: AdBrief, limit: int) -> str | None:
    """The template filled in within `limit` characters, or None when it cannot fit."""
    if "{price}" in template and not brief.price:
        return None
    if "{description}" in template and not brief.description:
        return None
    fields = {"name": brief.name, "price": brief.price, "business": brief.business_name}

    def render(description: str) -> str:
        return " ".join(template.format(description=description, **fields).split())

    if "{description}" not in template:
        text = render("")
        return text if len(text) <= limit else None
    room = limit - len(render("")) - 1  # the space between the description and the rest
    if room < _MIN_DESCRIPTION:
        return None
    for description in (brief.description, _first_sentence(brief.description)):
        if len(render(description)) <= limit:
            return render(description)
    text = render(shorten(brief.description, room))
    return text if len(text) <= limit else None


def _toned(text: str, tone: str, index: int, limit: int) -> str:
    if tone == "professional":
        return text.replace("¡", "").replace(" !", ".").replace("!", ".")
    if tone == "playful":
        emoji = _PLAYFUL[index % len(_PLAYFUL)]
        if len(text) + 2 <= limit:
            return f"{text} {emoji}"
    return text


def _pick(templates: list[str], brief: AdBrief, limit: int, index: int, used: set[str]) -> str:
    """The index-th variant's text: the next template that fits and is not used yet."""
    rotated = templates[index:] + templates[:index]
    # A name too long for every template is shortened until some fit.
    for name_length in (None, 30, 18):
        short = (
            brief if name_length is None else replace(brief, name=shorten(brief.name, name_length))
        )
        fitting = [t for t in (_fill(x, short, limit) for x in rotated) if t]
        for text in fitting:
            if text not in used:
                return text
        if fitting:
            return fitting[0]
    return shorten(brief.name, limit)


def write(brief: AdBrief) -> list[AdVariant]:
    """`brief.count` variants in the brief's language, each within the platform's limits."""
    texts = TEXTS.get(brief.language, TEXTS["en"])
    limits = LIMITS[brief.platform]
    ctas = texts["cta"][brief.platform]
    variants: list[AdVariant] = []
    used_headlines: set[str] = set()
    used_bodies: set[str] = set()
    for index in range(brief.count):
        headline = _pick(texts["headlines"], brief, limits.headline, index, used_headlines)
        body = _pick(texts["bodies"], brief, limits.primary_text, index, used_bodies)
        used_headlines.add(headline)
        used_bodies.add(body)
        variants.append(
            AdVariant(
                headline=_toned(headline, brief.tone, index, limits.headline),
                primary_text=_toned(body, brief.tone, index + 1, limits.primary_text),
                call_to_action=shorten(ctas[index % len(ctas)], CTA_MAX),
            )
        )
    return variants


def chat_text(*, language: str, name: str, ref_code: str, is_offer: bool) -> str:
    """The message a click-to-chat link prefills, carrying the ad's ref code."""
    texts = TEXTS.get(language, TEXTS["en"])
    template = texts["chat_offer"] if is_offer else texts["chat"]
    return template.format(name=shorten(name, 60), ref=ref_code)
