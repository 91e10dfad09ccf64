"""The offline (extractive) answerer: best FAQ answer, its translation, or a note."""

from __future__ import annotations

from backend.ai.answer import MAX_PASSAGE_CHARS, answer_offline
from tests.backend.ai.knowledge import chunk


def test_picks_the_best_faq_answer_and_cites_it():
    best = chunk("We open at 8am.", question="Opening hours?", similarity=0.91, group_key="h")
    other = chunk("Delivery is 200 KES.", question="Delivery?", similarity=0.80, group_key="d")
    answer = answer_offline([best, other], language="en", default_language="en")
    assert answer.text == "We open at 8am."
    assert answer.source_chunk_ids == [best.chunk_id]
    assert answer.confidence >= 0.8
    assert answer.topic == "Opening hours?"


def test_answers_with_the_translation_in_the_customers_language():
    english = chunk("We open at 8am.", similarity=0.90, language="en", group_key="hours")
    swahili = chunk(
        "Tunafungua saa mbili asubuhi.", similarity=0.86, language="sw", group_key="hours"
    )
    answer = answer_offline([english, swahili], language="sw", default_language="en")
    assert answer.text == "Tunafungua saa mbili asubuhi."
    assert answer.source_chunk_ids == [swahili.chunk_id, english.chunk_id]


def test_without_a_translation_answers_as_written_with_a_note_in_the_customers_language():
    english = chunk("We open at 8am.", similarity=0.90, language="en", group_key="hours")
    answer = answer_offline([english], language="es", default_language="en")
    assert answer.text == "Esto es lo que encontré (en inglés):\nWe open at 8am."
    french = answer_offline([english], language="fr", default_language="en")
    assert french.text.startswith("Voici ce que j'ai trouvé (en anglais) :")


def test_prefers_the_business_language_when_the_customers_is_missing():
    french = chunk("Ouvert dès 8h.", similarity=0.9, language="fr", group_key="hours")
    english = chunk("We open at 8am.", similarity=0.85, language="en", group_key="hours")
    answer = answer_offline([french, english], language="de", default_language="en")
    assert answer.text == "Das habe ich gefunden (auf Englisch):\nWe open at 8am."


def test_no_note_for_a_language_the_phrase_table_lacks():
    english = chunk("We open at 8am.", similarity=0.9, language="en")
    assert answer_offline([english], language="tr", default_language="en").text == (
        "We open at 8am."
    )


def test_nothing_retrieved_is_not_an_answer():
    answer = answer_offline([], language="en", default_language="en")
    assert (answer.answered, answer.confidence, answer.source_chunk_ids) == (False, 0.0, [])


def test_long_passages_are_cut_at_a_sentence():
    text = "Our cakes are baked fresh every morning. " * 40
    answer = answer_offline(
        [chunk(text, kind="text", similarity=0.9)], language="en", default_language="en"
    )
    assert len(answer.text) <= MAX_PASSAGE_CHARS + 2
    assert answer.text.endswith("morning. …")
