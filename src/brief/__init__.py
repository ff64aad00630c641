"""brief: tailored, sourced briefing packs rendered to HTML and PDF."""

__version__ = "0.1.0"
