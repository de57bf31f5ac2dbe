"""Page sections that may be unavailable, said plainly instead of faked or crashing the page.

The web app sits on layers built alongside it (analytics, the law engines). When one of them cannot
answer for this case, for example because the analysis has not been run yet, the page shows the
reason in that section and the rest of the page still works. Only anticipated failures are caught:
Palermo's own error tree, and a component missing from this build.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from palermo.errors import ConfigurationError, NotFoundError, PalermoError


@dataclass(frozen=True)
class Section:
    """A value for the template, or ``problem``: the sentence to show in its place."""

    value: Any = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Section:
    """Run ``fn``; a Palermo error or a missing component becomes a :class:`Section` with the reason."""
    try:
        return Section(fn(*args, **kwargs))
    except NotFoundError as exc:
        return Section(problem=f"Not available yet: {exc.message}")
    except ConfigurationError as exc:
        return Section(problem=f"Not available in this installation: {exc.message}")
    except PalermoError as exc:
        return Section(problem=str(exc))
    except ImportError as exc:
        return Section(problem=f"This part of Palermo is not installed yet ({type(exc).__name__}).")
