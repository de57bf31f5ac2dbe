"""The controlled vocabulary: the Protocol's terms exactly, and national terms that map onto them."""

from __future__ import annotations

from palermo.law.library import default_library
from palermo.law.model import Category

# National terms with no protocol counterpart on purpose (see the comments in vocabulary.yaml).
UNMAPPED = {"advertises", "patronizes", "solicits", "benefits_from_venture", "obtaining_labour_or_services",
            "holding_in_servitude", "withholding_identity_documents", "travels_for_illicit_sex",
            "marriage_for_exploitation", "sex_tourism"}


def protocol_ids(category: Category) -> set[str]:
    return {t.id for t in default_library().vocabulary.terms if t.protocol and t.category == category}


def test_protocol_acts_are_the_five_of_art_3a() -> None:
    acts = {"recruitment", "transportation", "transfer", "harbouring", "receipt"}
    assert protocol_ids(Category.ACT) == acts


def test_protocol_means_are_the_nine_of_art_3a() -> None:
    assert protocol_ids(Category.MEANS) == {
        "threat_of_force", "use_of_force", "other_coercion", "abduction", "fraud", "deception",
        "abuse_of_power", "abuse_of_vulnerability", "payments_to_controller"}


def test_protocol_purposes_are_the_seven_minimum_forms() -> None:
    assert protocol_ids(Category.PURPOSE) == {
        "exploitation_of_prostitution", "other_sexual_exploitation", "forced_labour", "slavery",
        "practices_similar_to_slavery", "servitude", "organ_removal"}


def test_every_national_term_reaches_a_protocol_term_unless_deliberately_unmapped() -> None:
    vocab = default_library().vocabulary
    unmapped = {t.id for t in vocab.terms if not t.protocol and not vocab.protocol_terms(t.id)}
    assert unmapped == UNMAPPED


def test_national_terms_name_their_jurisdictions() -> None:
    vocab = default_library().vocabulary
    assert all(t.jurisdictions for t in vocab.terms if not t.protocol)


def test_us_provides_maps_to_the_protocol_transfer() -> None:
    assert default_library().vocabulary.protocol_terms("provides") == {"transfer"}


def test_french_hebergement_maps_to_harbouring() -> None:
    assert default_library().vocabulary.protocol_terms("hebergement") == {"harbouring"}


def test_national_terms_keep_the_category_of_their_protocol_term() -> None:
    vocab = default_library().vocabulary
    for term in vocab.terms:
        for target in term.maps_to:
            found = vocab.get(target)
            assert found is not None and found.category == term.category, term.id
