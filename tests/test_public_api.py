"""The public API is pinned: adding or removing a name is a deliberate, changelogged act."""

from __future__ import annotations

from importlib.metadata import version

import palermo


def test_all_is_pinned() -> None:
    assert sorted(palermo.__all__) == [
        "AccessDenied",
        "ConfigurationError",
        "DomainError",
        "FactsError",
        "ImportDataError",
        "InputError",
        "IntegrityError",
        "LawDataError",
        "LawLibrary",
        "NotFoundError",
        "PalermoError",
        "Workspace",
        "__version__",
        "default_library",
    ]


def test_every_public_name_resolves() -> None:
    for name in palermo.__all__:
        assert getattr(palermo, name) is not None


def test_version_matches_the_package_metadata() -> None:
    assert palermo.__version__ == version("palermo")


def test_error_tree_maps_bad_input_to_exit_2_and_domain_failures_to_1() -> None:
    assert issubclass(palermo.LawDataError, palermo.InputError)
    assert palermo.InputError.exit_code == 2
    assert palermo.IntegrityError.exit_code == 1
    assert issubclass(palermo.AccessDenied, palermo.DomainError)
