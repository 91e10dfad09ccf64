"""Which language the customer writes in (ISO 639-1), with a fallback for short or unclear text."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from backend.ai.prompts import PHRASES

# A limited set keeps the detector small and fast and avoids look-alikes (Bokmål reads
# "Hello, when do you open?" as Norwegian when it is in the set).
DETECTED_LANGUAGES: tuple[Language, ...] = (
    Language.ENGLISH,
    Language.FRENCH,
    Language.SPANISH,
    Language.PORTUGUESE,
    Language.GERMAN,
    Language.ITALIAN,
    Language.DUTCH,
    Language.SWEDISH,
    Language.POLISH,
    Language.SWAHILI,
    Language.ARABIC,
    Language.HINDI,
    Language.URDU,
    Language.YORUBA,
    Language.ZULU,
    Language.SOMALI,
    Language.TURKISH,
    Language.RUSSIAN,
    Language.UKRAINIAN,
    Language.CHINESE,
    Language.JAPANESE,
    Language.KOREAN,
    Language.INDONESIAN,
    Language.VIETNAMESE,
    Language.PERSIAN,
)
# Measured on short customer messages: 0.25 turns "price?" / "I want a cake" into "unsure"
# (then the conversation's language is used) instead of Zulu / Turkish guesses.
MIN_RELATIVE_DISTANCE = 0.25
# Fewer letters than this (e.g. "ok", "hi", "👍") say nothing about the language.
MIN_LETTERS = 4

# Single words that name their language even though they are too short for the detector.
_SHORT_WORDS: dict[str, str] = {
    "hola": "es",
    "gracias": "es",
    "buenas": "es",
    "merci": "fr",
    "bonjour": "fr",
    "bonsoir": "fr",
    "salut": "fr",
    "asante": "sw",
    "habari": "sw",
    "jambo": "sw",
    "shikamoo": "sw",
    "mambo": "sw",
    "obrigado": "pt",
    "obrigada": "pt",
    "olá": "pt",
    "danke": "de",
    "tschüss": "de",
    "grazie": "it",
    "ciao": "it",
    "buongiorno": "it",
    "tack": "sv",
    "hej": "sv",
    "bedankt": "nl",
    "dankjewel": "nl",
    "goedemorgen": "nl",
    "شكرا": "ar",
    "مرحبا": "ar",
    "السلام": "ar",
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# The quick replies BizBot offers come back verbatim, in the language they were offered in.
_QUICK_REPLIES: dict[str, str] = {
    " ".join(_WORD.findall(table[key].casefold())): lang
    for lang, table in PHRASES.items()
    for key in ("talk_to_person", "keep_chatting")
}

# Frequent short words of the languages customers write most. Low-accuracy lingua misreads
# short chat lines ("can I pay with mpesa" → Zulu, "what is the capital of france" → German);
# two or more of these words, with a clear lead, settle the language first.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the is are you your what when where how can do does i my me with have has of "
        "and to please want it this that for we there",
        "fr": "le la les est vous je nous une un des du pour avec pas que qui quel quelle "
        "combien mon ma mes oui non au aux sur à peux voudrais ce",
        "es": "el los las es usted yo una para con por que qué cuánto cuanto cuándo dónde "
        "tienen hay mi quiero puedo del muy está cómo",
        "pt": "o os as é você vocês eu uma um para com por que quanto quando onde têm tem "
        "meu minha quero posso do da não sim está como",
        "sw": "ya na kwa ni nataka je wa za bei gani nini wapi lini mna una sana asante "
        "habari tafadhali ndiyo hapana hii hiyo kama",
        "de": "der die das ist sie ich wir ein eine und mit für nicht haben habt ihr wann "
        "wo wie was kann können bitte danke mein meine",
        "it": "il lo gli è sono io noi una per con che non quanto quando dove avete posso "
        "vorrei grazie mio mia della del",
        "nl": "de het een is ik wij jullie je u en met voor niet wat wanneer waar hoe kan "
        "kunnen hebben heeft graag bedankt mijn dat van",
        "sv": "och det är jag vi ni en ett med för inte vad när var hur kan har tack min "
        "mitt den att till om",
    }.items()
}
MIN_FUNCTION_WORDS = 2


def _function_word_vote(text: str) -> str | None:
    tokens = _WORD.findall(text.casefold())
    counts = sorted(
        ((sum(t in words for t in tokens), lang) for lang, words in FUNCTION_WORDS.items()),
        reverse=True,
    )
    (best, lang), (second, _) = counts[0], counts[1]
    return lang if best >= MIN_FUNCTION_WORDS and best > second else None


@lru_cache(maxsize=1)
def detector() -> LanguageDetector:
    """The process's one language detector, built on first use."""
    return (
        LanguageDetectorBuilder.from_languages(*DETECTED_LANGUAGES)
        .with_minimum_relative_distance(MIN_RELATIVE_DISTANCE)
        .with_low_accuracy_mode()
        .build()
    )


def _letters(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L"))


def detect(text: str) -> str | None:
    """The ISO 639-1 code of `text`'s language, or None when the text is too short or unclear."""
    cleaned = " ".join(_WORD.findall(text.casefold()))
    if cleaned in _SHORT_WORDS or cleaned in _QUICK_REPLIES:
        return _SHORT_WORDS.get(cleaned) or _QUICK_REPLIES[cleaned]
    if _letters(text) < MIN_LETTERS:
        return None
    voted = _function_word_vote(text)
    if voted is not None:
        return voted
    found = detector().detect_language_of(text)
    if found is None:
        return None
    return found.iso_code_639_1.name.lower()


def choose(text: str, *, conversation_language: str | None, default_language: str) -> str:
    """The language to answer in: the message's, else the conversation's, else the business's."""
    return detect(text) or conversation_language or default_language
