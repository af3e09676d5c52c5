"""Language-aware analysis: stemming, folding, stop words and language detection per language."""
from __future__ import annotations

from suggest import analysis
from suggest.language import detect, from_locale, resolve


def test_english_stems_inflections_to_one_term():
    assert analysis.terms("resetting passwords", "en") == analysis.terms("reset password", "en")


def test_german_stems_and_folds_umlauts():
    assert analysis.terms("Passwörter", "de") == analysis.terms("Passwort", "de")
    assert analysis.terms("zurücksetzen", "de") == analysis.terms("zurucksetzen", "de")


def test_polish_stems_and_folds_diacritics():
    assert analysis.terms("płatności", "pl") == analysis.terms("płatność", "pl")
    assert analysis.fold("żółć łódź") == "zolc lodz"


def test_russian_yo_is_ye_and_stems():
    assert analysis.terms("Ёлка", "ru") == analysis.terms("елки", "ru")
    assert analysis.words("ЁЖИК") == ["ежик"]


def test_stop_words_are_known_per_language_and_kept_unless_asked():
    for lang, word in (("en", "the"), ("de", "und"), ("pl", "jest"), ("ru", "и")):
        assert word in analysis.stop_words(lang)
    assert analysis.terms("the invoice", "en") == ["the", "invoic"]
    assert analysis.terms("the invoice", "en", keep_stop_words=False) == ["invoic"]
    assert analysis.terms("the", "en", keep_stop_words=False) == ["the"]  # never empties a query


def test_character_grams_mark_word_boundaries():
    assert analysis.grams("reset") == ("^res", "rese", "eset", "set$")
    assert analysis.grams("ok") == ("^ok$",)


def test_language_from_locale_then_text_then_default():
    assert from_locale("de-AT") == "de"
    assert from_locale("fr-FR") is None
    assert detect("Nie mogę się zalogować, co mam zrobić?", "en") == "pl"
    assert detect("Ich kann mich nicht anmelden, was soll ich tun?", "en") == "de"
    assert detect("Не могу войти в личный кабинет", "en") == "ru"
    assert detect("12345", "de") == "de"


def test_mixed_script_and_shared_stop_words_do_not_hide_the_language():
    assert detect("Не работает VPN client на MacBook Pro 14 M1", "en") == "ru"
    assert detect("Outlook 365 не синхронизирует Exchange mailbox", "en") == "ru"
    assert detect("Zwrot pieniędzy za zamówienie", "en") == "pl"
    assert detect("Größe der Datei", "en") == "de"
    assert detect("My order has not arrived", "pl") == "en"
    assert resolve(None, "pl-PL", "the text is English", "en") == "pl"
    assert resolve("RU", None, "", "en") == "ru"
