"""Tests of the web application (pages, API, auth, browser, fuzzing)."""
