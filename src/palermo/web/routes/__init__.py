"""One router per resource: pages (Jinja2 + htmx) here, the JSON API in :mod:`palermo.web.routes.api`."""
