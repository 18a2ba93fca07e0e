"""Hypothesis profiles: "ci" (1000 examples, derandomized so every CI run draws the same
examples and a failure reproduces exactly) when the CI environment variable is set, "dev"
(100 examples, fresh ones each run) otherwise. Neither has a deadline: examples replay whole
markets."""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=1000, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
