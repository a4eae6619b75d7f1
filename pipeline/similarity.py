"""How close a back-translation comes to the English it should say: sentence-level chrF.

chrF (Popović 2015; sacrebleu's implementation, character 6-grams, beta 2,
0-100) is robust to the rewording every back-translation brings (synonyms,
inflection, word order), which is why it is used here rather than BLEU.

Threshold, measured on the shipped fact blocks (2026-11-30): hand-written
correct back-translations of 14 strings, some heavily reworded ("After a pause
in consumption, such as prison or detoxification, your usual dose can kill
you."), scored 37 to 100; back-translations saying something else (another
block's sentence, a reversed instruction, the tiny test model's repeated
words, gibberish) scored 5 to 31. Below LOW_SIMILARITY (35) the translation
probably does not say what the English says. chrF cannot see a dropped "not"
(that scores about 80): it catches gross departures, and the word diff next to
it is what shows a reviewer the small ones.

Labels of a few words are too short for the score to mean anything ("Call"
back-translated as "Phone" scores 0, "Get help" as "Ask for help" 26): no
warning is raised below MIN_WORDS English words; the reviewer still sees the
back-translation and its diff.
"""

from __future__ import annotations

import functools

LOW_SIMILARITY = 35.0
MIN_WORDS = 6


@functools.lru_cache(maxsize=1)
def _metric():
    from sacrebleu.metrics import CHRF

    return CHRF()


def score_similarity(english: str, back_translation: str) -> float:
    """Sentence-level chrF of the back-translation against the English, 0-100."""
    return round(_metric().sentence_score(back_translation, [english]).score, 1)


def is_low_similarity(english: str, back_translation: str) -> bool:
    """Whether the back-translation is far enough from a long-enough English to warn about."""
    return len(english.split()) >= MIN_WORDS and score_similarity(english, back_translation) < LOW_SIMILARITY
