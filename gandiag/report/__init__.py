"""Renderers: one module per output format. Findings hold numbers; renderers make text."""
