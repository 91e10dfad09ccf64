"""Language detection: ISO 639-1 codes, and short or unclear text falls back."""

from __future__ import annotations

import pytest

from backend.ai import language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hello, when do you open?", "en"),
        ("what is the capital of france", "en"),
        ("can I pay with mpesa", "en"),
        ("Bonjour, vous êtes ouverts dimanche ?", "fr"),
        ("¿A qué hora abren?", "es"),
        ("Olá, vocês fazem entrega?", "pt"),
        ("Wann habt ihr geöffnet?", "de"),
        ("Voglio una torta", "it"),
        ("Ik wil een taart", "nl"),
        ("När öppnar ni?", "sv"),
        ("Habari, mnafungua saa ngapi?", "sw"),
        ("Nataka keki ya birthday, bei gani?", "sw"),
        ("أريد طلب كعكة", "ar"),
        ("मुझे केक चाहिए", "hi"),
        ("Ṣé ẹ máa ń ta búrẹ́dì?", "yo"),
        ("Ngifuna ukukhuluma nomuntu", "zu"),
        ("Waxaan rabaa inaan la hadlo qof", "so"),
        ("Pasta siparişi vermek istiyorum", "tr"),
        ("Я хочу заказать торт", "ru"),
        ("我想订一个蛋糕", "zh"),
        ("ケーキを注文したいです", "ja"),
    ],
)
def test_detects_the_language_as_an_iso_639_1_code(text, code):
    assert language.detect(text) == code


@pytest.mark.parametrize("text", ["hi", "ok", "👍", "??", "100", "price?", "lol", ""])
def test_short_or_unclear_text_is_not_guessed(text):
    assert language.detect(text) is None


@pytest.mark.parametrize(("text", "code"), [("hola", "es"), ("merci", "fr"), ("asante", "sw")])
def test_short_words_that_name_their_language(text, code):
    assert language.detect(text) == code


def test_short_text_falls_back_to_the_conversation_then_the_business_language():
    assert language.choose("ok", conversation_language="fr", default_language="en") == "fr"
    assert language.choose("👍", conversation_language=None, default_language="sw") == "sw"
    assert (
        language.choose("Je voudrais un gâteau", conversation_language="en", default_language="en")
        == "fr"
    )


def test_one_detector_per_process():
    assert language.detector() is language.detector()
