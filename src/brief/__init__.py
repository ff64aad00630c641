"""brief: tailored, sourced briefing packs rendered to HTML and PDF."""

__version__ = "0.1.0"

# One number for the shape of every JSON document brief prints (build, check, publish, diff, ...):
# bump it when a field changes meaning or goes away, never for an added field.
JSON_FORMAT_VERSION = 2
